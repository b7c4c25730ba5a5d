"""Action plans: each commissioning activity with its progress reports. Only systems the
user holds a role in; others' ids are 404."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from actions.models import Action, ProgressReport, Rag
from actions.services import PeriodLocked, progress_report_create
from commissioning.api.cached import cached_list, filter_names, ids_of
from commissioning.api.problems import Conflict
from commissioning.api.schema import (
    PAGE_PARAMETERS,
    paginated,
    problems,
    read_responses,
)
from commissioning.api.views import ApiView
from commissioning.db import MAX_BIGINT
from indicators.models import Indicator
from strategies.models import ApiToken
from strategies.permissions import (
    can_report_progress,
    can_view_strategy,
    strategies_visible_to,
)

TAG = "Actions"
NOT_IN_THE_GROUP = (
    "Only members of the strategy's System Design Group and system administrators "
    "may do this."
)


class ProgressReportSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = ProgressReport
        fields = ["id", "date", "author", "text", "rag", "position"]

    @extend_schema_field(serializers.CharField(allow_blank=True))
    def get_author(self, obj) -> str:
        if obj.author_name:
            return obj.author_name
        return (obj.author.get_full_name() or obj.author.username) if obj.author else ""


class ActionSerializer(serializers.ModelSerializer):
    system = serializers.SlugRelatedField(
        source="plan.system", slug_field="slug", read_only=True
    )
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    strategy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    indicators = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    progress = ProgressReportSerializer(
        many=True, read_only=True, source="progress_reports"
    )

    class Meta:
        model = Action
        fields = [
            "id", "system", "plan", "strategy", "position", "title", "description",
            "timeframe", "timeframe_start", "due_date", "status", "rag", "indicators",
            "progress",
        ]  # fmt: skip


class ActionFilterSerializer(serializers.Serializer):
    system = serializers.SlugField(required=False, help_text="A system's slug")
    strategy = serializers.SlugField(required=False, help_text="A strategy's slug")
    status = serializers.ChoiceField(choices=Action.Status.choices, required=False)
    indicator = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_BIGINT,
        help_text="Actions linked to this indicator",
    )


ACTION_EXAMPLE = {
    "id": 4,
    "system": "plymouth",
    "plan": "2017-18",
    "strategy": "wellbeing",
    "position": 1,
    "title": "Develop a dementia-friendly city programme",
    "description": "",
    "timeframe": "2017/18",
    "timeframe_start": "2017-04-01",
    "due_date": "2018-03-31",
    "status": "on_track",
    "rag": "green",
    "indicators": [19],
    "progress": [
        {
            "id": 9,
            "date": "2017-10-01",
            "author": "Jo Bloggs",
            "text": "<p>Memory cafes opened in two localities.</p>",
            "rag": "green",
            "position": 0,
        }
    ],
}


def _actions(user):
    return (
        # As the action plan pages (`can_view_strategy`): a role in the system, or a
        # place in the strategy's System Design Group.
        Action.objects.filter(strategy__in=strategies_visible_to(user))
        .select_related("plan__system", "strategy")
        .prefetch_related(
            "indicators",
            Prefetch(
                "progress_reports",
                queryset=ProgressReport.objects.select_related("author").order_by(
                    "date", "position"
                ),
            ),
        )
        .order_by("plan__system__position", "strategy__number", "position", "id")
    )


class ActionListApi(ApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="actions_list",
        summary="Commissioning activities with their progress reports",
        description=(
            "Each action of the systems' action plans (the Integrated System Action "
            "Plans of the stocktake): title, timeframe, status, RAG, the indicators it "
            "should move and every progress report with its author and date. Paginated; "
            "a fixed number of queries however many actions and reports."
        ),
        parameters=[ActionFilterSerializer, *PAGE_PARAMETERS],
        responses=read_responses(paginated(ActionSerializer), 400, 404),
        examples=[OpenApiExample("Actions", value=ACTION_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        f = self.filters(ActionFilterSerializer)
        # Who sees what: the actions of the strategies the user may see. Asked on
        # every request; the cached answer is kept per set of strategies.
        strategies = ids_of(strategies_visible_to(request.user))
        return cached_list(
            request,
            "actions",
            strategies,
            lambda: self.paginated_rows(_action_list(strategies, f), action_rows),
            params=filter_names(ActionFilterSerializer),
        )


# What an action's list row shows (never its source or bookkeeping).
ACTION_COLUMNS = (
    "id", "position", "title", "description", "timeframe", "timeframe_start",
    "due_date", "status", "rag", "plan", "plan__slug", "plan__system",
    "plan__system__slug", "strategy", "strategy__slug",
)  # fmt: skip
PROGRESS_COLUMNS = (
    "id", "action", "date", "author_name", "text", "rag", "position",
    "author", "author__username", "author__first_name", "author__last_name",
)  # fmt: skip


def _action_list(strategies: list[int], f: dict):
    """The actions the list pages through, in the list's order. The indicator filter
    is a subquery, so that no row repeats and no DISTINCT is needed."""
    queryset = Action.objects.filter(strategy_id__in=strategies)
    if f.get("system"):
        queryset = queryset.filter(plan__system__slug=f["system"])
    if f.get("strategy"):
        queryset = queryset.filter(strategy__slug=f["strategy"])
    if f.get("status"):
        queryset = queryset.filter(status=f["status"])
    if f.get("indicator"):
        queryset = queryset.filter(
            pk__in=Action.indicators.through.objects.filter(
                indicator_id=f["indicator"]
            ).values("action_id")
        )
    return (
        queryset.select_related("plan__system", "strategy")
        .only(*ACTION_COLUMNS)
        .prefetch_related(
            Prefetch("indicators", queryset=Indicator.objects.only("id")),
            Prefetch(
                "progress_reports",
                queryset=ProgressReport.objects.select_related("author")
                .only(*PROGRESS_COLUMNS)
                .order_by("date", "position"),
            ),
        )
        .order_by("plan__system__position", "strategy__number", "position", "id")
    )


def _day(value) -> str | None:
    return value.isoformat() if value is not None else None


def _author(report: ProgressReport) -> str:
    if report.author_name:
        return report.author_name
    a = report.author
    return (a.get_full_name() or a.username) if a else ""


def action_rows(page: list[Action]) -> list[dict]:
    """The page as `ActionSerializer` gives it, built by hand (nested serializers cost
    more than the queries)."""
    return [
        {
            "id": a.pk,
            "system": a.plan.system.slug,
            "plan": a.plan.slug,
            "strategy": a.strategy.slug,
            "position": a.position,
            "title": a.title,
            "description": a.description,
            "timeframe": a.timeframe,
            "timeframe_start": _day(a.timeframe_start),
            "due_date": _day(a.due_date),
            "status": a.status,
            "rag": a.rag,
            "indicators": [i.pk for i in a.indicators.all()],
            "progress": [
                {
                    "id": p.pk,
                    "date": _day(p.date),
                    "author": _author(p),
                    "text": p.text,
                    "rag": p.rag,
                    "position": p.position,
                }
                for p in a.progress_reports.all()
            ],
        }
        for a in page
    ]


class ActionDetailApi(ApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="actions_retrieve",
        summary="One action with its progress reports",
        description="404 for an action of a system you hold no role in.",
        responses=read_responses(ActionSerializer, 404),
        examples=[OpenApiExample("Action", value=ACTION_EXAMPLE, response_only=True)],
    )
    def get(self, request, pk: int):
        action = _actions(request.user).filter(pk=pk).first()
        if action is None:
            raise NotFound
        return Response(ActionSerializer(action).data)


# --------------------------------------------------------------------------- writes


class ProgressInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Action.Status.choices)
    rag = serializers.ChoiceField(choices=Rag.choices)
    rag_reason = serializers.CharField(max_length=1000)
    percent_complete = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True
    )
    text = serializers.CharField(
        max_length=20_000, help_text="The narrative: simple HTML, sanitised"
    )


class ProgressCreatedSerializer(ProgressReportSerializer):
    class Meta(ProgressReportSerializer.Meta):
        fields = [
            *ProgressReportSerializer.Meta.fields,
            "status",
            "rag_reason",
            "percent_complete",
        ]


def django_errors(exc: DjangoValidationError) -> ValidationError:
    """A service's ValidationError (every problem at once) as the API's 400."""
    if hasattr(exc, "message_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


class ActionProgressApi(ApiView):
    write_scope = ApiToken.Scope.WRITE
    parser_classes = [JSONParser]

    @extend_schema(
        tags=[TAG],
        operation_id="actions_progress_create",
        summary="Add a progress update to an action",
        description=(
            "The same service as the action page: the update becomes the action's "
            "current status and RAG, in the open reporting cycle. Members and leads of "
            "the strategy's System Design Group, and system administrators; a token "
            "needs the write scope. Every problem is reported at once (400); a "
            "published, locked period is 409."
        ),
        request=ProgressInputSerializer,
        responses={201: ProgressCreatedSerializer, **problems(400, 403, 404, 409, 415)},
        examples=[
            OpenApiExample(
                "Progress",
                value={
                    "status": "on_track",
                    "rag": "green",
                    "rag_reason": "Both cafes open on time",
                    "percent_complete": 60,
                    "text": "<p>Memory cafes opened in two localities.</p>",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                value={
                    **ACTION_EXAMPLE["progress"][0],
                    "status": "on_track",
                    "rag_reason": "Both cafes open on time",
                    "percent_complete": 60,
                },
                response_only=True,
                status_codes=[201],
            ),
        ],
    )
    def post(self, request, pk: int):
        action = Action.objects.filter(pk=pk).select_related("strategy__system").first()
        if action is None or not can_view_strategy(request.user, action.strategy):
            raise NotFound
        if not can_report_progress(request.user, action.strategy):
            raise PermissionDenied(NOT_IN_THE_GROUP)
        payload = ProgressInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            report = progress_report_create(
                action=action,
                author=request.user,
                status=data["status"],
                rag=data["rag"],
                rag_reason=data["rag_reason"],
                percent_complete=data.get("percent_complete"),
                text=data["text"],
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        except PeriodLocked as exc:
            raise Conflict(str(exc)) from exc
        return Response(ProgressCreatedSerializer(report).data, status=201)
