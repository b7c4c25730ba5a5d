"""Commit, idempotence, revisions, rollback and the recompute queue, through the service
the page and the command line share."""

import pytest

from indicators import services
from indicators.imports import problems as P
from indicators.models import Observation, RecomputeRequest, Return, ReturnEvent
from tests.unit.indicators.imports.samples import long_csv


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def commit(plymouth, data, user=None, **kwargs):
    return services.return_commit(
        data=data,
        file_name="return.csv",
        system=plymouth,
        options=services.ImportOptions(),
        user=user,
        **kwargs,
    )


def current(key, area, period):
    return Observation.objects.get(
        indicator__key=key,
        indicator__system__slug="plymouth",
        area__code=area,
        period__label=period,
        is_current=True,
    )


def test_commit_writes_values_return_event_queue_and_keeps_the_file(
    plymouth, analyst, settings
):
    data = long_csv(
        (
            "dementia-diagnosis-rate",
            "99P",
            "Sep-17",
            "61.2",
            "",
            "",
            "",
            "",
            "Validated",
        ),
        ("looked-after-children", "E06000026", "2017/18 Q3", "405"),
    )

    outcome = commit(plymouth, data, user=analyst)

    the_return = outcome.the_return
    assert (the_return.kind, the_return.status, the_return.uploaded_by) == (
        "upload",
        "committed",
        analyst,
    )
    assert (
        the_return.new_count,
        the_return.revised_count,
        the_return.unchanged_count,
    ) == (2, 0, 0)
    assert the_return.sha256
    assert the_return.file.name.startswith("returns/")
    with the_return.file.open("rb") as kept:
        assert kept.read() == data
    value = current("dementia-diagnosis-rate", "99P", "Sep-17")
    assert (value.value, value.note, value.source_return) == (
        61.2,
        "Validated",
        the_return,
    )
    assert set(
        RecomputeRequest.objects.filter(source_return=the_return).values_list(
            "indicator__key", "area__code", "processed_at"
        )
    ) == {
        ("dementia-diagnosis-rate", "99P", None),
        ("looked-after-children", "E06000026", None),
    }
    assert list(
        ReturnEvent.objects.filter(source_return=the_return).values_list(
            "action", "actor"
        )
    ) == [("committed", analyst.pk)]


def test_one_bad_row_among_a_thousand_writes_nothing(plymouth):
    rows = [
        (
            "looked-after-children",
            "E06000026",
            f"{1900 + i // 4}/{1901 + i // 4} Q{i % 4 + 1}",
            str(i),
        )
        for i in range(1000)
    ]
    rows.insert(500, ("looked-after-children", "E06000026", "1899/1900 Q1", "twelve"))
    before = (
        Observation.objects.count(),
        Return.objects.count(),
        RecomputeRequest.objects.count(),
    )

    with pytest.raises(services.ReturnHasProblems) as caught:
        commit(plymouth, long_csv(*rows))

    assert [(p.row, p.column, p.code) for p in caught.value.problems] == [
        (502, "Value", P.NOT_A_NUMBER)
    ]
    assert (
        Observation.objects.count(),
        Return.objects.count(),
        RecomputeRequest.objects.count(),
    ) == before


def test_the_same_file_twice_changes_nothing_and_says_so(plymouth):
    data = long_csv(("dementia-diagnosis-rate", "99P", "Sep-17", "61.2"))
    commit(plymouth, data)
    counts = (
        Observation.objects.count(),
        Return.objects.count(),
        RecomputeRequest.objects.count(),
    )

    preview = services.return_preview(
        data=data,
        file_name="again.csv",
        system=plymouth,
        options=services.ImportOptions(),
    )
    again = commit(plymouth, data)

    assert (
        preview.new,
        preview.revised,
        preview.unchanged,
        preview.changes_nothing,
    ) == (0, 0, 1, True)
    assert again.changed_nothing
    assert again.the_return is None
    assert (
        Observation.objects.count(),
        Return.objects.count(),
        RecomputeRequest.objects.count(),
    ) == counts


def test_a_revision_keeps_the_earlier_version(plymouth, analyst):
    published = current("iapt-recovery-rate", "E06000026", "Aug-17")

    preview = services.return_preview(
        data=long_csv(("iapt-recovery-rate", "E06000026", "Aug-17", "41.0")),
        file_name="r.csv",
        system=plymouth,
        options=services.ImportOptions(),
    )
    outcome = commit(
        plymouth,
        long_csv(("iapt-recovery-rate", "E06000026", "Aug-17", "41.0")),
        user=analyst,
    )

    assert preview.revised == 1
    assert preview.samples()["revised"][0] | {"note": ""} == {
        "sheet": "", "row": 2, "indicator": "iapt-recovery-rate", "indicator_title": published.indicator.title,
        "area": "E06000026", "period": "Aug-17", "breakdown": "", "value": "41", "old_value": "39.5", "note": "",
    }  # fmt: skip
    published.refresh_from_db()
    new = current("iapt-recovery-rate", "E06000026", "Aug-17")
    assert new.value == 41.0
    assert new.source_return == outcome.the_return
    assert (published.is_current, published.value, published.superseded_by) == (
        False,
        39.5,
        new,
    )
    assert published.superseded_at is not None
    assert list(new.earlier_versions.all()) == [published]


def test_rollback_restores_what_was_there_before(plymouth, analyst):
    published = current("iapt-recovery-rate", "E06000026", "Aug-17")
    outcome = commit(
        plymouth,
        long_csv(
            ("iapt-recovery-rate", "E06000026", "Aug-17", "41.0"),
            ("iapt-recovery-rate", "E06000026", "Sep-17", "40.0"),
        ),
        user=analyst,
    )

    services.return_rollback(the_return=outcome.the_return, user=analyst)

    assert current("iapt-recovery-rate", "E06000026", "Aug-17") == published
    assert not Observation.objects.filter(
        indicator=published.indicator, period__label="Sep-17", is_current=True
    ).exists()
    the_return = Return.objects.get(pk=outcome.the_return.pk)
    assert (the_return.status, the_return.rolled_back_by) == ("rolled_back", analyst)
    assert (
        Observation.objects.filter(source_return=the_return).count() == 2
    )  # kept, withdrawn
    assert list(the_return.events.values_list("action", flat=True)) == [
        "committed",
        "rolled_back",
    ]
    assert (
        RecomputeRequest.objects.filter(
            source_return=the_return, reason="rollback"
        ).count()
        == 1
    )
    with pytest.raises(services.RollbackRefused, match=P.ALREADY_ROLLED_BACK):
        services.return_rollback(the_return=the_return, user=analyst)


def test_rollback_of_an_older_return_leaves_a_later_revision_standing(
    plymouth, analyst
):
    first = commit(
        plymouth,
        long_csv(("iapt-recovery-rate", "E06000026", "Sep-17", "40.0")),
        user=analyst,
    )
    second = commit(
        plymouth,
        long_csv(("iapt-recovery-rate", "E06000026", "Sep-17", "40.5")),
        user=analyst,
    )

    services.return_rollback(the_return=first.the_return, user=analyst)
    assert current("iapt-recovery-rate", "E06000026", "Sep-17").value == 40.5
    services.return_rollback(the_return=second.the_return, user=analyst)

    assert not Observation.objects.filter(
        indicator__key="iapt-recovery-rate",
        indicator__system__slug="plymouth",
        period__label="Sep-17",
        is_current=True,
    ).exists()


def test_commit_refuses_when_the_values_changed_after_the_preview(plymouth):
    data = long_csv(("iapt-recovery-rate", "E06000026", "Aug-17", "41.0"))
    preview = services.return_preview(
        data=data, file_name="r.csv", system=plymouth, options=services.ImportOptions()
    )
    commit(
        plymouth, long_csv(("iapt-recovery-rate", "E06000026", "Aug-17", "40.0"))
    )  # someone else
    before = Observation.objects.count()

    with pytest.raises(services.PreviewOutOfDate, match="changed after this preview"):
        commit(plymouth, data, expected_fingerprint=preview.fingerprint)

    assert Observation.objects.count() == before
    assert current("iapt-recovery-rate", "E06000026", "Aug-17").value == 40.0


def test_commit_applies_what_was_previewed(plymouth):
    data = long_csv(("iapt-recovery-rate", "E06000026", "Aug-17", "41.0"))
    preview = services.return_preview(
        data=data, file_name="r.csv", system=plymouth, options=services.ImportOptions()
    )

    outcome = commit(plymouth, data, expected_fingerprint=preview.fingerprint)

    assert outcome.preview.fingerprint == preview.fingerprint
    assert outcome.the_return.revised_count == 1


def test_fractions_are_stored_as_percentages_and_the_return_says_so(plymouth):
    outcome = commit(
        plymouth,
        long_csv(
            ("dementia-diagnosis-rate", "99P", "Sep-17", "0.612"),
            ("dementia-diagnosis-rate", "99P", "Oct-17", "0.62"),
        ),
    )

    assert current("dementia-diagnosis-rate", "99P", "Sep-17").value == 61.2
    assert "fractions" in outcome.the_return.value_convention


def test_series_history_shows_the_revision(plymouth, analyst, client):
    commit(
        plymouth,
        long_csv(("iapt-recovery-rate", "E06000026", "Aug-17", "41.0")),
        user=analyst,
    )
    value = current("iapt-recovery-rate", "E06000026", "Aug-17")
    client.force_login(analyst)

    response = client.get(f"/returns/series/{value.indicator_id}/{value.area_id}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="app-tag-revised">revised</span></td>') == 1
    assert "39.5" in page
    assert "41.0" in page


@pytest.mark.postgres
def test_large_commit_uses_copy_and_rolls_back(plymouth):
    rows = [
        (
            "looked-after-children",
            "E06000026",
            f"{1000 + i // 4}/{1001 + i // 4} Q{i % 4 + 1}",
            str(i),
        )
        for i in range(6000)
    ]

    outcome = commit(plymouth, long_csv(*rows))

    assert (
        Observation.objects.filter(
            source_return=outcome.the_return, is_current=True
        ).count()
        == 6000
    )
    services.return_rollback(the_return=outcome.the_return, user=None)
    assert not Observation.objects.filter(
        source_return=outcome.the_return, is_current=True
    ).exists()
