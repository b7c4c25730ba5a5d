"""The read endpoints against the database: what they return, to whom, in how many
queries, with validators, CSV and problem details."""

import csv
import gzip
import io
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from actions.models import Action, ActionPlan, ProgressReport
from commissioning.api.renderers import safe_cell
from indicators.models import (
    Area,
    Indicator,
    IndicatorAssignment,
    Observation,
    Period,
    Return,
)
from scorecard.models import (
    ExceptionCommentary,
    ExceptionFlag,
    PublishedOverviewRow,
    SeriesResult,
    Stocktake,
)
from scorecard.selectors.pages import strategy_overview
from scorecard.services.recompute import recompute
from strategies.models import Strategy, SystemRole
from tests.conftest import make_user


def queries(client, url) -> int:
    cache.clear()  # measure the uncached path (the scorecard pages' cache is shared)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.fixture
def reader(bearer, viewer):
    return bearer(viewer)


def wellbeing(plymouth) -> Strategy:
    return plymouth.strategies.get(slug="wellbeing")


# --------------------------------------------------------------------------- contents


def test_systems_and_strategies_are_the_users_own(reader, plymouth):
    systems = reader.get("/api/v1/systems/").json()
    assert [s["slug"] for s in systems["results"]] == ["plymouth"]
    assert systems["results"][0]["strategy_label"] == plymouth.strategy_label
    strategies = reader.get("/api/v1/systems/plymouth/strategies/").json()
    assert [s["slug"] for s in strategies["results"]] == list(
        plymouth.strategies.order_by("number").values_list("slug", flat=True)
    )
    first = strategies["results"][0]
    strategy = Strategy.objects.get(system=plymouth, slug=first["slug"])
    assert [i["id"] for i in first["items"]] == list(
        strategy.items.order_by("level__position", "position").values_list(
            "id", flat=True
        )
    )
    assert {i["level"] for i in first["items"]} <= set(
        plymouth.levels.values_list("slug", flat=True)
    )


def test_torbay_priority_areas_use_its_own_levels(bearer, torbay):
    client = bearer(make_user("tv", system=torbay, role=SystemRole.Role.VIEWER))
    body = client.get("/api/v1/systems/torbay-south-devon/strategies/").json()
    assert body["count"] == torbay.strategies.count() == 12
    detail = client.get("/api/v1/systems/torbay-south-devon/").json()
    assert detail["strategy_label"] == torbay.strategy_label


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/systems/torbay-south-devon/",
        "/api/v1/systems/torbay-south-devon/strategies/",
        "/api/v1/systems/plymouth/strategies/no-such-strategy/",
        "/api/v1/scorecard/torbay-south-devon/{torbay_strategy}/",
        "/api/v1/indicators/{torbay_indicator}/",
        "/api/v1/indicators/{torbay_indicator}/series/",
        "/api/v1/actions/{torbay_action}/",
        "/api/v1/returns/{torbay_return}/",
    ],
)
def test_another_systems_ids_are_404(reader, torbay, url):
    strategy = torbay.strategies.first()
    plan = ActionPlan.objects.create(system=torbay, slug="t", name="Torbay plan")
    action = Action.objects.create(plan=plan, strategy=strategy, title="Torbay action")
    the_return = Return.objects.create(
        system=torbay, kind="seed", title="Torbay return"
    )
    ids = {
        "torbay_strategy": strategy.slug,
        "torbay_indicator": Indicator.objects.filter(system=torbay).first().pk,
        "torbay_action": action.pk,
        "torbay_return": the_return.pk,
    }
    response = reader.get(url.format(**ids))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_lists_hide_other_systems(reader, torbay):
    torbay_ids = set(
        Indicator.objects.filter(system=torbay).values_list("pk", flat=True)
    )
    body = reader.get("/api/v1/indicators/?page_size=1000").json()
    assert torbay_ids.isdisjoint(i["id"] for i in body["results"])
    assert body["count"] == Indicator.objects.filter(system__slug="plymouth").count()
    for url in ["/api/v1/exceptions/", "/api/v1/actions/", "/api/v1/returns/"]:
        for row in reader.get(url + "?page_size=1000").json()["results"]:
            assert row["system"] == "plymouth"


def test_indicator_filters(reader, plymouth):
    strategy = wellbeing(plymouth)
    body = reader.get(
        f"/api/v1/indicators/?strategy={strategy.slug}&page_size=1000"
    ).json()
    assert {i["id"] for i in body["results"]} == set(
        IndicatorAssignment.objects.filter(strategy=strategy).values_list(
            "indicator_id", flat=True
        )
    )
    body = reader.get("/api/v1/indicators/?source_framework=PHOF&page_size=1000").json()
    assert (
        body["count"]
        == Indicator.objects.filter(system=plymouth, source_framework="PHOF").count()
    )
    flagged = set(
        ExceptionFlag.objects.filter(
            indicator__system=plymouth, cleared_at__isnull=True, breakdown=""
        ).values_list("indicator_id", flat=True)
    )
    on_report = reader.get(
        "/api/v1/indicators/?on_exception_report=true&page_size=1000"
    ).json()
    assert {i["id"] for i in on_report["results"]} <= flagged
    assert all(i["headline"]["on_exception_report"] for i in on_report["results"])
    bad = reader.get("/api/v1/indicators/?status=sideways&source_framework=XX")
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"status", "source_framework"}


def test_series_values_and_flags_match_the_database(reader, plymouth):
    result = (
        SeriesResult.objects.filter(
            indicator__system=plymouth, method="spc", breakdown=""
        )
        .select_related("area", "indicator")
        .first()
    )
    url = f"/api/v1/indicators/{result.indicator_id}/series/?area={result.area.code}"
    body = reader.get(url).json()
    (series,) = [s for s in body["series"] if s["breakdown"] == ""]
    current = Observation.objects.filter(
        indicator=result.indicator, area=result.area, is_current=True, breakdown=""
    ).order_by("period__start")
    assert [v["value"] for v in series["values"]] == [o.value for o in current]
    assert [v["source_return"]["id"] for v in series["values"]] == [
        o.source_return_id for o in current
    ]
    flags = series["flags"]
    assert flags["method"] == "spc"
    assert flags["spc"]["variation"] == result.variation
    assert flags["spc"]["groups"] == result.spc["groups"]
    open_rules = set(
        ExceptionFlag.objects.filter(
            indicator=result.indicator, area=result.area, cleared_at__isnull=True
        ).values_list("rule", flat=True)
    )
    assert {r["rule"] for r in flags["exception"]["rules"]} == open_rules


def test_scorecard_rows_are_the_overview_rows(reader, plymouth):
    strategy = wellbeing(plymouth)
    body = reader.get(f"/api/v1/scorecard/plymouth/{strategy.slug}/").json()
    rows = strategy_overview(strategy).rows
    assert [r["indicator"]["id"] for r in body["rows"]] == [
        r.indicator.pk for r in rows
    ]
    assert [(r["aim"] or {}).get("id") for r in body["rows"]] == [
        r.group.pk if r.group else None for r in rows
    ]
    for got, row in zip(body["rows"], rows, strict=True):
        result = row.result
        assert got["last_value"] == (result.latest_value if result else None)
        assert got["status"] == row.status
        assert got["exception"]["on_report"] == bool(row.rules)
    assert body["strategy_label"] == plymouth.strategy_label
    # Every indicator of the strategy appears once.
    assert sorted(r["indicator"]["id"] for r in body["rows"]) == sorted(
        IndicatorAssignment.objects.filter(strategy=strategy).values_list(
            "indicator_id", flat=True
        )
    )


def test_scorecard_as_at_uses_only_what_was_known_then(reader, plymouth):
    strategy = wellbeing(plymouth)
    now = reader.get(f"/api/v1/scorecard/plymouth/{strategy.slug}/").json()
    then = reader.get(
        f"/api/v1/scorecard/plymouth/{strategy.slug}/?as_at=2017-10-31"
    ).json()
    assert then["as_at"] == "2017-10-31"
    ends = dict(Period.objects.values_list("label", "end"))
    for row in then["rows"]:
        for label, _value in row["sparkline"]:
            assert ends[label] <= date(2017, 10, 31)
    # Today's as_at is the current scorecard recomputed: the same values.
    today = reader.get(
        f"/api/v1/scorecard/plymouth/{strategy.slug}/?as_at={timezone.localdate()}"
    ).json()
    assert [r["last_value"] for r in today["rows"]] == [
        r["last_value"] for r in now["rows"]
    ]
    assert [r["variation"] for r in today["rows"]] == [
        r["variation"] for r in now["rows"]
    ]
    future = timezone.localdate() + timedelta(days=2)
    bad = reader.get(f"/api/v1/scorecard/plymouth/{strategy.slug}/?as_at={future}")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "as_at"


def test_published_stocktake_as_published(reader, plymouth):
    stocktake = Stocktake.objects.get(system=plymouth)
    listed = reader.get("/api/v1/stocktakes/").json()["results"]
    assert [s["id"] for s in listed] == [stocktake.pk]
    body = reader.get(f"/api/v1/stocktakes/{stocktake.pk}/").json()
    published = PublishedOverviewRow.objects.filter(stocktake=stocktake).order_by(
        "strategy__number", "position"
    )
    assert [(r["indicator_text"], r["last_value_text"]) for r in body["rows"]] == [
        (p.indicator_text, p.last_value_text) for p in published
    ]


def test_exceptions_carry_their_commentary(reader, plymouth):
    body = reader.get("/api/v1/exceptions/?page_size=1000").json()
    assert (
        body["count"]
        == ExceptionFlag.objects.filter(
            indicator__system=plymouth, cleared_at__isnull=True
        ).count()
    )
    for row in body["results"]:
        expected = list(
            ExceptionCommentary.objects.filter(indicator_id=row["indicator"]["id"])
            .order_by("-dated", "position")
            .values_list("pk", flat=True)
        )
        assert [c["id"] for c in row["commentary"]] == expected
        assert row["reason"]


def test_actions_with_progress(reader, plymouth):
    body = reader.get("/api/v1/actions/?page_size=1000").json()
    assert body["count"] == Action.objects.filter(plan__system=plymouth).count()
    for row in body["results"]:
        assert [p["id"] for p in row["progress"]] == list(
            ProgressReport.objects.filter(action_id=row["id"])
            .order_by("date", "position")
            .values_list("pk", flat=True)
        )


# --------------------------------------------------------------------------- CSV


def test_scorecard_csv_matches_json(reader, plymouth):
    strategy = wellbeing(plymouth)
    url = f"/api/v1/scorecard/plymouth/{strategy.slug}/"
    data = reader.get(url).json()
    response = reader.get(url + "?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["indicator_key"] for r in rows] == [
        r["indicator"]["key"] for r in data["rows"]
    ]
    by_accept = reader.get(url, HTTP_ACCEPT="text/csv")
    assert by_accept.content == response.content


def test_series_csv_is_safe_from_formula_injection(reader, plymouth):
    observation = Observation.objects.filter(
        indicator__system=plymouth, is_current=True
    ).first()
    observation.note = '=HYPERLINK("http://evil")'
    observation.save(update_fields=["note"])
    response = reader.get(
        f"/api/v1/indicators/{observation.indicator_id}/series/?format=csv"
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    notes = [r["note"] for r in rows if r["note"]]
    assert '\'=HYPERLINK("http://evil")' in notes
    assert not any(n.startswith("=") for n in notes)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+x", "'+x"), ("-x", "'-x"), ("@x", "'@x"), ("\tx", "'\tx"),
     ("\rx", "'\rx"), ("plain", "plain"), (-1.5, "-1.5"), (None, ""), (True, "true")],
)  # fmt: skip
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_csv_error_is_a_problem_not_csv(reader):
    response = reader.get("/api/v1/scorecard/plymouth/nowhere/?format=csv")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


# --------------------------------------------------------------------------- HTTP


def test_etag_and_last_modified_give_304(reader, plymouth):
    url = f"/api/v1/scorecard/plymouth/{wellbeing(plymouth).slug}/"
    first = reader.get(url)
    etag = first["ETag"]
    assert etag
    assert first["Last-Modified"]
    assert reader.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert (
        reader.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code
        == 304
    )
    # A change in the data changes the answer's ETag.
    recompute()
    result = SeriesResult.objects.filter(
        indicator__assignments__strategy__slug="wellbeing", breakdown=""
    ).first()
    SeriesResult.objects.filter(pk=result.pk).update(latest_value=123456.0)
    changed = reader.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_etag_on_lists(reader):
    first = reader.get("/api/v1/indicators/")
    assert (
        reader.get("/api/v1/indicators/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code
        == 304
    )


def test_gzip_when_asked(reader):
    response = reader.get(
        "/api/v1/indicators/?page_size=1000", HTTP_ACCEPT_ENCODING="gzip"
    )
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content).startswith(b'{"count"')


def test_throttled_per_token(monkeypatch, bearer, viewer):
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**SimpleRateThrottle.THROTTLE_RATES, "api": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    one, two = bearer(viewer), bearer(viewer)
    codes = [one.get("/api/v1/systems/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    throttled = one.get("/api/v1/systems/")
    assert throttled["Content-Type"] == "application/problem+json"
    assert "Retry-After" in throttled
    # Another token of the same user has its own budget.
    assert two.get("/api/v1/systems/").status_code == 200


# --------------------------------------------------------------------------- queries


def _more_indicators(plymouth, strategy, n, start):
    england = Area.objects.get(code="E92000001")
    period = Period.objects.filter(kind="financial_year").first()
    the_return = Return.objects.filter(system=plymouth).first()
    item = strategy.items.first()
    for i in range(start, start + n):
        indicator = Indicator.objects.create(
            system=plymouth,
            key=f"extra-{i}",
            title=f"Extra {i}",
            source_framework="LOCAL",
            measure_type="count",
            period_type="financial_year",
        )
        IndicatorAssignment.objects.create(
            indicator=indicator, strategy=strategy, position=100 + i
        )
        indicator.framework_items.add(item)
        Observation.objects.create(
            indicator=indicator, area=plymouth.home_area or england, period=period,
            value=i, source_return=the_return,
        )  # fmt: skip


def _more_actions(plymouth, strategy, n, start):
    plan = ActionPlan.objects.filter(system=plymouth).first()
    indicator = Indicator.objects.filter(system=plymouth).first()
    for i in range(start, start + n):
        action = Action.objects.create(
            plan=plan, strategy=strategy, position=500 + i, title=f"Action {i}"
        )
        action.indicators.add(indicator)
        ProgressReport.objects.create(action=action, date=date(2017, 10, 1), text="ok")


def _more_commentary(strategy, n, start):
    indicator = strategy.indicators.first()
    for i in range(start, start + n):
        ExceptionCommentary.objects.create(
            strategy=strategy, indicator=indicator, heading=f"H {i}",
            text="<p>t</p>", dated=date(2017, 10, 31),
        )  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/indicators/?page_size=1000",
        "/api/v1/indicators/?on_exception_report=false&page_size=1000",
        "/api/v1/scorecard/plymouth/wellbeing/",
        "/api/v1/scorecard/plymouth/wellbeing/?as_at=2017-10-31",
        "/api/v1/scorecard/plymouth/wellbeing/?format=csv",
        "/api/v1/actions/?page_size=1000",
        "/api/v1/exceptions/?page_size=1000&include_cleared=true",
        "/api/v1/commentary/?page_size=1000",
        "/api/v1/systems/plymouth/strategies/",
        "/api/v1/returns/?page_size=1000",
        "/api/v1/stocktakes/",
    ],
)
def test_queries_stay_fixed_as_rows_grow(
    reader, plymouth, url, django_assert_max_num_queries
):
    strategy = wellbeing(plymouth)
    before = queries(reader, url)
    _more_indicators(plymouth, strategy, 3, 0)
    _more_actions(plymouth, strategy, 3, 0)
    _more_commentary(strategy, 3, 0)
    recompute()
    middle = queries(reader, url)
    _more_indicators(plymouth, strategy, 12, 3)
    _more_actions(plymouth, strategy, 12, 3)
    _more_commentary(strategy, 12, 3)
    recompute()
    cache.clear()
    with django_assert_max_num_queries(middle):
        after = reader.get(url)
    assert after.status_code == 200
    assert (
        middle <= before + 1
    )  # the first call may differ by the token's last-used write
    assert queries(reader, url) == middle


def test_series_queries_fixed_as_values_grow(
    reader, plymouth, django_assert_max_num_queries
):
    indicator = Indicator.objects.filter(
        system=plymouth, observations__isnull=False
    ).first()
    url = f"/api/v1/indicators/{indicator.pk}/series/"
    reader.get(url)
    count = queries(reader, url)
    the_return = Return.objects.filter(system=plymouth).first()
    areas = list(Area.objects.exclude(observations__indicator=indicator)[:5])
    periods = list(Period.objects.filter(kind=indicator.period_type)[:6])
    Observation.objects.bulk_create(
        Observation(
            indicator=indicator, area=a, period=p, value=1.0, source_return=the_return
        )
        for a in areas
        for p in periods
    )
    recompute(indicator_ids=[indicator.pk])
    with django_assert_max_num_queries(count):
        body = reader.get(url).json()
    assert len(body["series"]) >= len(areas)


def test_anonymous_user_sees_nothing_even_with_ids(db):
    response = APIClient().get("/api/v1/indicators/1/")
    assert response.status_code == 401


def test_a_stocktake_published_from_the_application_is_served_frozen(
    reader, plymouth, analyst
):
    from datetime import timedelta

    from scorecard.models import ReportingCycle, SnapshotRow
    from scorecard.services.publishing import stocktake_publish

    today = timezone.localdate()
    cycle = ReportingCycle.objects.create(
        system=plymouth,
        title="Q3 API",
        opens=today - timedelta(days=30),
        deadline=today,
    )
    stocktake = stocktake_publish(cycle=cycle, user=analyst)
    body = reader.get(f"/api/v1/stocktakes/{stocktake.pk}/").json()
    frozen = SnapshotRow.objects.filter(stocktake=stocktake).order_by(
        "kind", "strategy__number", "position"
    )
    assert len(body["snapshot"]) == frozen.count() > 0
    assert [r["data"] for r in body["snapshot"]] == [r.data for r in frozen]
    # Frozen: the data changing afterwards does not change the stocktake.
    SeriesResult.objects.filter(indicator__system=plymouth).update(latest_value=-1.0)
    again = reader.get(f"/api/v1/stocktakes/{stocktake.pk}/").json()
    assert again["snapshot"] == body["snapshot"]
