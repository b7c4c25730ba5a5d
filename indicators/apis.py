"""Indicators with their series and computed flags, and indicator returns: the list, one
return, its original file, and the writes analysts' scripts make (upload with a dry run,
commit a previewed upload by its id, roll back), through the same services as the pages.

Access: anything in a system the user holds no role in is a 404; returns' writes and
files need the analyst role (`can_manage_returns`), as on the returns pages.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import FileResponse
from django.utils.cache import get_conditional_response
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from commissioning.api.access import require_returns_manager
from commissioning.api.cached import cached_list, filter_names, ids_of
from commissioning.api.conditional import last_modified_header
from commissioning.api.problems import (
    PROBLEM_MEDIA_TYPE,
    Conflict,
    InvalidReturn,
    PreviewOutOfDate,
    problem_body,
)
from commissioning.api.renderers import CSVRenderer
from commissioning.api.schema import (
    FORMAT_PARAMETER,
    PAGE_PARAMETERS,
    ProblemSerializer,
    paginated,
    problems,
    read_responses,
)
from commissioning.api.selectors import (
    RULE_LABELS,
    RULE_METHODS,
    STATUS_ORDER,
    display_areas,
    display_areas_of,
    status_of,
)
from commissioning.api.throttling import ApiRateThrottle, UploadRateThrottle
from commissioning.api.views import ApiView
from commissioning.db import MAX_BIGINT
from indicators import selectors as indicator_selectors
from indicators import services
from indicators.analysis.comparison import METHOD_95 as COMPARISON_METHOD
from indicators.analysis.rag import RAG_METHOD, TRAVEL_METHOD
from indicators.analysis.spc import METHOD as SPC_METHOD
from indicators.analysis.trend import METHOD as TREND_METHOD
from indicators.imports import problems as P
from indicators.imports.preview import max_upload_bytes
from indicators.models import (
    Area,
    ImportJob,
    Indicator,
    IndicatorAssignment,
    Observation,
    Return,
)
from indicators.serializers import (
    IndicatorDetailSerializer,
    IndicatorSerializer,
    IndicatorSeriesSerializer,
    ReturnDetailSerializer,
    ReturnSerializer,
    UploadDetailSerializer,
    UploadSerializer,
    problem_dicts,
)
from scorecard.models import ExceptionFlag, SeriesResult
from strategies.models import ApiToken, FrameworkItem
from strategies.permissions import systems_visible_to

TAG_INDICATORS = "Indicators"


def api_sync_upload_max_bytes() -> int:
    """Uploads up to this size are checked (and committed) within the request."""
    return getattr(settings, "API_SYNC_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)


TAG_RETURNS = "Returns"
METHOD_LABELS = dict(SeriesResult.Method.choices)


# --------------------------------------------------------------------------- headlines


@dataclass
class Headline:
    area: Area
    method: str
    status: str
    latest_value: float | None
    latest_period: str | None
    variation: str
    assurance: str
    compared_with_england: str
    recent_trend: str
    rag: str
    on_exception_report: bool
    computed_at: object


# What a headline reads of a series: never its large JSON (spc, inputs, sparkline).
HEADLINE_COLUMNS = (
    "indicator", "area", "method", "latest_value", "variation", "assurance",
    "comparison", "trend", "direction", "rag", "computed_at",
    "area__code", "area__name", "area__kind", "latest_period", "latest_period__label",
)  # fmt: skip


def headlines(indicators: list[Indicator]) -> dict[int, Headline]:
    """Each indicator's scorecard series (the area its scorecard row shows) with its
    result. Three queries however many indicators, of however many systems (each
    indicator's `system` loaded with it, for its home area)."""
    areas = display_areas_of({i.pk: i.system.home_area_id for i in indicators})
    if not areas:
        return {}
    wanted = set(areas.items())
    results = {
        (r.indicator_id, r.area_id): r
        for r in SeriesResult.objects.filter(indicator_id__in=list(areas), breakdown="")
        .select_related("area", "latest_period")
        .only(*HEADLINE_COLUMNS)
        if (r.indicator_id, r.area_id) in wanted
    }
    flagged = {
        key
        for key in ExceptionFlag.objects.filter(
            indicator_id__in=list(areas), breakdown="", cleared_at__isnull=True
        ).values_list("indicator_id", "area_id")
        if key in wanted
    }
    out = {}
    for key, result in results.items():
        out[key[0]] = Headline(
            area=result.area,
            method=result.method,
            status=status_of(result),
            latest_value=result.latest_value,
            latest_period=result.latest_period.label if result.latest_period else None,
            variation=result.variation,
            assurance=result.assurance,
            compared_with_england=result.comparison,
            recent_trend=result.trend,
            rag=result.rag,
            on_exception_report=key in flagged,
            computed_at=result.computed_at,
        )
    return out


def _indicators_queryset(user):
    return (
        Indicator.objects.filter(system__in=systems_visible_to(user))
        .select_related("system", "system__home_area")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=IndicatorAssignment.objects.select_related(
                    "strategy"
                ).order_by("strategy__number"),
            ),
            Prefetch(
                "framework_items",
                queryset=FrameworkItem.objects.select_related(
                    "strategy", "level"
                ).order_by("strategy__number", "level__position", "position"),
            ),
        )
        .order_by("system__position", "title", "id")
    )


INDICATOR_EXAMPLE = {
    "id": 19,
    "system": "plymouth",
    "key": "rtt-18-weeks-incomplete",
    "code": "",
    "title": "Referral to treatment - Percentage seen within 18 weeks - Incomplete "
    "pathways",
    "source_framework": "NHSOF",
    "measure_type": "percentage",
    "unit": "%",
    "decimal_places": 1,
    "polarity": "higher_is_better",
    "period_type": "month",
    "url": "http://testserver/api/v1/indicators/19/",
    "series_url": "http://testserver/api/v1/indicators/19/series/",
    "local_source": "",
    "fingertips_id": None,
    "provider": "Plymouth Hospitals NHS Trust",
    "data_owner": "",
    "strategies": [
        {
            "system": "plymouth",
            "strategy": "wellbeing",
            "name": "Wellbeing",
            "polarity": "higher_is_better",
        }
    ],
    "framework_items": [
        {
            "id": 7,
            "strategy": "wellbeing",
            "level": "aim",
            "key": "2",
            "number": 2,
            "title": "Improve people's experience of care",
        }
    ],
    "headline": {
        "area": {
            "code": "RK9",
            "name": "Plymouth Hospitals NHS Trust",
            "kind": "trust",
        },
        "method": "spc",
        "status": "concern",
        "latest_value": 81.2,
        "latest_period": "Aug-17",
        "variation": "special_cause_concern",
        "assurance": "consistently_fails",
        "compared_with_england": "",
        "recent_trend": "",
        "rag": "Red",
        "on_exception_report": True,
        "computed_at": "2017-10-31T02:30:00Z",
    },
}


class IndicatorListApi(ApiView):
    class FilterSerializer(serializers.Serializer):
        system = serializers.SlugField(required=False, help_text="A system's slug")
        strategy = serializers.SlugField(
            required=False, help_text="A strategy's slug (indicators assigned to it)"
        )
        element = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=MAX_BIGINT,
            help_text="A framework item's id (an aim, element or milestone): the "
            "indicators linked to it",
        )
        source_framework = serializers.ChoiceField(
            choices=Indicator.SourceFramework.choices, required=False
        )
        fingertips_id = serializers.IntegerField(
            required=False, min_value=0, max_value=MAX_BIGINT
        )
        status = serializers.ChoiceField(
            choices=STATUS_ORDER,
            required=False,
            help_text="The scorecard status of the indicator's headline series",
        )
        rag = serializers.ChoiceField(
            choices=["red", "amber", "green", "none"],
            required=False,
            help_text="RAG of the headline series against its target (none: no target)",
        )
        on_exception_report = serializers.BooleanField(
            required=False,
            allow_null=True,
            default=None,
            help_text="true: only indicators on the exception report; false: only "
            "those not on it",
        )
        q = serializers.CharField(
            required=False, max_length=100, help_text="Words in the title, code or key"
        )

    @extend_schema(
        tags=[TAG_INDICATORS],
        operation_id="indicators_list",
        summary="Indicators, with the headline of their scorecard series",
        description=(
            "Every indicator of the systems you hold a role in, with the strategies and "
            "framework items (aims, elements, milestones) it serves and the headline of "
            "its scorecard series (the area the strategy page shows): method, status, "
            "latest value, variation and assurance, comparison with England, recent "
            "trend, RAG and whether it is on the exception report. Filters combine "
            "(AND). Paginated. A fixed number of queries however many indicators."
        ),
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses=read_responses(paginated(IndicatorSerializer), 400, 404),
        examples=[
            OpenApiExample("Indicators", value=INDICATOR_EXAMPLE, response_only=True)
        ],
    )
    def get(self, request):
        f = self.filters(self.FilterSerializer)
        # Who sees what: the indicators of the systems the user holds a role in. Asked
        # on every request; the cached answer is kept per set of systems.
        systems = ids_of(systems_visible_to(request.user))
        return cached_list(
            request,
            "indicators",
            systems,
            lambda: self.paginated_rows(
                _indicator_list(systems, f), lambda page: indicator_rows(request, page)
            ),
            params=filter_names(self.FilterSerializer),
        )


# The columns an indicator's list row shows (never its definition, aliases or
# breakdowns), with its system's slug and home area (which series is its headline).
INDICATOR_COLUMNS = (
    "id", "key", "code", "title", "source_framework", "measure_type", "unit",
    "decimal_places", "polarity", "period_type", "local_source", "fingertips_id",
    "provider", "data_owner", "system", "system__slug", "system__home_area",
)  # fmt: skip


def _indicator_list(systems: list[int], f: dict):
    """The indicators the list pages through, in the list's order. Filters on related
    rows are subqueries, so that no row repeats and no DISTINCT is needed."""
    queryset = Indicator.objects.filter(system_id__in=systems)
    if f.get("system"):
        queryset = queryset.filter(system__slug=f["system"])
    if f.get("strategy"):
        queryset = queryset.filter(
            pk__in=IndicatorAssignment.objects.filter(
                strategy__slug=f["strategy"]
            ).values("indicator_id")
        )
    if f.get("element"):
        queryset = queryset.filter(
            pk__in=Indicator.framework_items.through.objects.filter(
                frameworkitem_id=f["element"]
            ).values("indicator_id")
        )
    if f.get("source_framework"):
        queryset = queryset.filter(source_framework=f["source_framework"])
    if f.get("fingertips_id") is not None:
        queryset = queryset.filter(fingertips_id=f["fingertips_id"])
    if f.get("q"):
        words = f["q"]
        queryset = queryset.filter(
            Q(title__icontains=words)
            | Q(code__icontains=words)
            | Q(key__icontains=words)
        )
    if f.get("status") or f.get("rag") or f.get("on_exception_report") is not None:
        queryset = queryset.filter(pk__in=_by_headline(queryset, f))
    return (
        queryset.select_related("system")
        .only(*INDICATOR_COLUMNS)
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=IndicatorAssignment.objects.select_related("strategy")
                .only("indicator", "polarity", "strategy__slug", "strategy__name")
                .order_by("strategy__number"),
            ),
            Prefetch(
                "framework_items",
                queryset=FrameworkItem.objects.select_related("strategy", "level")
                .only("key", "number", "title", "strategy__slug", "level__slug")
                .order_by("strategy__number", "level__position", "position"),
            ),
        )
        .order_by("system__position", "title", "id")
    )


def _by_headline(queryset, f) -> list[int]:
    """The ids among `queryset` whose headline series passes the status, RAG and
    exception report filters (the status is the analysis', not a column)."""
    candidates = list(queryset.select_related("system").only("id", "system__home_area"))
    found = headlines(candidates)
    keep = []
    for indicator in candidates:
        h = found.get(indicator.pk)
        if f.get("status") and (h.status if h else "no_data") != f["status"]:
            continue
        if f.get("rag"):
            rag = (h.rag or "none").lower() if h and h.latest_value is not None else ""
            if rag != f["rag"]:
                continue
        if f.get("on_exception_report") is not None and bool(
            h and h.on_exception_report
        ) != bool(f["on_exception_report"]):
            continue
        keep.append(indicator.pk)
    return keep


def _address(name: str, request):
    """pk -> the absolute address of that indicator's `name` endpoint, as DRF's
    `reverse` gives it, reversed once rather than once per row."""
    sentinel = "987654321987654321"
    url = reverse(f"api:{name}", kwargs={"pk": int(sentinel)}, request=request)
    head, _, tail = url.rpartition(sentinel)
    return lambda pk: f"{head}{pk}{tail}"


_stamp = serializers.DateTimeField().to_representation


def headline_row(h: Headline | None) -> dict | None:
    """As `HeadlineSerializer` gives it."""
    if h is None:
        return None
    return {
        "area": {"code": h.area.code, "name": h.area.name, "kind": h.area.kind},
        "method": h.method,
        "status": h.status,
        "latest_value": h.latest_value,
        "latest_period": h.latest_period,
        "variation": h.variation,
        "assurance": h.assurance,
        "compared_with_england": h.compared_with_england,
        "recent_trend": h.recent_trend,
        "rag": h.rag,
        "on_exception_report": h.on_exception_report,
        "computed_at": _stamp(h.computed_at),
    }


def indicator_rows(request, page: list[Indicator]) -> list[dict]:
    """The page as `IndicatorSerializer` gives it, built by hand (the serializers cost
    more than the queries), with each indicator's headline."""
    found = headlines(page)
    detail_url = _address("indicator-detail", request)
    series_url = _address("indicator-series", request)
    rows = []
    for i in page:
        system = i.system.slug
        rows.append(
            {
                "id": i.pk,
                "system": system,
                "key": i.key,
                "code": i.code,
                "title": i.title,
                "source_framework": i.source_framework,
                "measure_type": i.measure_type,
                "unit": i.unit,
                "decimal_places": i.decimal_places,
                "polarity": i.polarity,
                "period_type": i.period_type,
                "url": detail_url(i.pk),
                "series_url": series_url(i.pk),
                "local_source": i.local_source,
                "fingertips_id": i.fingertips_id,
                "provider": i.provider,
                "data_owner": i.data_owner,
                "strategies": [
                    {
                        "system": system,
                        "strategy": a.strategy.slug,
                        "name": a.strategy.name,
                        "polarity": a.polarity or i.polarity,
                    }
                    for a in i.assignments.all()
                ],
                "framework_items": [
                    {
                        "id": item.pk,
                        "strategy": item.strategy.slug,
                        "level": item.level.slug,
                        "key": item.key,
                        "number": item.number,
                        "title": item.title,
                    }
                    for item in i.framework_items.all()
                ],
                "headline": headline_row(found.get(i.pk)),
            }
        )
    return rows


def _indicator_or_404(user, pk: int) -> Indicator:
    indicator = _indicators_queryset(user).filter(pk=pk).first()
    if indicator is None:
        raise NotFound
    return indicator


class IndicatorDetailApi(ApiView):
    @extend_schema(
        tags=[TAG_INDICATORS],
        operation_id="indicators_retrieve",
        summary="One indicator with its targets and series",
        description=(
            "The indicator's definition and metadata, the strategies and framework items "
            "it serves, its targets, the headline of its scorecard series, and each area "
            "it has values for with the address of that series."
        ),
        responses=read_responses(IndicatorDetailSerializer, 404),
        examples=[
            OpenApiExample(
                "Indicator",
                value={
                    **INDICATOR_EXAMPLE,
                    "aliases": ["RTT 18 weeks"],
                    "definition": "Percentage of incomplete pathways within 18 weeks.",
                    "breakdowns": [],
                    "amber_tolerance": "5.00",
                    "targets": [
                        {
                            "id": 3,
                            "kind": "absolute",
                            "value": 92.0,
                            "baseline_value": None,
                            "applies_from": None,
                            "applies_to": "2018-03-31",
                            "due_label": "Mar-18",
                            "amber_tolerance": None,
                            "text": "92% within 18 weeks",
                            "area": None,
                        }
                    ],
                    "series": [
                        {
                            "area": {
                                "code": "RK9",
                                "name": "Plymouth Hospitals NHS Trust",
                                "kind": "trust",
                            },
                            "value_count": 31,
                            "url": "http://testserver/api/v1/indicators/19/series/"
                            "?area=RK9",
                        }
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request, pk: int):
        indicator = _indicator_or_404(request.user, pk)
        area_counts = list(
            Observation.objects.filter(
                indicator=indicator, is_current=True, value__isnull=False
            )
            .values("area_id")
            .annotate(n=Count("id"))
        )
        area_objects = Area.objects.in_bulk([c["area_id"] for c in area_counts])
        areas = sorted(
            ((area_objects[c["area_id"]], c["n"]) for c in area_counts),
            key=lambda pair: pair[0].code,
        )
        targets = list(indicator.targets.select_related("area"))
        indicator._prefetched_objects_cache["targets"] = targets  # serialised as is
        data = IndicatorDetailSerializer(
            indicator,
            context={
                "request": request,
                "headlines": headlines([indicator]),
                "areas": areas,
            },
        ).data
        return Response(data)


# --------------------------------------------------------------------------- series


def _spc_block(result: SeriesResult) -> dict | None:
    spc = result.spc or None
    if result.method != SeriesResult.Method.SPC or not spc:
        return None
    groups = spc.get("groups") or []
    latest = groups[-1] if groups else {}
    return {
        "method": SPC_METHOD,
        "mean": latest.get("mean"),
        "lower_limit": latest.get("lower_limit"),
        "upper_limit": latest.get("upper_limit"),
        "is_trial": bool(latest.get("is_trial")),
        "groups": groups,
        "variation": result.variation,
        "assurance": result.assurance,
        "reason": result.spc_reason,
        "assurance_reason": spc.get("assurance_reason"),
    }


def computed_flags(result: SeriesResult | None, open_flags: list) -> dict | None:
    """Every computed flag of a series with its method and reason in words."""
    if result is None:
        return None
    rules = [
        {
            "rule": f.rule,
            "label": RULE_LABELS.get(f.rule, f.rule),
            "severity": f.severity,
            "reason": f.reason,
            "method": RULE_METHODS.get(f.rule, ""),
            "raised_at": f.raised_at,
        }
        for f in open_flags
    ]
    return {
        "computed_at": result.computed_at,
        "method": result.method,
        "method_label": METHOD_LABELS.get(result.method, result.method),
        "status": status_of(result),
        "point_count": result.point_count,
        "spc": _spc_block(result),
        "compared_with_england": {
            "label": result.comparison,
            "england_value": result.england_value,
            "method": COMPARISON_METHOD,
            "reason": result.comparison_reason,
        }
        if result.comparison
        else None,
        "recent_trend": {
            "label": result.trend,
            "chi_square": result.trend_chi_square,
            "method": TREND_METHOD,
            "reason": result.trend_reason,
        }
        if result.trend
        else None,
        "direction": {
            "label": result.direction,
            "method": TRAVEL_METHOD,
            "reason": result.direction_reason,
        }
        if result.direction
        else None,
        "rag": {
            "label": result.rag,
            "method": RAG_METHOD,
            "reason": result.rag_reason,
            "target": result.target,
        }
        if result.rag
        else None,
        "overdue": {"overdue": result.overdue, "reason": result.overdue_reason},
        "exception": {
            "on_report": bool(rules),
            "rules": rules,
            "reasons": [r["reason"] for r in rules],
        },
    }


def _point_types(result: SeriesResult | None, count: int) -> list[tuple[str, str]]:
    points = ((result.spc or {}).get("points") or []) if result else []
    if len(points) != count:
        return [("", "")] * count
    return [(p.get("type") or "", p.get("rule") or "") for p in points]


class IndicatorSeriesApi(ApiView):
    renderer_classes = [*ApiView.renderer_classes, CSVRenderer]

    class FilterSerializer(serializers.Serializer):
        area = serializers.CharField(
            required=False, max_length=20, help_text="An area code (ONS or ODS)"
        )
        breakdown = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=200,
            help_text="A breakdown (e.g. 'Female'); '' for the whole population",
        )

    csv_header = [
        "indicator_key",
        "indicator_title",
        "area_code",
        "area_name",
        "breakdown",
        "period",
        "period_start",
        "period_end",
        "value",
        "lower_ci",
        "upper_ci",
        "count",
        "denominator",
        "note",
        "is_synthetic",
        "revised",
        "return_id",
        "spc_point_type",
        "method",
        "variation",
        "assurance",
        "compared_with_england",
        "recent_trend",
        "rag",
        "exception_rules",
    ]

    def csv_rows(self, data):
        indicator = data["indicator"]
        for series in data["series"]:
            flags = series["flags"] or {}
            spc = flags.get("spc") or {}
            common = [
                flags.get("method", ""),
                spc.get("variation", ""),
                spc.get("assurance", ""),
                (flags.get("compared_with_england") or {}).get("label", ""),
                (flags.get("recent_trend") or {}).get("label", ""),
                (flags.get("rag") or {}).get("label", ""),
                " ".join(
                    r["rule"] for r in (flags.get("exception") or {}).get("rules", [])
                ),
            ]
            for v in series["values"]:
                yield [
                    indicator["key"],
                    indicator["title"],
                    series["area"]["code"],
                    series["area"]["name"],
                    series["breakdown"],
                    v["period"]["label"],
                    v["period"]["start"],
                    v["period"]["end"],
                    v["value"],
                    v["lower_ci"],
                    v["upper_ci"],
                    v["count"],
                    v["denominator"],
                    v["note"],
                    v["is_synthetic"],
                    v["revised"],
                    v["source_return"]["id"],
                    v["spc_point_type"],
                    *common,
                ]

    def csv_filename(self, data) -> str:
        return f"series-{data['indicator']['key']}.csv"

    @extend_schema(
        tags=[TAG_INDICATORS],
        operation_id="indicators_series",
        summary="An indicator's values per area, with every computed flag",
        description=(
            "For each area (and breakdown) the indicator has values for: the current "
            "values (period label, start and end, value, 95% limits, count, "
            "denominator, note, whether it is synthetic demo data, whether an earlier "
            "version was revised, which return brought it, its SPC point type) and the "
            "computed flags with their method and reasons in words: `spc` (mean, "
            "limits, groups, variation, assurance), `compared_with_england`, "
            "`recent_trend` (with chi-square), `direction`, `rag` (with the target), "
            "`overdue` and `exception` (the rules fired). `area=<code>` picks one area. "
            "As CSV (`Accept: text/csv` or `format=csv`): one row per value, the flags "
            "of its series repeated. A fixed number of queries however many values."
        ),
        parameters=[FilterSerializer, FORMAT_PARAMETER],
        responses=read_responses(IndicatorSeriesSerializer, 400, 404, csv=True),
        examples=[
            OpenApiExample(
                "Series",
                value={
                    "indicator": {
                        k: INDICATOR_EXAMPLE[k]
                        for k in [
                            "id",
                            "system",
                            "key",
                            "code",
                            "title",
                            "source_framework",
                            "measure_type",
                            "unit",
                            "decimal_places",
                            "polarity",
                            "period_type",
                            "url",
                            "series_url",
                        ]
                    },
                    "series": [
                        {
                            "area": {
                                "code": "RK9",
                                "name": "Plymouth Hospitals NHS Trust",
                                "kind": "trust",
                            },
                            "breakdown": "",
                            "is_headline": True,
                            "values": [
                                {
                                    "period": {
                                        "label": "Aug-17",
                                        "start": "2017-08-01",
                                        "end": "2017-08-31",
                                        "kind": "month",
                                    },
                                    "value": 81.2,
                                    "lower_ci": None,
                                    "upper_ci": None,
                                    "count": None,
                                    "denominator": None,
                                    "note": "",
                                    "is_synthetic": False,
                                    "revised": False,
                                    "recorded_at": "2017-10-31T09:00:00Z",
                                    "source_return": {
                                        "id": 1,
                                        "kind": "seed",
                                        "title": "Published values: October 2017",
                                        "url": "http://testserver/api/v1/returns/1/",
                                    },
                                    "spc_point_type": "special_cause_concern",
                                    "spc_rule": "shift",
                                }
                            ],
                            "flags": {
                                "computed_at": "2017-10-31T02:30:00Z",
                                "method": "spc",
                                "method_label": "Making Data Count SPC",
                                "status": "concern",
                                "point_count": 31,
                                "spc": {
                                    "method": SPC_METHOD,
                                    "mean": 88.1,
                                    "lower_limit": 84.2,
                                    "upper_limit": 92.0,
                                    "is_trial": False,
                                    "groups": [
                                        {
                                            "start": 0,
                                            "end": 31,
                                            "is_trial": False,
                                            "mean": 88.1,
                                            "lower_limit": 84.2,
                                            "upper_limit": 92.0,
                                            "lower_two_sigma": 85.5,
                                            "upper_two_sigma": 90.7,
                                        }
                                    ],
                                    "variation": "special_cause_concern",
                                    "assurance": "consistently_fails",
                                    "reason": "Special cause concern: 9 consecutive "
                                    "points below the mean since Dec-16",
                                    "assurance_reason": "The target 92.0% is above the "
                                    "upper process limit 92.0%",
                                },
                                "compared_with_england": None,
                                "recent_trend": None,
                                "direction": None,
                                "rag": None,
                                "overdue": {"overdue": False, "reason": ""},
                                "exception": {
                                    "on_report": True,
                                    "rules": [
                                        {
                                            "rule": "special_cause_concern",
                                            "label": "Special cause concern",
                                            "severity": "medium",
                                            "reason": "Special cause concern: 9 "
                                            "consecutive points below the mean since "
                                            "Dec-16",
                                            "method": SPC_METHOD,
                                            "raised_at": "2017-10-31T02:30:00Z",
                                        }
                                    ],
                                    "reasons": [
                                        "Special cause concern: 9 consecutive points "
                                        "below the mean since Dec-16"
                                    ],
                                },
                            },
                        }
                    ],
                },
                response_only=True,
                media_type="application/json",
            )
        ],
    )
    def get(self, request, pk: int):
        f = self.filters(self.FilterSerializer)
        indicator = _indicator_or_404(request.user, pk)
        observations = (
            Observation.objects.filter(indicator=indicator, is_current=True)
            .select_related("area", "period", "source_return")
            .annotate(
                revised=Exists(Observation.objects.filter(superseded_by=OuterRef("pk")))
            )
            .order_by("area__code", "breakdown", "period__start", "period__end")
        )
        results = SeriesResult.objects.filter(indicator=indicator).select_related(
            "target", "target__area"
        )
        open_flags = ExceptionFlag.objects.filter(
            indicator=indicator, cleared_at__isnull=True
        ).order_by("rule")
        if "area" in f:
            observations = observations.filter(area__code=f["area"])
            results = results.filter(area__code=f["area"])
            open_flags = open_flags.filter(area__code=f["area"])
        if "breakdown" in f:
            observations = observations.filter(breakdown=f["breakdown"])
            results = results.filter(breakdown=f["breakdown"])
            open_flags = open_flags.filter(breakdown=f["breakdown"])
        grouped: dict[tuple[int, str], list[Observation]] = defaultdict(list)
        areas: dict[int, Area] = {}
        for o in observations:
            grouped[o.area_id, o.breakdown].append(o)
            areas[o.area_id] = o.area
        by_series = {(r.area_id, r.breakdown): r for r in results}
        flags_by_series: dict[tuple[int, str], list] = defaultdict(list)
        for flag in open_flags:
            flags_by_series[flag.area_id, flag.breakdown].append(flag)
        headline_area = display_areas(indicator.system, [indicator.pk]).get(
            indicator.pk
        )
        series = []
        for (area_id, breakdown), values in grouped.items():
            result = by_series.get((area_id, breakdown))
            types = _point_types(result, sum(1 for v in values if v.value is not None))
            typed = iter(types)
            rows = []
            for o in values:
                point_type, rule = next(typed) if o.value is not None else ("", "")
                rows.append(
                    {
                        "period": o.period,
                        "value": o.value,
                        "lower_ci": o.lower_ci,
                        "upper_ci": o.upper_ci,
                        "count": o.numerator,
                        "denominator": o.denominator,
                        "note": o.note,
                        "is_synthetic": o.is_synthetic,
                        "revised": o.revised,
                        "recorded_at": o.recorded_at,
                        "source_return": {
                            "id": o.source_return_id,
                            "kind": o.source_return.kind,
                            "title": o.source_return.title,
                            "url": _return_url(request, o.source_return_id),
                        },
                        "spc_point_type": point_type,
                        "spc_rule": rule,
                    }
                )
            series.append(
                {
                    "area": areas[area_id],
                    "breakdown": breakdown,
                    "is_headline": area_id == headline_area and breakdown == "",
                    "values": rows,
                    "flags": computed_flags(
                        result, flags_by_series.get((area_id, breakdown), [])
                    ),
                }
            )
        series.sort(
            key=lambda s: (not s["is_headline"], s["area"].code, s["breakdown"])
        )
        data = IndicatorSeriesSerializer(
            {"indicator": indicator, "series": series}, context={"request": request}
        ).data
        return Response(data)


def _return_url(request, pk: int) -> str:
    return reverse("api:return-detail", kwargs={"pk": pk}, request=request)


# --------------------------------------------------------------------------- returns

RETURN_EXAMPLE = {
    "id": 3,
    "system": "plymouth",
    "kind": "upload",
    "status": "committed",
    "title": "rtt-2017-09.csv",
    "file_name": "rtt-2017-09.csv",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "sheet": "",
    "file_format": "long",
    "value_convention": "Percentages as 0-100",
    "source": "Uploaded through the API",
    "uploaded_by": "analyst",
    "created_at": "2017-10-02T09:14:00Z",
    "counts": {"new": 12, "revised": 1, "unchanged": 30, "skipped": 0},
    "rolled_back_at": None,
    "rolled_back_by": None,
    "is_synthetic": False,
    "url": "http://testserver/api/v1/returns/3/",
    "file_url": "http://testserver/api/v1/returns/3/file/",
}

UPLOAD_EXAMPLE = {
    "id": 42,
    "system": "plymouth",
    "status": "ready",
    "status_label": "Ready to commit",
    "stage": "Ready to commit",
    "running": False,
    "percent": 100,
    "file_name": "rtt-2017-09.csv",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "size_bytes": 2048,
    "requested_format": "auto",
    "requested_sheet": "",
    "create_missing_indicators": False,
    "detected_format": "long",
    "created_by": "analyst",
    "created_at": "2017-10-02T09:13:00Z",
    "finished_at": "2017-10-02T09:13:01Z",
    "fingerprint": "3c1f0d6e2b9a4f7c8e5d2a1b0c9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f",
    "counts": {"new": 12, "revised": 1, "unchanged": 30, "skipped": 0},
    "problem_count": 0,
    "error": "",
    "committed_return": None,
    "url": "http://testserver/api/v1/returns/uploads/42/",
    "commit_url": "http://testserver/api/v1/returns/uploads/42/commit/",
}

UPLOAD_DETAIL_EXAMPLE = {
    **UPLOAD_EXAMPLE,
    "preview": {
        "system": "Plymouth and Western Locality integrated commissioning system",
        "format": "long",
        "encoding": "utf-8",
        "delimiter": ",",
        "number_style": "1,234.5",
        "percentage_convention": "0-100",
        "skipped_reasons": {},
        "samples": {
            "new": [
                {
                    "sheet": "",
                    "row": 2,
                    "indicator": "rtt-18-weeks-incomplete",
                    "indicator_title": "Referral to treatment - 18 weeks",
                    "area": "RK9",
                    "period": "Sep-17",
                    "breakdown": "",
                    "value": "80.9",
                    "old_value": "",
                    "note": "",
                }
            ],
            "revised": [],
            "unchanged": [],
        },
    },
    "problems": [],
}


def _returns_queryset(user):
    return Return.objects.filter(system__in=systems_visible_to(user)).select_related(
        "system", "uploaded_by", "rolled_back_by"
    )


def _return_or_404(user, pk: int) -> Return:
    the_return = _returns_queryset(user).filter(pk=pk).first()
    if the_return is None:
        raise NotFound
    return the_return


def _uploads_queryset(user):
    return ImportJob.objects.filter(
        system__in=indicator_selectors.manageable_systems(user)
    ).select_related("system", "created_by", "committed_return")


def _upload_for_manager(user, pk: int) -> ImportJob:
    job = (
        ImportJob.objects.filter(pk=pk, system__in=systems_visible_to(user))
        .select_related("system", "created_by", "committed_return")
        .first()
    )
    if job is None:
        raise NotFound
    require_returns_manager(user, job.system)
    return job


def _upload_response(request, job: ImportJob, *, status_code: int) -> Response:
    problems_list = list(indicator_selectors.job_problems(job))
    data = UploadDetailSerializer(
        job, context={"request": request, "problems": problems_list}
    ).data
    if job.status == ImportJob.Status.INVALID:
        raise InvalidReturn(
            P.HAS_PROBLEMS,
            problems=problem_dicts(problems_list),
            upload={"id": job.pk, "url": data["url"], "status": job.status},
        )
    if job.status == ImportJob.Status.STALE:
        raise PreviewOutOfDate(P.PREVIEW_OUT_OF_DATE)
    if job.status == ImportJob.Status.FAILED:
        body = problem_body(
            "server-error",
            status_code=500,
            detail=job.error or P.UNEXPECTED_FAILURE,
            instance=request.get_full_path(),
            upload={"id": job.pk, "url": data["url"], "status": job.status},
        )
        return Response(body, status=500, content_type=PROBLEM_MEDIA_TYPE)
    headers = {"Location": data["url"]}
    return Response(data, status=status_code, headers=headers)


class ReturnCollectionApi(ApiView):
    """GET lists returns; POST uploads one (a dry run, or checked and committed)."""

    parser_classes = [MultiPartParser]
    write_scope = ApiToken.Scope.UPLOAD

    def get_throttles(self):
        if self.request.method == "POST":
            return [ApiRateThrottle(), UploadRateThrottle()]
        return super().get_throttles()

    class FilterSerializer(serializers.Serializer):
        system = serializers.SlugField(required=False, help_text="A system's slug")
        kind = serializers.ChoiceField(choices=Return.Kind.choices, required=False)
        status = serializers.ChoiceField(choices=Return.Status.choices, required=False)

    class UploadInputSerializer(serializers.Serializer):
        file = serializers.FileField(
            help_text="A CSV file or an Excel workbook (.xlsx)", allow_empty_file=True
        )
        system = serializers.SlugField(
            required=False,
            help_text="The system the values are for (may be left out when you are "
            "an analyst of one system only)",
        )
        format = serializers.ChoiceField(
            choices=ImportJob.Format.choices, default=ImportJob.Format.AUTO
        )
        sheet = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=300,
            help_text="Excel only: the sheet to read (blank: every sheet with a "
            "recognised header)",
        )
        create_missing_indicators = serializers.BooleanField(
            default=False,
            help_text="Fingertips downloads: create indicators this system lacks",
        )
        dry_run = serializers.BooleanField(
            default=False,
            help_text="true: check and preview only; commit later by the upload's id",
        )

    @extend_schema(
        tags=[TAG_RETURNS],
        operation_id="returns_list",
        summary="Returns: every load of values, newest first",
        description=(
            "Uploaded returns, transcribed source documents and demo data of the "
            "systems you hold a role in, with who loaded them, when, the file's name "
            "and SHA-256, what they changed and whether they were rolled back. "
            "Paginated; filter by system, kind and status."
        ),
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses=read_responses(paginated(ReturnSerializer), 400, 404),
        examples=[OpenApiExample("Returns", value=RETURN_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        f = self.filters(self.FilterSerializer)
        queryset = _returns_queryset(request.user).order_by("-created_at", "-id")
        if f.get("system"):
            queryset = queryset.filter(system__slug=f["system"])
        if f.get("kind"):
            queryset = queryset.filter(kind=f["kind"])
        if f.get("status"):
            queryset = queryset.filter(status=f["status"])
        return self.paginate(queryset, ReturnSerializer)

    @extend_schema(
        tags=[TAG_RETURNS],
        operation_id="returns_upload",
        summary="Upload a return (or check it with dry_run=true)",
        description=(
            "Multipart upload of a CSV or Excel file of values, checked by the same "
            "service as the returns page. With `dry_run=true` nothing is committed: "
            "the response is the upload with its preview (counts of new, revised, "
            "unchanged and skipped values, and the first values of each kind) and its "
            "`fingerprint`; commit it later with POST .../uploads/{id}/commit/. "
            "Without a dry run a file with no problems is committed at once. A file "
            "with problems commits nothing: 422 problem details whose `problems` "
            "lists every problem by sheet, row, column, value and code, exactly as "
            "the page lists them. Files larger than API_SYNC_UPLOAD_MAX_BYTES (10 MB "
            "by default) are checked in the background: 202 Accepted, then poll the "
            "upload and commit it by id. Needs the analyst role in the system and, "
            "for a token, the upload scope."
        ),
        request={"multipart/form-data": UploadInputSerializer},
        responses={
            201: OpenApiResponse(
                UploadDetailSerializer,
                description="Checked (and, without dry_run, committed); Location is "
                "the upload",
            ),
            202: OpenApiResponse(
                UploadDetailSerializer,
                description="A large file: being checked; poll Location",
            ),
            **problems(400, 403, 404, 409, 415, 422),
            (500, PROBLEM_MEDIA_TYPE): OpenApiResponse(
                ProblemSerializer,
                description="The file could not be processed; nothing was written",
            ),
        },
        examples=[
            OpenApiExample(
                "Dry run, no problems",
                value=UPLOAD_DETAIL_EXAMPLE,
                response_only=True,
                status_codes=[201],
            )
        ],
    )
    def post(self, request):
        payload = self.UploadInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        system = self._system(request.user, data.get("system"))
        require_returns_manager(request.user, system)
        uploaded = data["file"]
        too_large = uploaded.size > max_upload_bytes()
        arguments = {
            "system": system,
            "user": request.user,
            "data": None if too_large else b"".join(uploaded.chunks()),
            "file_name": uploaded.name or "return",
            "size": uploaded.size,
            "requested_format": data["format"],
            "requested_sheet": data.get("sheet", ""),
            "create_missing_indicators": data["create_missing_indicators"],
        }
        if not too_large and uploaded.size > api_sync_upload_max_bytes():
            job = services.import_job_create(**arguments)
            job.refresh_from_db()
            return _upload_response(request, job, status_code=202)
        # Checked (and committed) within the request. The service also queues the check
        # for after this transaction; by then the job has moved on, so it does nothing.
        with transaction.atomic():
            job = services.import_job_create(**arguments)
            if job.status == ImportJob.Status.QUEUED:
                services.import_job_validate(job_id=job.pk)
            job.refresh_from_db()
            if job.status == ImportJob.Status.READY and not data["dry_run"]:
                _commit_now(job, request.user)
        job = _uploads_queryset(request.user).get(pk=job.pk)
        return _upload_response(request, job, status_code=201)

    def _system(self, user, slug: str | None):
        manageable = indicator_selectors.manageable_systems(user)
        if slug:
            system = systems_visible_to(user).filter(slug=slug).first()
            if system is None:
                raise ValidationError(
                    {"system": f"You hold no role in a system called '{slug}'."}
                )
            return system
        systems = list(manageable[:2])
        if len(systems) != 1:
            raise ValidationError(
                {"system": "Say which system the return is for (its slug)."}
            )
        return systems[0]


def _commit_now(job: ImportJob, user) -> None:
    """Commit a ready upload within the current transaction (what the preview showed,
    or nothing: a changed database marks it out of date)."""
    job = services.import_job_request_commit(
        job=job, user=user, fingerprint=job.fingerprint
    )
    if job.status == ImportJob.Status.COMMITTING:
        services.import_job_commit(
            job_id=job.pk, user_id=user.pk, fingerprint=job.fingerprint
        )


class ReturnDetailApi(ApiView):
    @extend_schema(
        tags=[TAG_RETURNS],
        operation_id="returns_retrieve",
        summary="One return, with its audit trail",
        description=(
            "The return with its counts, the number of values it brought and its audit "
            "trail (committed, rolled back: who, when, what)."
        ),
        responses=read_responses(ReturnDetailSerializer, 404),
        examples=[
            OpenApiExample(
                "Return",
                value={
                    **RETURN_EXAMPLE,
                    "value_count": 43,
                    "events": [
                        {
                            "action": "committed",
                            "actor": "analyst",
                            "at": "2017-10-02T09:14:00Z",
                            "details": {"new": 12, "revised": 1},
                        }
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request, pk: int):
        the_return = _return_or_404(request.user, pk)
        the_return._prefetched_objects_cache = {
            "events": list(
                the_return.events.select_related("actor").order_by("at", "id")
            )
        }
        data = ReturnDetailSerializer(
            the_return,
            context={
                "request": request,
                "value_count": Observation.objects.filter(
                    source_return=the_return
                ).count(),
            },
        ).data
        return Response(data)


class ReturnFileApi(ApiView):
    @extend_schema(
        tags=[TAG_RETURNS],
        operation_id="returns_file",
        summary="The original file of an uploaded return",
        description=(
            "The file exactly as it was uploaded (kept outside the web root). Analysts "
            "of the return's system only, as on the returns page. ETag is the file's "
            "SHA-256."
        ),
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as an attachment"
            ),
            304: OpenApiResponse(description="Not modified"),
            **problems(403, 404),
        },
        examples=[
            OpenApiExample(
                "A CSV return",
                value="Indicator,Area,Period,Value\nrtt-18-weeks-incomplete,RK9,"
                "Sep-17,80.9\n",
                response_only=True,
                media_type="application/octet-stream",
            )
        ],
    )
    def get(self, request, pk: int):
        the_return = _return_or_404(request.user, pk)
        require_returns_manager(request.user, the_return.system)
        if not the_return.file:
            raise NotFound("This return has no file (it was not uploaded).")
        etag = f'"{the_return.sha256}"' if the_return.sha256 else None
        last_modified = last_modified_header(the_return.created_at)
        # Answer a conditional request before opening the file.
        not_modified = get_conditional_response(
            request._request,
            etag=etag,
            last_modified=int(the_return.created_at.timestamp()),
        )
        if not_modified is not None:
            return not_modified
        try:
            handle = the_return.file.open("rb")
        except FileNotFoundError as exc:
            raise NotFound("The file of this return is missing.") from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=the_return.file_name or f"return-{the_return.pk}",
            content_type="application/octet-stream",
        )
        if etag:
            response["ETag"] = etag
        response["Last-Modified"] = last_modified
        return response


class ReturnRollbackApi(ApiView):
    parser_classes = [JSONParser]
    write_scope = ApiToken.Scope.UPLOAD

    @extend_schema(
        tags=[TAG_RETURNS],
        operation_id="returns_rollback",
        summary="Roll back an uploaded return",
        description=(
            "Its values go back to what they were before it (values a later return "
            "replaced stay), recorded in the audit trail; the series it touched are "
            "queued for recomputation. Only uploaded returns, once. Analysts of the "
            "system; a token needs the upload scope. No body."
        ),
        request=None,
        responses={
            200: ReturnDetailSerializer,
            **problems(403, 404, 409),
        },
        examples=[
            OpenApiExample(
                "Rolled back",
                value={
                    **RETURN_EXAMPLE,
                    "status": "rolled_back",
                    "rolled_back_at": "2017-10-03T10:00:00Z",
                    "rolled_back_by": "analyst",
                    "value_count": 43,
                    "events": [],
                },
                response_only=True,
            )
        ],
    )
    def post(self, request, pk: int):
        the_return = _return_or_404(request.user, pk)
        require_returns_manager(request.user, the_return.system)
        try:
            services.return_rollback(the_return=the_return, user=request.user)
        except services.RollbackRefused as exc:
            raise Conflict(str(exc)) from exc
        the_return = _return_or_404(request.user, pk)
        the_return._prefetched_objects_cache = {
            "events": list(
                the_return.events.select_related("actor").order_by("at", "id")
            )
        }
        data = ReturnDetailSerializer(
            the_return,
            context={
                "request": request,
                "value_count": Observation.objects.filter(
                    source_return=the_return
                ).count(),
            },
        ).data
        return Response(data)


class ReturnUploadListApi(ApiView):
    class FilterSerializer(serializers.Serializer):
        system = serializers.SlugField(required=False, help_text="A system's slug")
        status = serializers.ChoiceField(
            choices=ImportJob.Status.choices, required=False
        )

    @extend_schema(
        tags=[TAG_RETURNS],
        operation_id="returns_uploads_list",
        summary="Uploads (checked, previewed, committed or not) you may manage",
        description=(
            "The uploads of the systems you are an analyst of, newest first, without "
            "their problems and preview (see each upload). Paginated."
        ),
        parameters=[FilterSerializer, *PAGE_PARAMETERS],
        responses=read_responses(paginated(UploadSerializer), 400, 404),
        examples=[OpenApiExample("Uploads", value=UPLOAD_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        f = self.filters(self.FilterSerializer)
        queryset = _uploads_queryset(request.user).order_by("-created_at", "-id")
        if f.get("system"):
            queryset = queryset.filter(system__slug=f["system"])
        if f.get("status"):
            queryset = queryset.filter(status=f["status"])
        return self.paginate(queryset, UploadSerializer)


class ReturnUploadDetailApi(ApiView):
    @extend_schema(
        tags=[TAG_RETURNS],
        operation_id="returns_uploads_retrieve",
        summary="One upload: its status, preview and every problem",
        description=(
            "Poll this while `running` is true. `status` is then ready (commit it), "
            "unchanged (nothing to commit), invalid (`problems` lists every problem "
            "as the page does), committed (`committed_return`), stale (the data "
            "changed after the preview), discarded or failed. Analysts of the system."
        ),
        responses=read_responses(UploadDetailSerializer, 403, 404),
        examples=[
            OpenApiExample(
                "Ready to commit", value=UPLOAD_DETAIL_EXAMPLE, response_only=True
            )
        ],
    )
    def get(self, request, pk: int):
        job = _upload_for_manager(request.user, pk)
        data = UploadDetailSerializer(
            job,
            context={
                "request": request,
                "problems": list(indicator_selectors.job_problems(job)),
            },
        ).data
        return Response(data)


class ReturnUploadCommitApi(ApiView):
    parser_classes = [JSONParser]
    write_scope = ApiToken.Scope.UPLOAD

    def get_throttles(self):
        return [ApiRateThrottle(), UploadRateThrottle()]

    @extend_schema_serializer(component_name="UploadCommit")
    class InputSerializer(serializers.Serializer):
        fingerprint = serializers.CharField(
            required=False,
            max_length=64,
            help_text="The upload's fingerprint as you previewed it; if the upload's "
            "differs, nothing is committed",
        )

    @extend_schema(
        tags=[TAG_RETURNS],
        operation_id="returns_uploads_commit",
        summary="Commit a previewed upload by its id",
        description=(
            "Commits exactly what the preview showed, in one transaction, or nothing: "
            "if the values in the database changed since the preview, 409 "
            "preview-out-of-date (upload the file again). Only an upload whose status "
            "is ready. Send the `fingerprint` you previewed to be sure you commit what "
            "you saw. Analysts of the system; a token needs the upload scope. A large "
            "upload is committed in the background: 202 Accepted, then poll."
        ),
        request=InputSerializer,
        responses={
            200: OpenApiResponse(UploadDetailSerializer, description="Committed"),
            202: OpenApiResponse(
                UploadDetailSerializer, description="A large file: being committed"
            ),
            **problems(400, 403, 404, 409, 415),
            (500, PROBLEM_MEDIA_TYPE): OpenApiResponse(
                ProblemSerializer,
                description="The commit failed; nothing was written",
            ),
        },
        examples=[
            OpenApiExample(
                "Commit",
                value={"fingerprint": UPLOAD_EXAMPLE["fingerprint"]},
                request_only=True,
            ),
            OpenApiExample(
                "Committed",
                value={
                    **UPLOAD_DETAIL_EXAMPLE,
                    "status": "committed",
                    "status_label": "Committed",
                    "commit_url": None,
                    "committed_return": {
                        "id": 3,
                        "kind": "upload",
                        "title": "rtt-2017-09.csv",
                        "url": "http://testserver/api/v1/returns/3/",
                    },
                },
                response_only=True,
                status_codes=[200],
            ),
        ],
    )
    def post(self, request, pk: int):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        job = _upload_for_manager(request.user, pk)
        fingerprint = payload.validated_data.get("fingerprint", job.fingerprint)
        try:
            if job.size_bytes > api_sync_upload_max_bytes():
                services.import_job_request_commit(
                    job=job, user=request.user, fingerprint=fingerprint
                )
                job = _uploads_queryset(request.user).get(pk=job.pk)
                return _upload_response(request, job, status_code=202)
            with transaction.atomic():
                job = services.import_job_request_commit(
                    job=job, user=request.user, fingerprint=fingerprint
                )
                if job.status == ImportJob.Status.COMMITTING:
                    services.import_job_commit(
                        job_id=job.pk, user_id=request.user.pk, fingerprint=fingerprint
                    )
        except services.JobNotReady as exc:
            raise Conflict(P.JOB_NOT_READY) from exc
        job = _uploads_queryset(request.user).get(pk=job.pk)
        return _upload_response(request, job, status_code=200)
