from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from commissioning.html import sanitising_admin_form
from scorecard.models import (
    BoardPack,
    BoardPackSchedule,
    ExceptionCommentary,
    PublishedOverviewRow,
    ReminderSent,
    ReportingCycle,
    SnapshotRow,
    Stocktake,
)
from strategies.permissions import (
    SystemScopedAdminMixin,
    can_publish_stocktake,
    is_system_admin,
)


class PublishedOverviewRowInline(admin.TabularInline):
    model = PublishedOverviewRow
    extra = 0
    fields = [
        "strategy",
        "position",
        "indicator_text",
        "most_recent_period_text",
        "benchmark_england_text",
        "first_value_text",
        "last_value_text",
        "trend_text",
    ]
    readonly_fields = fields
    can_delete = False


@admin.register(Stocktake)
class StocktakeAdmin(admin.ModelAdmin):
    list_display = ["title", "system", "published"]
    list_filter = ["system"]
    search_fields = ["title"]
    list_select_related = ["system"]
    inlines = [PublishedOverviewRowInline]


@admin.register(PublishedOverviewRow)
class PublishedOverviewRowAdmin(admin.ModelAdmin):
    list_display = [
        "indicator_text",
        "strategy",
        "most_recent_period_text",
        "first_value_text",
        "last_value_text",
        "stocktake",
    ]
    list_filter = ["stocktake", "strategy"]
    search_fields = ["indicator_text", "group_heading"]
    list_select_related = ["strategy", "stocktake"]


@admin.register(ExceptionCommentary)
class ExceptionCommentaryAdmin(SystemScopedAdminMixin, SimpleHistoryAdmin):
    system_path = "strategy__system"
    admin_check = staticmethod(is_system_admin)
    form = sanitising_admin_form(
        "text", "story", "helping", "hindering", "actions_taken"
    )
    list_display = ["heading", "strategy", "cycle", "status", "dated", "author_name"]
    list_filter = ["strategy__system", "status", "strategy", "dated"]
    search_fields = ["heading", "text", "story"]
    list_select_related = ["strategy", "indicator", "cycle"]
    raw_id_fields = [
        "indicator",
        "author",
        "submitted_by",
        "approved_by",
        "carried_from",
    ]
    readonly_fields = ["version"]


@admin.register(ReportingCycle)
class ReportingCycleAdmin(SystemScopedAdminMixin, admin.ModelAdmin):
    """Administrators open reporting cycles here; publishing happens on the cycle's page."""

    system_path = "system"
    admin_check = staticmethod(can_publish_stocktake)
    list_display = ["title", "system", "opens", "deadline", "stocktake"]
    list_filter = ["system"]
    list_select_related = ["system", "stocktake"]
    readonly_fields = ["stocktake"]


@admin.register(ReminderSent)
class ReminderSentAdmin(SystemScopedAdminMixin, admin.ModelAdmin):
    system_path = "cycle__system"
    admin_check = staticmethod(is_system_admin)
    list_display = ["user", "cycle", "sent_at", "item_count"]
    list_select_related = ["user", "cycle"]
    readonly_fields = ["user", "cycle", "sent_at", "item_count"]


@admin.register(SnapshotRow)
class SnapshotRowAdmin(SystemScopedAdminMixin, admin.ModelAdmin):
    """Read-only: a published snapshot never changes."""

    system_path = "stocktake__system"
    admin_check = staticmethod(is_system_admin)
    list_display = ["stocktake", "kind", "strategy", "position"]
    list_filter = ["stocktake", "kind"]
    list_select_related = ["stocktake", "strategy"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BoardPack)
class BoardPackAdmin(SystemScopedAdminMixin, admin.ModelAdmin):
    """Packs are generated from the Board packs page; here they are only looked at."""

    admin_check = staticmethod(is_system_admin)
    list_display = ["title", "system", "status", "requested_by_name", "created_at"]
    list_filter = ["system", "status", "scheduled"]
    search_fields = ["title", "requested_by_name"]
    list_select_related = ["system"]
    readonly_fields = [f.name for f in BoardPack._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BoardPackSchedule)
class BoardPackScheduleAdmin(SystemScopedAdminMixin, admin.ModelAdmin):
    admin_check = staticmethod(is_system_admin)
    list_display = ["system", "enabled", "day_of_month"]
    list_filter = ["enabled"]
    list_select_related = ["system"]
