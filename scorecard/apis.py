"""The scorecard: a strategy's performance overview (now, or as it stood on a date), the
published stocktakes, and the exception report with its commentary. Who sees what is the
pages' rule (strategies.permissions): the scorecard and the exceptions of systems the user
holds a role in; published stocktakes also of systems where they sit in a System Design
Group, commentary also of their own group's strategy. Others' ids are 404."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from actions.services import EditConflict, PeriodLocked, open_cycle_for
from commissioning.api.cached import (
    RenderedJson,
    cached_list,
    filter_names,
    ids_of,
    json_response,
    render_json,
)
from commissioning.api.problems import Conflict
from commissioning.api.schema import (
    FORMAT_PARAMETER,
    PAGE_PARAMETERS,
    paginated,
    problems,
    read_responses,
)
from commissioning.api.selectors import RULE_METHODS
from commissioning.api.views import ApiView, CsvMixin
from commissioning.db import MAX_BIGINT
from indicators.models import Indicator
from indicators.serializers import AreaSerializer, TargetSerializer
from scorecard.cache import cached, page_version
from scorecard.models import (
    ExceptionCommentary,
    ExceptionFlag,
    PublishedOverviewRow,
    RecomputeRun,
    SnapshotRow,
    Stocktake,
)
from scorecard.selectors.pages import strategy_overview, visible_strategy
from scorecard.services.commentary import (
    TEXT_FIELDS,
    commentary_save,
    commentary_start,
    commentary_submit,
)
from strategies.models import ApiToken, Strategy
from strategies.permissions import (
    can_view_strategy,
    can_write_commentary,
    strategies_visible_to,
    systems_visible_to,
    workflow_systems_visible_to,
)

TAG = "Scorecard"


class IndicatorRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    code = serializers.CharField(allow_blank=True)
    title = serializers.CharField()


class AimRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    level = serializers.CharField()
    key = serializers.CharField()
    number = serializers.IntegerField(allow_null=True)
    title = serializers.CharField(allow_blank=True)


class FiredRuleSerializer(serializers.Serializer):
    rule = serializers.CharField()
    label = serializers.CharField()
    severity = serializers.CharField()
    reason = serializers.CharField()
    method = serializers.CharField()


class OverviewExceptionSerializer(serializers.Serializer):
    on_report = serializers.BooleanField()
    rules = FiredRuleSerializer(many=True)


class OverviewRowSerializer(serializers.Serializer):
    """One row of the performance overview (Indicator, Measure, Most recent period,
    Benchmark England, First value of graph, Graph, Last value of graph, Trend), with the
    computed flags behind it."""

    position = serializers.IntegerField()
    aim = AimRefSerializer(allow_null=True)
    indicator = IndicatorRefSerializer()
    measure = serializers.CharField(allow_blank=True)
    polarity = serializers.CharField()
    area = AreaSerializer(allow_null=True)
    most_recent_period = serializers.CharField(allow_null=True)
    benchmark_england = serializers.FloatField(allow_null=True)
    first_value = serializers.FloatField(allow_null=True)
    first_value_period = serializers.CharField(allow_blank=True)
    sparkline = serializers.ListField(
        child=serializers.ListField(), help_text="[[period label, value], ...]"
    )
    last_value = serializers.FloatField(allow_null=True)
    method = serializers.CharField(allow_blank=True)
    status = serializers.CharField(
        help_text="improvement, concern, neutral, common_cause, not_enough_data, no_data"
    )
    trend = serializers.CharField(
        allow_blank=True, help_text="The trend in words, by the series' method"
    )
    variation = serializers.CharField(allow_blank=True)
    assurance = serializers.CharField(allow_blank=True)
    compared_with_england = serializers.CharField(allow_blank=True)
    recent_trend = serializers.CharField(allow_blank=True)
    direction = serializers.CharField(allow_blank=True)
    rag = serializers.CharField(allow_blank=True)
    rag_reason = serializers.CharField(allow_blank=True)
    target = TargetSerializer(allow_null=True)
    has_synthetic = serializers.BooleanField(help_text="Includes synthetic demo values")
    exception = OverviewExceptionSerializer()


class ScorecardSerializer(serializers.Serializer):
    system = serializers.SlugField()
    strategy = serializers.SlugField()
    strategy_name = serializers.CharField()
    strategy_label = serializers.CharField()
    as_at = serializers.DateField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    rows = OverviewRowSerializer(many=True)


def _trend_words(result) -> str:
    if result is None:
        return ""
    if result.method == "spc":
        return result.spc_reason or result.variation
    return result.trend or result.direction or result.comparison or ""


def row_data(row, aim) -> dict:
    """A page row (`base` the shared OverviewRow, `aim` the item it is shown under)."""
    r = row.result
    indicator = row.indicator
    return {
        "position": row.position,
        "aim": {
            "id": aim.pk,
            "level": aim.level.slug,
            "key": aim.key,
            "number": aim.number,
            "title": aim.title or aim.text[:200],
        }
        if aim
        else None,
        "indicator": {
            "id": indicator.pk,
            "key": indicator.key,
            "code": indicator.code,
            "title": indicator.title,
        },
        "measure": indicator.unit or indicator.get_measure_type_display(),
        "polarity": row.polarity,
        "area": {"code": row.area.code, "name": row.area.name, "kind": row.area.kind}
        if row.area
        else None,
        "most_recent_period": r.latest_period.label if r and r.latest_period else None,
        "benchmark_england": r.england_value if r else None,
        "first_value": r.window_first_value if r else None,
        "first_value_period": r.window_first_label if r else "",
        "sparkline": r.sparkline if r else [],
        "last_value": r.latest_value if r else None,
        "method": r.method if r else "",
        "status": row.status,
        "trend": _trend_words(r),
        "variation": r.variation if r else "",
        "assurance": r.assurance if r else "",
        "compared_with_england": r.comparison if r else "",
        "recent_trend": r.trend if r else "",
        "direction": r.direction if r else "",
        "rag": r.rag if r else "",
        "rag_reason": r.rag_reason if r else "",
        "target": TargetSerializer(r.target).data if r and r.target else None,
        "has_synthetic": bool(r and r.has_synthetic),
        "exception": {
            "on_report": bool(row.rules),
            "rules": [
                {
                    "rule": f.rule,
                    "label": f.label,
                    "severity": f.severity,
                    "reason": f.reason,
                    "method": RULE_METHODS.get(f.rule, ""),
                }
                for f in row.rules
            ],
        },
    }


ROW_EXAMPLE = {
    "position": 1,
    "aim": {
        "id": 3,
        "level": "aim",
        "key": "1",
        "number": 1,
        "title": "Reduce inequalities",
    },
    "indicator": {
        "id": 19,
        "key": "dementia-diagnosis",
        "code": "",
        "title": "Dementia diagnosis rate",
    },
    "measure": "%",
    "polarity": "higher_is_better",
    "area": {
        "code": "E38000130",
        "name": "NHS Northern, Eastern and Western Devon CCG",
        "kind": "ccg",
    },
    "most_recent_period": "Aug-17",
    "benchmark_england": 67.6,
    "first_value": 64.1,
    "first_value_period": "Aug-16",
    "sparkline": [["Aug-16", 64.1], ["Sep-16", 64.5]],
    "last_value": 66.0,
    "method": "spc",
    "status": "improvement",
    "trend": "Special cause improvement: 7 points in a row increasing",
    "variation": "special_cause_improvement",
    "assurance": "hit_and_miss",
    "compared_with_england": "",
    "recent_trend": "",
    "direction": "",
    "rag": "Amber",
    "rag_reason": "66.0% is within 5% of the target 67.0%",
    "target": None,
    "has_synthetic": True,
    "exception": {"on_report": False, "rules": []},
}


class AsAtSerializer(serializers.Serializer):
    as_at = serializers.DateField(
        required=False,
        help_text="YYYY-MM-DD: the scorecard as it stood at the end of that day",
    )

    def validate_as_at(self, value: date) -> date:
        if value > timezone.localdate():
            raise serializers.ValidationError("as_at cannot be in the future.")
        if value.year < 1900:
            raise serializers.ValidationError("as_at is too early.")
        return value


def scorecard_data(system, strategy, as_at):
    """The JSON-ready scorecard of a strategy (the page's rows, in its order and under its
    aims) and when its data last changed (None for an as-at view)."""
    rows = strategy_overview(strategy, as_at=as_at).rows
    computed = [r.result.computed_at for r in rows if r.result and r.result.computed_at]
    last_modified = None
    if as_at is None:
        latest_run = RecomputeRun.objects.aggregate(m=Max("finished_at"))["m"]
        last_modified = max(
            [m for m in (latest_run, strategy.updated_at, *computed) if m]
        )
    stamp = serializers.DateTimeField().to_representation
    data = {
        "system": system.slug,
        "strategy": strategy.slug,
        "strategy_name": strategy.name,
        "strategy_label": system.strategy_label,
        "as_at": as_at.isoformat() if as_at else None,
        "computed_at": stamp(max(computed)) if computed else None,
        "rows": [row_data(r.base, r.group) for r in rows],
    }
    return data, last_modified


def rendered_scorecard(system, strategy, as_at) -> RenderedJson:
    return render_json(*scorecard_data(system, strategy, as_at))


class ScorecardApi(CsvMixin, ApiView):
    csv_header = [
        "aim", "indicator_key", "indicator", "measure", "area_code",
        "most_recent_period", "benchmark_england", "first_value", "first_value_period",
        "last_value", "trend", "status", "method", "variation", "assurance",
        "compared_with_england", "recent_trend", "direction", "rag",
        "on_exception_report", "exception_rules", "has_synthetic",
    ]  # fmt: skip

    def csv_rows(self, data):
        for row in data["rows"]:
            yield [
                (row["aim"] or {}).get("title", ""),
                row["indicator"]["key"],
                row["indicator"]["title"],
                row["measure"],
                (row["area"] or {}).get("code", ""),
                row["most_recent_period"],
                row["benchmark_england"],
                row["first_value"],
                row["first_value_period"],
                row["last_value"],
                row["trend"],
                row["status"],
                row["method"],
                row["variation"],
                row["assurance"],
                row["compared_with_england"],
                row["recent_trend"],
                row["direction"],
                row["rag"],
                row["exception"]["on_report"],
                " ".join(r["rule"] for r in row["exception"]["rules"]),
                row["has_synthetic"],
            ]

    def csv_filename(self, data) -> str:
        suffix = f"-{data['as_at']}" if data.get("as_at") else ""
        return f"scorecard-{data['system']}-{data['strategy']}{suffix}.csv"

    @extend_schema(
        tags=[TAG],
        operation_id="scorecard_retrieve",
        summary="A strategy's performance overview, row by row",
        description=(
            "The overview rows exactly as the strategy page shows them: under each aim, "
            "each indicator of the strategy with its measure, most recent period, "
            "England benchmark, first value of the graph, the graph's points, last value, "
            "trend, and the computed flags behind them (method, status, SPC variation "
            "and assurance, comparison with England, recent trend, RAG against the "
            "target, and the exception rules that fired with their reasons). "
            "`as_at=YYYY-MM-DD` gives the scorecard as it stood at the end of that day: "
            "values of periods ended by then, in the version current then, analysed "
            "afresh. As CSV with `format=csv` or `Accept: text/csv`. A fixed number of "
            "queries however many indicators."
        ),
        parameters=[AsAtSerializer, FORMAT_PARAMETER],
        responses=read_responses(ScorecardSerializer, 400, 404, csv=True),
        examples=[
            OpenApiExample(
                "Scorecard",
                value={
                    "system": "plymouth",
                    "strategy": "wellbeing",
                    "strategy_name": "Wellbeing",
                    "strategy_label": "Strategy",
                    "as_at": None,
                    "computed_at": "2017-10-31T02:30:00Z",
                    "rows": [ROW_EXAMPLE],
                },
                response_only=True,
                media_type="application/json",
            )
        ],
    )
    def get(self, request, system: str, strategy: str):
        # as_at is the only parameter read: skip the validation when it is not given.
        as_at = (
            self.filters(AsAtSerializer).get("as_at")
            if "as_at" in request.query_params
            else None
        )
        # The strategy page's own access check (scorecard.selectors.pages): the
        # strategy found through the page cache, whether the user may see its system
        # asked of the database on every request; 404 for either, as on the page.
        version = page_version()
        item = visible_strategy(request.user, system, strategy, version=version)
        key = (item.pk, as_at or "")
        # Kept with the pages' own cache (same invalidation: a recompute, a return, a
        # commentary change), so the API and the page never disagree.
        if not isinstance(request.accepted_renderer, JSONRenderer):
            data, self.last_modified = cached(
                ("api-scorecard", *key),
                lambda: scorecard_data(item.system, item, as_at),
                version=version,
            )
            return Response(data)
        # The scorecard is read far more often than it changes: its JSON is kept
        # rendered (and gzipped, with its ETag), so a cached answer is one cache get.
        page = cached(
            ("api-scorecard-json", *key),
            lambda: rendered_scorecard(item.system, item, as_at),
            version=version,
        )
        self.last_modified = page.last_modified
        return json_response(request, page)


# --------------------------------------------------------------------------- stocktakes


class StocktakeSerializer(serializers.ModelSerializer):
    system = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    row_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Stocktake
        fields = ["id", "system", "slug", "title", "published", "source", "row_count"]


class PublishedRowSerializer(serializers.ModelSerializer):
    strategy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    aim = serializers.SerializerMethodField()
    indicator = serializers.SerializerMethodField()
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    period = serializers.SlugRelatedField(
        slug_field="label", read_only=True, allow_null=True
    )

    class Meta:
        model = PublishedOverviewRow
        fields = [
            "strategy", "position", "aim", "group_heading", "indicator", "area",
            "indicator_text", "measure_text", "most_recent_period_text", "period",
            "benchmark_england_text", "first_value_text", "first_value",
            "last_value_text", "last_value", "trend_text",
        ]  # fmt: skip

    @extend_schema_field(AimRefSerializer(allow_null=True))
    def get_aim(self, obj) -> dict | None:
        if obj.aim is None:
            return None
        return {
            "id": obj.aim.pk,
            "level": obj.aim.level.slug,
            "key": obj.aim.key,
            "number": obj.aim.number,
            "title": obj.aim.title,
        }

    @extend_schema_field(IndicatorRefSerializer)
    def get_indicator(self, obj) -> dict:
        i = obj.indicator
        return {"id": i.pk, "key": i.key, "code": i.code, "title": i.title}


class SnapshotRowSerializer(serializers.ModelSerializer):
    """A row of a stocktake the application published, frozen as it was."""

    strategy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    data = serializers.DictField(help_text="The row as published (values, flags, text)")

    class Meta:
        model = SnapshotRow
        fields = ["kind", "strategy", "position", "data"]


class StocktakeDetailSerializer(StocktakeSerializer):
    rows = PublishedRowSerializer(
        many=True,
        source="overview_rows",
        help_text="Overview rows of a transcribed stocktake, as printed",
    )
    snapshot = SnapshotRowSerializer(
        many=True,
        source="snapshot_rows",
        help_text="A stocktake published from the application: its overview, "
        "exceptions with commentary and action progress, frozen",
    )

    class Meta(StocktakeSerializer.Meta):
        fields = [*StocktakeSerializer.Meta.fields, "rows", "snapshot"]


class StocktakeFilterSerializer(serializers.Serializer):
    system = serializers.SlugField(required=False, help_text="A system's slug")


def _stocktakes(user):
    from django.db.models import Count

    return (
        # As the stocktake pages: a role in the system, or a place in the System
        # Design Group of one of its strategies.
        Stocktake.objects.filter(system__in=workflow_systems_visible_to(user))
        .select_related("system")
        .annotate(row_count=Count("overview_rows"))
        .order_by("-published", "id")
    )


STOCKTAKE_EXAMPLE = {
    "id": 1,
    "system": "plymouth",
    "slug": "2017-10",
    "title": "Integrated commissioning stocktake, October 2017",
    "published": "2017-10-31",
    "source": "002",
    "row_count": 43,
}


class StocktakeListApi(ApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="stocktakes_list",
        summary="Published stocktakes",
        description=(
            "The scorecards as they were put to the board and kept as published, newest "
            "first. Paginated; filter by system."
        ),
        parameters=[StocktakeFilterSerializer, *PAGE_PARAMETERS],
        responses=read_responses(paginated(StocktakeSerializer), 400, 404),
        examples=[
            OpenApiExample("Stocktakes", value=STOCKTAKE_EXAMPLE, response_only=True)
        ],
    )
    def get(self, request):
        f = self.filters(StocktakeFilterSerializer)
        queryset = _stocktakes(request.user)
        if f.get("system"):
            queryset = queryset.filter(system__slug=f["system"])
        return self.paginate(queryset, StocktakeSerializer)


class StocktakeDetailApi(CsvMixin, ApiView):
    csv_header = [
        "strategy", "position", "aim", "group_heading", "indicator_key", "area_code",
        "indicator", "measure", "most_recent_period", "benchmark_england",
        "first_value", "last_value", "trend",
    ]  # fmt: skip

    def csv_rows(self, data):
        for row in data["rows"]:
            yield [
                row["strategy"],
                row["position"],
                (row["aim"] or {}).get("title", ""),
                row["group_heading"],
                row["indicator"]["key"],
                row["area"],
                row["indicator_text"],
                row["measure_text"],
                row["most_recent_period_text"],
                row["benchmark_england_text"],
                row["first_value_text"],
                row["last_value_text"],
                row["trend_text"],
            ]

    def csv_filename(self, data) -> str:
        return f"stocktake-{data['system']}-{data['slug']}.csv"

    @extend_schema(
        tags=[TAG],
        operation_id="stocktakes_retrieve",
        summary="A published stocktake with its overview rows as published",
        description=(
            "Every performance overview row exactly as the stocktake published it (the "
            "text as printed, and the values read from it). As CSV with `format=csv`. "
            "A fixed number of queries however many rows."
        ),
        parameters=[FORMAT_PARAMETER],
        responses=read_responses(StocktakeDetailSerializer, 404, csv=True),
        examples=[
            OpenApiExample(
                "Stocktake",
                value={**STOCKTAKE_EXAMPLE, "rows": [], "snapshot": []},
                response_only=True,
                media_type="application/json",
            )
        ],
    )
    def get(self, request, pk: int):
        stocktake = (
            _stocktakes(request.user)
            .filter(pk=pk)
            .prefetch_related(
                Prefetch(
                    "overview_rows",
                    queryset=PublishedOverviewRow.objects.select_related(
                        "strategy", "aim__level", "indicator", "area", "period"
                    ).order_by("strategy__number", "position"),
                ),
                Prefetch(
                    "snapshot_rows",
                    queryset=SnapshotRow.objects.select_related("strategy").order_by(
                        "kind", "strategy__number", "position"
                    ),
                ),
            )
            .first()
        )
        if stocktake is None:
            raise NotFound
        self.last_modified = stocktake.updated_at
        return Response(StocktakeDetailSerializer(stocktake).data)


# --------------------------------------------------------------------------- exceptions


class CommentarySerializer(serializers.ModelSerializer):
    strategy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    indicator = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    author = serializers.SerializerMethodField()

    class Meta:
        model = ExceptionCommentary
        fields = [
            "id", "strategy", "indicator", "stocktake", "cycle", "heading", "text",
            "story", "helping", "hindering", "actions_taken", "expected_recovery",
            "status", "dated", "author", "position", "version",
        ]  # fmt: skip

    @extend_schema_field(serializers.CharField(allow_blank=True))
    def get_author(self, obj) -> str:
        if obj.author_name:
            return obj.author_name
        return obj.author.get_full_name() or obj.author.username if obj.author else ""


class ExceptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    indicator = IndicatorRefSerializer()
    system = serializers.SlugField()
    strategies = serializers.ListField(child=serializers.SlugField())
    area = AreaSerializer()
    breakdown = serializers.CharField(allow_blank=True)
    rule = serializers.CharField()
    label = serializers.CharField()
    severity = serializers.CharField()
    reason = serializers.CharField()
    method = serializers.CharField()
    raised_at = serializers.DateTimeField()
    cleared_at = serializers.DateTimeField(allow_null=True)
    commentary = CommentarySerializer(many=True)


class ExceptionFilterSerializer(serializers.Serializer):
    system = serializers.SlugField(required=False, help_text="A system's slug")
    strategy = serializers.SlugField(
        required=False, help_text="A strategy's slug: exceptions of its indicators"
    )
    include_cleared = serializers.BooleanField(
        required=False, default=False, help_text="true: the report's history as well"
    )


EXCEPTION_EXAMPLE = {
    "id": 7,
    "indicator": {
        "id": 19,
        "key": "dementia-diagnosis",
        "code": "",
        "title": "Dementia diagnosis rate",
    },
    "system": "plymouth",
    "strategies": ["wellbeing"],
    "area": {"code": "E38000130", "name": "NHS NEW Devon CCG", "kind": "ccg"},
    "breakdown": "",
    "rule": "special_cause_concern",
    "label": "Special cause concern",
    "severity": "medium",
    "reason": "Special cause concern: 7 points in a row below the mean",
    "method": "Making Data Count XmR chart (NHSRplotthedots rules)",
    "raised_at": "2017-10-31T02:30:00Z",
    "cleared_at": None,
    "commentary": [
        {
            "id": 2,
            "strategy": "wellbeing",
            "indicator": 19,
            "stocktake": 1,
            "heading": "Estimated diagnosis rates for dementia - Increasing trend",
            "text": "<p>Recovery plan agreed.</p>",
            "cycle": None,
            "story": "",
            "helping": "",
            "hindering": "",
            "actions_taken": "",
            "expected_recovery": None,
            "status": "approved",
            "dated": "2017-10-31",
            "author": "Jo Bloggs",
            "position": 0,
            "version": 1,
        }
    ],
}


class ExceptionListApi(ApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="exceptions_list",
        summary="The exception report: series a rule put on it, with the commentary",
        description=(
            "Each open exception flag (a rule firing on a series: special cause concern, "
            "failing the target, red against target, worse than England, trend getting "
            "worse, data overdue) with its severity, reason in words and method, and the "
            "commentary explaining it (newest first). `include_cleared=true` adds the "
            "flags that have come off the report. Paginated; a fixed number of queries."
        ),
        parameters=[ExceptionFilterSerializer, *PAGE_PARAMETERS],
        responses=read_responses(paginated(ExceptionSerializer), 400, 404),
        examples=[
            OpenApiExample("Exceptions", value=EXCEPTION_EXAMPLE, response_only=True)
        ],
    )
    def get(self, request):
        f = self.filters(ExceptionFilterSerializer)
        # Who sees what: the flags of indicators of the systems the user holds a role
        # in. Asked on every request; the cached answer is kept per set of systems.
        systems = ids_of(systems_visible_to(request.user))
        return cached_list(
            request,
            "exceptions",
            systems,
            lambda: self.paginated_rows(_exception_flags(systems, f), exception_rows),
            params=filter_names(ExceptionFilterSerializer),
        )


FLAG_COLUMNS = (
    "id", "breakdown", "rule", "severity", "reason", "raised_at", "cleared_at",
    "indicator", "indicator__key", "indicator__code", "indicator__title",
    "indicator__system", "indicator__system__slug",
    "area", "area__code", "area__name", "area__kind",
)  # fmt: skip
COMMENTARY_COLUMNS = (
    "id", "strategy", "strategy__slug", "indicator", "stocktake", "cycle", "heading",
    "text", "story", "helping", "hindering", "actions_taken", "expected_recovery",
    "status", "dated", "author_name", "position", "version",
    "author", "author__username", "author__first_name", "author__last_name",
)  # fmt: skip


def _exception_flags(systems: list[int], f: dict):
    """The flags the list pages through, newest first, with only the columns it shows."""
    indicators = Indicator.objects.filter(system_id__in=systems)
    if f.get("system"):
        indicators = indicators.filter(system__slug=f["system"])
    if f.get("strategy"):
        indicators = indicators.filter(assignments__strategy__slug=f["strategy"])
    flags = (
        ExceptionFlag.objects.filter(indicator__in=indicators.values("pk"))
        .select_related("indicator__system", "area")
        .only(*FLAG_COLUMNS)
        .order_by("-raised_at", "id")
    )
    if not f.get("include_cleared"):
        flags = flags.filter(cleared_at__isnull=True)
    return flags


_stamp = serializers.DateTimeField().to_representation


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def commentary_author(c) -> str:
    if c.author_name:
        return c.author_name
    return c.author.get_full_name() or c.author.username if c.author else ""


def commentary_row(c) -> dict:
    """A commentary as `CommentarySerializer` gives it (built by hand for the lists)."""
    return {
        "id": c.pk,
        "strategy": c.strategy.slug,
        "indicator": c.indicator_id,
        "stocktake": c.stocktake_id,
        "cycle": c.cycle_id,
        "heading": c.heading,
        "text": c.text,
        "story": c.story,
        "helping": c.helping,
        "hindering": c.hindering,
        "actions_taken": c.actions_taken,
        "expected_recovery": _day(c.expected_recovery),
        "status": c.status,
        "dated": _day(c.dated),
        "author": commentary_author(c),
        "position": c.position,
        "version": c.version,
    }


def exception_rows(page: list[ExceptionFlag]) -> list[dict]:
    """The page's flags as `ExceptionSerializer` gives them, built by hand (nested
    serializers cost more than the queries), with their strategies and commentary:
    two queries however many flags."""
    ids = {flag.indicator_id for flag in page}
    strategies: dict[int, list[str]] = {}
    for indicator_id, slug in (
        Indicator.strategies.through.objects.filter(indicator_id__in=ids)
        .order_by("strategy__number")
        .values_list("indicator_id", "strategy__slug")
    ):
        strategies.setdefault(indicator_id, []).append(slug)
    commentary: dict[int, list[dict]] = {}
    for c in (
        ExceptionCommentary.objects.filter(indicator_id__in=ids)
        .select_related("strategy", "author")
        .only(*COMMENTARY_COLUMNS)
        .order_by("-dated", "position")
    ):
        commentary.setdefault(c.indicator_id, []).append(commentary_row(c))
    rows = []
    for flag in page:
        i, area = flag.indicator, flag.area
        rows.append(
            {
                "id": flag.pk,
                "indicator": {
                    "id": i.pk,
                    "key": i.key,
                    "code": i.code,
                    "title": i.title,
                },
                "system": i.system.slug,
                "strategies": strategies.get(i.pk, []),
                "area": {"code": area.code, "name": area.name, "kind": area.kind},
                "breakdown": flag.breakdown,
                "rule": flag.rule,
                "label": str(flag.get_rule_display()),
                "severity": flag.severity,
                "reason": flag.reason,
                "method": RULE_METHODS.get(flag.rule, ""),
                "raised_at": _stamp(flag.raised_at),
                "cleared_at": _stamp(flag.cleared_at),
                "commentary": commentary.get(i.pk, []),
            }
        )
    return rows


class CommentaryFilterSerializer(serializers.Serializer):
    system = serializers.SlugField(required=False, help_text="A system's slug")
    strategy = serializers.SlugField(required=False, help_text="A strategy's slug")
    indicator = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_BIGINT
    )


class CommentaryListApi(ApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="commentary_list",
        summary="Exception commentary, newest first",
        description=(
            "The commentary explaining indicators on the exception reports, with its "
            "author and date. Paginated; filter by system, strategy and indicator."
        ),
        parameters=[CommentaryFilterSerializer, *PAGE_PARAMETERS],
        responses=read_responses(paginated(CommentarySerializer), 400, 404),
        examples=[
            OpenApiExample(
                "Commentary",
                value=EXCEPTION_EXAMPLE["commentary"][0],
                response_only=True,
            )
        ],
    )
    def get(self, request):
        f = self.filters(CommentaryFilterSerializer)
        queryset = (
            # As the commentary pages (`can_view_strategy`): a role in the system, or
            # a place in the strategy's System Design Group.
            ExceptionCommentary.objects.filter(
                strategy__in=strategies_visible_to(request.user)
            )
            .select_related("strategy", "author")
            .order_by("-dated", "strategy__number", "position", "id")
        )
        if f.get("system"):
            queryset = queryset.filter(strategy__system__slug=f["system"])
        if f.get("strategy"):
            queryset = queryset.filter(strategy__slug=f["strategy"])
        if f.get("indicator"):
            queryset = queryset.filter(indicator_id=f["indicator"])
        return self.paginate(queryset, CommentarySerializer)


# --------------------------------------------------------------------------- writes


class CommentaryInputSerializer(serializers.Serializer):
    system = serializers.SlugField(help_text="The system's slug")
    strategy = serializers.SlugField(help_text="The strategy's slug")
    indicator = serializers.IntegerField(
        min_value=1, max_value=MAX_BIGINT, help_text="The indicator's id"
    )
    story = serializers.CharField(
        max_length=20_000, allow_blank=True, required=False, default=""
    )
    helping = serializers.CharField(
        max_length=20_000, allow_blank=True, required=False, default=""
    )
    hindering = serializers.CharField(
        max_length=20_000, allow_blank=True, required=False, default=""
    )
    actions_taken = serializers.CharField(
        max_length=20_000, allow_blank=True, required=False, default=""
    )
    expected_recovery = serializers.DateField(required=False, allow_null=True)
    submit = serializers.BooleanField(
        default=False,
        help_text="true: submit for a lead's approval (story and actions needed)",
    )


NO_OPEN_CYCLE = "There is no open reporting cycle for this system."
NOT_IN_THE_GROUP = (
    "Only members of the strategy's System Design Group and system administrators "
    "may write its commentary."
)


class CommentaryWriteApi(ApiView):
    write_scope = ApiToken.Scope.WRITE
    parser_classes = [JSONParser]

    @extend_schema(
        tags=[TAG],
        operation_id="commentary_write",
        summary="Write (and optionally submit) exception commentary",
        description=(
            "The open reporting cycle's commentary on an indicator of a strategy, "
            "through the same service as the workflow pages: made as a draft (from last "
            "period's approved commentary) if there is none, then saved, or submitted "
            "for a lead's approval with `submit=true`. Text is sanitised HTML. Members "
            "and leads of the strategy's System Design Group and system administrators; "
            "a token needs the write scope. Every problem at once (400); no open cycle, "
            "a locked period or commentary already submitted is 409."
        ),
        request=CommentaryInputSerializer,
        responses={200: CommentarySerializer, **problems(400, 403, 404, 409, 415)},
        examples=[
            OpenApiExample(
                "Commentary",
                value={
                    "system": "plymouth",
                    "strategy": "wellbeing",
                    "indicator": 19,
                    "story": "<p>Diagnosis rates rose for a third month.</p>",
                    "actions_taken": "<p>Memory clinic capacity doubled.</p>",
                    "submit": True,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Saved", value=EXCEPTION_EXAMPLE["commentary"][0], response_only=True
            ),
        ],
    )
    def post(self, request):
        payload = CommentaryInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        strategy = (
            Strategy.objects.filter(system__slug=data["system"], slug=data["strategy"])
            .select_related("system")
            .first()
        )
        if strategy is None or not can_view_strategy(request.user, strategy):
            raise NotFound
        indicator = Indicator.objects.filter(
            pk=data["indicator"], system=strategy.system
        ).first()
        if indicator is None:
            raise NotFound("No such indicator in this system.")
        if not can_write_commentary(request.user, strategy):
            raise PermissionDenied(NOT_IN_THE_GROUP)
        cycle = open_cycle_for(strategy.system, timezone.localdate())
        if cycle is None:
            raise Conflict(NO_OPEN_CYCLE)
        values = {k: data.get(k) for k in (*TEXT_FIELDS, "expected_recovery")}
        try:
            with transaction.atomic():
                note = commentary_start(
                    cycle=cycle,
                    strategy=strategy,
                    indicator=indicator,
                    user=request.user,
                )
                write = commentary_submit if data["submit"] else commentary_save
                note = write(
                    commentary=note,
                    user=request.user,
                    expected_version=note.version,
                    values=values,
                )
        except DjangoValidationError as exc:
            if hasattr(exc, "message_dict"):
                raise ValidationError(exc.message_dict) from exc
            raise Conflict(" ".join(exc.messages)) from exc
        except (PeriodLocked, EditConflict) as exc:
            raise Conflict(str(exc)) from exc
        note = ExceptionCommentary.objects.select_related("strategy", "author").get(
            pk=note.pk
        )
        return Response(CommentarySerializer(note).data)


class CommentaryCollectionApi(CommentaryWriteApi, CommentaryListApi):
    """GET lists commentary; POST writes it."""
