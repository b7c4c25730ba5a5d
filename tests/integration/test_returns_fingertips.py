"""A Fingertips download: England and several local areas, breakdowns skipped and counted,
unknown areas created, and national indicators brought in on request."""

from pathlib import Path

import pytest

from indicators import services
from indicators.imports import problems as P
from indicators.models import Area, Indicator, Observation

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "examples"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def load(name, system=None, **options):
    return services.return_commit(
        data=(EXAMPLES / name).read_bytes(),
        file_name=name,
        system=system,
        options=services.ImportOptions(**options),
    )


def test_smoking_download_loads_england_and_local_areas(plymouth):
    assert not Area.objects.filter(code="E06000052").exists()

    outcome = load("fingertips-smoking-prevalence.csv")

    preview = outcome.preview
    assert preview.system == plymouth
    assert preview.system_inferred
    assert preview.parse.format == "fingertips"
    assert (preview.new, preview.revised, preview.unchanged, preview.skipped) == (
        18,
        0,
        0,
        4,
    )
    assert dict(preview.parse.skipped_reasons) == {
        "Breakdown not used by smoking-prevalence-adults": 3,
        "Repeated": 1,
    }
    assert [s.row for s in preview.parse.skipped] == [20, 21, 22, 23]
    cornwall = Area.objects.get(code="E06000052")
    assert (cornwall.name, cornwall.kind) == ("Cornwall", "unitary")
    values = dict(
        Observation.objects.filter(
            source_return=outcome.the_return, period__label="2018"
        ).values_list("area__code", "value")
    )
    assert values == {
        "E92000001": 14.4,
        "E12000009": 13.4,
        "E06000026": 16.9,
        "E06000027": 17.7,
        "E10000008": 11.8,
        "E06000052": 13.6,
    }
    england = Observation.objects.get(
        source_return=outcome.the_return, area__code="E92000001", period__label="2017"
    )
    assert (england.lower_ci, england.upper_ci, england.breakdown) == (14.7, 15.1, "")


def test_unknown_fingertips_indicators_are_problems_without_the_option(plymouth):
    with pytest.raises(services.ReturnHasProblems) as caught:
        load("fingertips-national-indicators.csv", system=plymouth)

    assert [(p.row, p.column, p.code) for p in caught.value.problems] == [
        (row, "Indicator ID", P.INDICATOR_UNKNOWN) for row in (2, 3, 4, 5)
    ]


def test_create_missing_indicators_brings_national_indicators_in(plymouth):
    outcome = load(
        "fingertips-national-indicators.csv",
        system=plymouth,
        create_missing_indicators=True,
    )

    created = Indicator.objects.filter(
        system=plymouth, fingertips_id__in=[93014, 90366]
    ).order_by("fingertips_id")
    assert [
        (i.key, i.measure_type, i.period_type, i.strategies.count()) for i in created
    ] == [
        ("fingertips-90366", "other", "multi_year", 0),
        ("fingertips-93014", "percentage", "calendar_year", 0),
    ]
    assert outcome.the_return.new_count == 4
    assert (
        Observation.objects.filter(
            indicator__in=created, area__code="E92000001"
        ).count()
        == 2
    )


def test_the_same_download_twice_changes_nothing(plymouth):
    load("fingertips-smoking-prevalence.csv")

    again = load("fingertips-smoking-prevalence.csv")

    assert again.changed_nothing
    assert (again.preview.unchanged, again.preview.skipped) == (18, 4)
