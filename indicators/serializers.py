"""Output serializers of the indicators and returns API.

Serializers only shape what the views' selectors loaded: none of them queries (lists stay
at a fixed number of queries however long they are)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from commissioning.api.schema import ReturnProblemSerializer
from indicators.models import (
    Area,
    ImportJob,
    Indicator,
    Period,
    Return,
    ReturnEvent,
    Target,
)


def _url(name: str, context: dict, **kwargs) -> str:
    return reverse(f"api:{name}", kwargs=kwargs, request=context.get("request"))


# --------------------------------------------------------------------------- shared


class AreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Area
        fields = ["code", "name", "kind"]


class PeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = Period
        fields = ["label", "start", "end", "kind"]


class IndicatorBriefSerializer(serializers.ModelSerializer):
    """An indicator named, with its addresses; enough to label a row."""

    system = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.SerializerMethodField()
    series_url = serializers.SerializerMethodField()

    class Meta:
        model = Indicator
        fields = [
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

    @extend_schema_field(serializers.CharField())
    def get_url(self, obj: Indicator) -> str:
        return _url("indicator-detail", self.context, pk=obj.pk)

    @extend_schema_field(serializers.CharField())
    def get_series_url(self, obj: Indicator) -> str:
        return _url("indicator-series", self.context, pk=obj.pk)


class AssignmentSerializer(serializers.Serializer):
    system = serializers.SlugField()
    strategy = serializers.SlugField()
    name = serializers.CharField()
    polarity = serializers.CharField(
        help_text="The polarity in this strategy (its own where it overrides)"
    )


class FrameworkItemRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    strategy = serializers.SlugField()
    level = serializers.SlugField()
    key = serializers.CharField()
    number = serializers.IntegerField(allow_null=True)
    title = serializers.CharField(allow_blank=True)


class HeadlineSerializer(serializers.Serializer):
    """The indicator's scorecard series (the area its scorecard row shows)."""

    area = AreaSerializer()
    method = serializers.CharField()
    status = serializers.CharField(
        help_text="improvement, concern, neutral, common_cause, not_enough_data, no_data"
    )
    latest_value = serializers.FloatField(allow_null=True)
    latest_period = serializers.CharField(allow_null=True)
    variation = serializers.CharField(allow_blank=True)
    assurance = serializers.CharField(allow_blank=True)
    compared_with_england = serializers.CharField(allow_blank=True)
    recent_trend = serializers.CharField(allow_blank=True)
    rag = serializers.CharField(allow_blank=True)
    on_exception_report = serializers.BooleanField()
    computed_at = serializers.DateTimeField()


class IndicatorSerializer(IndicatorBriefSerializer):
    strategies = serializers.SerializerMethodField()
    framework_items = serializers.SerializerMethodField()
    headline = serializers.SerializerMethodField()

    class Meta(IndicatorBriefSerializer.Meta):
        fields = [
            *IndicatorBriefSerializer.Meta.fields,
            "local_source",
            "fingertips_id",
            "provider",
            "data_owner",
            "strategies",
            "framework_items",
            "headline",
        ]

    @extend_schema_field(AssignmentSerializer(many=True))
    def get_strategies(self, obj: Indicator) -> list[dict]:
        return [
            {
                "system": obj.system.slug,
                "strategy": a.strategy.slug,
                "name": a.strategy.name,
                "polarity": a.polarity or obj.polarity,
            }
            for a in obj.assignments.all()
        ]

    @extend_schema_field(FrameworkItemRefSerializer(many=True))
    def get_framework_items(self, obj: Indicator) -> list[dict]:
        return [
            {
                "id": item.pk,
                "strategy": item.strategy.slug,
                "level": item.level.slug,
                "key": item.key,
                "number": item.number,
                "title": item.title,
            }
            for item in obj.framework_items.all()
        ]

    @extend_schema_field(HeadlineSerializer(allow_null=True))
    def get_headline(self, obj: Indicator) -> dict | None:
        headline = self.context.get("headlines", {}).get(obj.pk)
        return HeadlineSerializer(headline).data if headline else None


class TargetSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = Target
        fields = [
            "id",
            "kind",
            "value",
            "baseline_value",
            "applies_from",
            "applies_to",
            "due_label",
            "amber_tolerance",
            "text",
            "area",
        ]


class SeriesRefSerializer(serializers.Serializer):
    area = AreaSerializer()
    value_count = serializers.IntegerField()
    url = serializers.CharField()


class IndicatorDetailSerializer(IndicatorSerializer):
    targets = TargetSerializer(many=True, read_only=True)
    series = serializers.SerializerMethodField()

    class Meta(IndicatorSerializer.Meta):
        fields = [
            *IndicatorSerializer.Meta.fields,
            "aliases",
            "definition",
            "breakdowns",
            "amber_tolerance",
            "targets",
            "series",
        ]

    @extend_schema_field(SeriesRefSerializer(many=True))
    def get_series(self, obj: Indicator) -> list[dict]:
        base = _url("indicator-series", self.context, pk=obj.pk)
        return [
            {
                "area": AreaSerializer(area).data,
                "value_count": count,
                "url": f"{base}?area={area.code}",
            }
            for area, count in self.context.get("areas", [])
        ]


# --------------------------------------------------------------------------- series


class ReturnRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()


class SeriesValueSerializer(serializers.Serializer):
    period = PeriodSerializer()
    value = serializers.FloatField(allow_null=True)
    lower_ci = serializers.FloatField(allow_null=True, help_text="Lower 95% limit")
    upper_ci = serializers.FloatField(allow_null=True, help_text="Upper 95% limit")
    count = serializers.FloatField(allow_null=True, help_text="The numerator")
    denominator = serializers.FloatField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    is_synthetic = serializers.BooleanField(help_text="Made up for the demo")
    revised = serializers.BooleanField(help_text="An earlier version was replaced")
    recorded_at = serializers.DateTimeField()
    source_return = ReturnRefSerializer(help_text="The return that brought this value")
    spc_point_type = serializers.CharField(
        allow_blank=True,
        help_text="special_cause_improvement, special_cause_concern, common_cause...",
    )
    spc_rule = serializers.CharField(
        allow_blank=True, help_text="outside_limits, trend, two_in_three or shift"
    )


class SpcGroupSerializer(serializers.Serializer):
    start = serializers.IntegerField(help_text="Index of the group's first point")
    end = serializers.IntegerField(help_text="Index after its last point")
    is_trial = serializers.BooleanField(help_text="Trial limits (fewer than 13 points)")
    mean = serializers.FloatField(allow_null=True)
    lower_limit = serializers.FloatField(allow_null=True)
    upper_limit = serializers.FloatField(allow_null=True)
    lower_two_sigma = serializers.FloatField(allow_null=True)
    upper_two_sigma = serializers.FloatField(allow_null=True)


class SpcSerializer(serializers.Serializer):
    method = serializers.CharField()
    mean = serializers.FloatField(allow_null=True, help_text="Of the latest group")
    lower_limit = serializers.FloatField(allow_null=True)
    upper_limit = serializers.FloatField(allow_null=True)
    is_trial = serializers.BooleanField()
    groups = SpcGroupSerializer(many=True)
    variation = serializers.CharField(
        help_text="The variation icon: the point type of the latest point"
    )
    assurance = serializers.CharField(
        allow_blank=True,
        help_text="consistently_passes, consistently_fails, hit_and_miss or '' "
        "(no target)",
    )
    reason = serializers.CharField(allow_blank=True)
    assurance_reason = serializers.CharField(allow_blank=True, allow_null=True)


class ComparisonSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="Better, Similar, Worse, Higher, Lower...")
    england_value = serializers.FloatField(allow_null=True)
    method = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class TrendSerializer(serializers.Serializer):
    label = serializers.CharField()
    chi_square = serializers.FloatField(allow_null=True)
    method = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class DirectionSerializer(serializers.Serializer):
    label = serializers.CharField()
    method = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class RagSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="Red, Amber or Green")
    method = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    target = TargetSerializer(allow_null=True)


class FlagSerializer(serializers.Serializer):
    rule = serializers.CharField()
    label = serializers.CharField()
    severity = serializers.CharField()
    reason = serializers.CharField()
    method = serializers.CharField()
    raised_at = serializers.DateTimeField(allow_null=True)


class ExceptionStateSerializer(serializers.Serializer):
    on_report = serializers.BooleanField()
    rules = FlagSerializer(many=True, help_text="The rules that fired (open flags)")
    reasons = serializers.ListField(child=serializers.CharField())


class OverdueSerializer(serializers.Serializer):
    overdue = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)


class ComputedFlagsSerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField(allow_null=True)
    method = serializers.CharField(
        help_text="spc, public_health, direction or insufficient_data"
    )
    method_label = serializers.CharField()
    status = serializers.CharField()
    point_count = serializers.IntegerField()
    spc = SpcSerializer(allow_null=True)
    compared_with_england = ComparisonSerializer(allow_null=True)
    recent_trend = TrendSerializer(allow_null=True)
    direction = DirectionSerializer(allow_null=True)
    rag = RagSerializer(allow_null=True)
    overdue = OverdueSerializer()
    exception = ExceptionStateSerializer()


class SeriesSerializer(serializers.Serializer):
    area = AreaSerializer()
    breakdown = serializers.CharField(allow_blank=True)
    is_headline = serializers.BooleanField(
        help_text="The series the scorecard shows for this indicator"
    )
    values = SeriesValueSerializer(many=True)
    flags = ComputedFlagsSerializer(
        allow_null=True, help_text="Null until the series has been computed"
    )


class IndicatorSeriesSerializer(serializers.Serializer):
    indicator = IndicatorBriefSerializer()
    series = SeriesSerializer(many=True)


# --------------------------------------------------------------------------- returns


class CountsSerializer(serializers.Serializer):
    new = serializers.IntegerField()
    revised = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    skipped = serializers.IntegerField()


class ReturnSerializer(serializers.ModelSerializer):
    system = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    uploaded_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    rolled_back_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    counts = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = Return
        fields = [
            "id",
            "system",
            "kind",
            "status",
            "title",
            "file_name",
            "sha256",
            "sheet",
            "file_format",
            "value_convention",
            "source",
            "uploaded_by",
            "created_at",
            "counts",
            "rolled_back_at",
            "rolled_back_by",
            "is_synthetic",
            "url",
            "file_url",
        ]

    @extend_schema_field(CountsSerializer)
    def get_counts(self, obj: Return) -> dict:
        return {
            "new": obj.new_count,
            "revised": obj.revised_count,
            "unchanged": obj.unchanged_count,
            "skipped": obj.skipped_count,
        }

    @extend_schema_field(serializers.CharField())
    def get_url(self, obj: Return) -> str:
        return _url("return-detail", self.context, pk=obj.pk)

    @extend_schema_field(
        serializers.CharField(
            allow_null=True,
            help_text="The original file (analysts of the system only); null if none",
        )
    )
    def get_file_url(self, obj: Return) -> str | None:
        if not obj.file:
            return None
        return _url("return-file", self.context, pk=obj.pk)


class ReturnEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    details = serializers.DictField(help_text="Counts of what the event did")

    class Meta:
        model = ReturnEvent
        fields = ["action", "actor", "at", "details"]


class ReturnDetailSerializer(ReturnSerializer):
    events = ReturnEventSerializer(many=True, read_only=True)
    value_count = serializers.SerializerMethodField()

    class Meta(ReturnSerializer.Meta):
        fields = [*ReturnSerializer.Meta.fields, "value_count", "events"]

    @extend_schema_field(serializers.IntegerField())
    def get_value_count(self, obj: Return) -> int:
        return self.context.get("value_count", 0)


class UploadSerializer(serializers.ModelSerializer):
    """An upload on its way in (checked, previewed, committed or not)."""

    system = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    running = serializers.BooleanField(source="is_running", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    counts = serializers.SerializerMethodField()
    committed_return = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    commit_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "system",
            "status",
            "status_label",
            "stage",
            "running",
            "percent",
            "file_name",
            "sha256",
            "size_bytes",
            "requested_format",
            "requested_sheet",
            "create_missing_indicators",
            "detected_format",
            "created_by",
            "created_at",
            "finished_at",
            "fingerprint",
            "counts",
            "problem_count",
            "error",
            "committed_return",
            "url",
            "commit_url",
        ]

    @extend_schema_field(CountsSerializer)
    def get_counts(self, obj: ImportJob) -> dict:
        return {
            "new": obj.new_count,
            "revised": obj.revised_count,
            "unchanged": obj.unchanged_count,
            "skipped": obj.skipped_count,
        }

    @extend_schema_field(ReturnRefSerializer(allow_null=True))
    def get_committed_return(self, obj: ImportJob) -> dict | None:
        the_return = obj.committed_return
        if the_return is None:
            return None
        return {
            "id": the_return.pk,
            "kind": the_return.kind,
            "title": the_return.title,
            "url": _url("return-detail", self.context, pk=the_return.pk),
        }

    @extend_schema_field(serializers.CharField())
    def get_url(self, obj: ImportJob) -> str:
        return _url("upload-detail", self.context, pk=obj.pk)

    @extend_schema_field(
        serializers.CharField(
            allow_null=True, help_text="POST here to commit (when status is ready)"
        )
    )
    def get_commit_url(self, obj: ImportJob) -> str | None:
        if obj.status != ImportJob.Status.READY:
            return None
        return _url("upload-commit", self.context, pk=obj.pk)


class PreviewValueSerializer(serializers.Serializer):
    sheet = serializers.CharField(allow_blank=True)
    row = serializers.IntegerField()
    indicator = serializers.CharField()
    indicator_title = serializers.CharField(allow_blank=True)
    area = serializers.CharField(allow_blank=True)
    period = serializers.CharField()
    breakdown = serializers.CharField(allow_blank=True)
    value = serializers.CharField()
    old_value = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)


class PreviewSamplesSerializer(serializers.Serializer):
    new = PreviewValueSerializer(many=True, required=False)
    revised = PreviewValueSerializer(many=True, required=False)
    unchanged = PreviewValueSerializer(many=True, required=False)


class PreviewSerializer(serializers.Serializer):
    """What the returns page shows of a preview besides the counts (the first values of
    each kind, how the file was read). Members may be added; none is removed."""

    system = serializers.CharField(required=False, allow_blank=True)
    format = serializers.CharField(required=False, allow_blank=True)
    encoding = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    delimiter = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    number_style = serializers.CharField(
        required=False, allow_blank=True, allow_null=True
    )
    percentage_convention = serializers.CharField(
        required=False, allow_blank=True, allow_null=True
    )
    skipped_reasons = serializers.DictField(
        child=serializers.IntegerField(), required=False
    )
    samples = PreviewSamplesSerializer(required=False)


class UploadDetailSerializer(UploadSerializer):
    problems = serializers.SerializerMethodField()
    preview = serializers.SerializerMethodField()

    class Meta(UploadSerializer.Meta):
        fields = [*UploadSerializer.Meta.fields, "preview", "problems"]

    @extend_schema_field(PreviewSerializer)
    def get_preview(self, obj: ImportJob) -> dict:
        return obj.summary or {}

    @extend_schema_field(ReturnProblemSerializer(many=True))
    def get_problems(self, obj: ImportJob) -> list[dict]:
        return problem_dicts(self.context.get("problems", []))


def problem_dicts(problems) -> list[dict]:
    """Problems (ImportProblem rows) in the structure the returns page lists them."""
    return [
        {
            "sheet": p.sheet,
            "row": p.row,
            "column": p.column,
            "value": p.value,
            "code": p.code,
            "message": p.message,
        }
        for p in problems
    ]
