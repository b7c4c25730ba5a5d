from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from indicators.models import (
    Area,
    ImportJob,
    ImportProblem,
    Indicator,
    IndicatorAssignment,
    Observation,
    Period,
    RecomputeRequest,
    Return,
    ReturnEvent,
    Target,
)
from strategies.permissions import SystemScopedAdminMixin, can_manage_indicators


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]
    list_select_related = ["parent"]


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    list_display = ["label", "kind", "start", "end"]
    list_filter = ["kind"]
    search_fields = ["label"]


class AssignmentInline(admin.TabularInline):
    model = IndicatorAssignment
    extra = 0


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0
    fields = ["kind", "value", "due_label", "applies_to", "amber_tolerance", "text"]


@admin.register(Indicator)
class IndicatorAdmin(SystemScopedAdminMixin, SimpleHistoryAdmin):
    # Audit history of definitions; analysts and administrators of the system only.
    system_path = "system"
    admin_check = staticmethod(can_manage_indicators)
    list_display = [
        "title",
        "code",
        "source_framework",
        "measure_type",
        "polarity",
        "period_type",
        "system",
    ]
    list_filter = [
        "system",
        "source_framework",
        "measure_type",
        "polarity",
        "period_type",
    ]
    search_fields = ["title", "code", "key", "definition", "aliases"]
    list_select_related = ["system"]
    filter_horizontal = ["framework_items"]
    inlines = [AssignmentInline, TargetInline]


@admin.register(Return)
class ReturnAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "status", "system", "uploaded_by", "created_at"]
    list_filter = ["system", "kind", "status"]
    search_fields = ["title", "file_name", "sha256"]
    list_select_related = ["system", "uploaded_by"]


@admin.register(Observation)
class ObservationAdmin(admin.ModelAdmin):
    list_display = [
        "indicator",
        "area",
        "period",
        "value",
        "is_current",
        "is_synthetic",
        "source_return",
    ]
    list_filter = [
        "is_current",
        "is_synthetic",
        "indicator__system",
        "area",
        "period__kind",
    ]
    search_fields = [
        "indicator__title",
        "indicator__code",
        "area__name",
        "period__label",
    ]
    list_select_related = ["indicator", "area", "period", "source_return"]
    raw_id_fields = ["indicator", "area", "period", "source_return"]


@admin.register(Target)
class TargetAdmin(SystemScopedAdminMixin, SimpleHistoryAdmin):
    system_path = "indicator__system"
    admin_check = staticmethod(can_manage_indicators)
    list_display = ["indicator", "kind", "value", "due_label", "applies_to", "text"]
    list_filter = ["kind", "indicator__system"]
    search_fields = ["indicator__title", "text"]
    list_select_related = ["indicator"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["file_name", "system", "status", "created_by", "created_at"]
    list_filter = ["system", "status"]
    search_fields = ["file_name", "sha256"]
    list_select_related = ["system", "created_by"]
    raw_id_fields = ["committed_return"]
    readonly_fields = ["fingerprint", "summary", "sha256"]


@admin.register(ImportProblem)
class ImportProblemAdmin(admin.ModelAdmin):
    list_display = ["job", "row", "column", "code", "message"]
    list_filter = ["code"]
    list_select_related = ["job"]
    raw_id_fields = ["job"]


@admin.register(ReturnEvent)
class ReturnEventAdmin(admin.ModelAdmin):
    list_display = ["source_return", "action", "actor", "at"]
    list_filter = ["action"]
    list_select_related = ["source_return", "actor"]
    raw_id_fields = ["source_return"]


@admin.register(RecomputeRequest)
class RecomputeRequestAdmin(admin.ModelAdmin):
    list_display = [
        "indicator",
        "area",
        "breakdown",
        "reason",
        "created_at",
        "processed_at",
    ]
    list_filter = ["reason", "processed_at"]
    list_select_related = ["indicator", "area"]
    raw_id_fields = ["indicator", "area", "source_return"]
