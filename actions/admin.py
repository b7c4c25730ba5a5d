from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from actions.models import (
    Action,
    ActionPlan,
    Benefit,
    Milestone,
    Programme,
    ProgressReport,
    Project,
    SavingsPlan,
)
from commissioning.html import sanitising_admin_form
from strategies.permissions import SystemScopedAdminMixin, is_system_admin


@admin.register(ActionPlan)
class ActionPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "system", "start", "end"]
    list_filter = ["system"]
    search_fields = ["name"]
    list_select_related = ["system"]


class ProgressReportInline(admin.StackedInline):
    model = ProgressReport
    form = sanitising_admin_form("text")
    extra = 0
    fields = [
        "date",
        "author",
        "author_name",
        "status",
        "rag",
        "rag_reason",
        "percent_complete",
        "text",
        "cycle",
    ]
    raw_id_fields = ["author"]


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ["title", "due_date", "completed_on"]


@admin.register(Action)
class ActionAdmin(SystemScopedAdminMixin, SimpleHistoryAdmin):
    # System administrators of the action's system (SDG leads use the pages).
    system_path = "strategy__system"
    admin_check = staticmethod(is_system_admin)
    form = sanitising_admin_form("description")
    readonly_fields = ["version"]
    list_display = [
        "title",
        "strategy",
        "plan",
        "timeframe",
        "due_date",
        "status",
        "rag",
    ]
    list_filter = ["plan__system", "plan", "strategy", "status", "rag"]
    search_fields = ["title", "description", "timeframe"]
    list_select_related = ["strategy", "plan"]
    filter_horizontal = ["indicators"]
    inlines = [ProgressReportInline, MilestoneInline]


@admin.register(ProgressReport)
class ProgressReportAdmin(SystemScopedAdminMixin, SimpleHistoryAdmin):
    system_path = "action__strategy__system"
    admin_check = staticmethod(is_system_admin)
    form = sanitising_admin_form("text")
    list_display = ["action", "date", "author_name", "rag"]
    list_filter = ["rag", "action__strategy"]
    search_fields = ["text", "action__title"]
    list_select_related = ["action"]
    raw_id_fields = ["action", "author"]


@admin.register(Milestone)
class MilestoneAdmin(SystemScopedAdminMixin, SimpleHistoryAdmin):
    system_path = "action__strategy__system"
    admin_check = staticmethod(is_system_admin)
    list_display = ["title", "action", "due_date", "completed_on"]
    list_filter = ["action__strategy"]
    search_fields = ["title", "action__title"]
    list_select_related = ["action"]
    raw_id_fields = ["action"]


@admin.register(SavingsPlan)
class SavingsPlanAdmin(admin.ModelAdmin):
    list_display = ["service", "system", "risk_rating"]
    list_filter = ["system", "risk_rating"]
    search_fields = ["service", "overview", "risk_text"]
    list_select_related = ["system"]


class ProjectInline(admin.TabularInline):
    model = Project
    extra = 0
    fields = ["name", "slug", "addressable_spend_gbp_m", "position"]


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "system"]
    list_filter = ["system"]
    search_fields = ["name", "summary"]
    list_select_related = ["system"]
    inlines = [ProjectInline]


class BenefitInline(admin.TabularInline):
    model = Benefit
    extra = 0
    fields = ["title", "baseline_value", "baseline_period", "baseline_text", "position"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "programme", "addressable_spend_gbp_m"]
    list_filter = ["programme"]
    search_fields = ["name", "summary"]
    list_select_related = ["programme"]
    inlines = [BenefitInline]


@admin.register(Benefit)
class BenefitAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "baseline_value", "baseline_period"]
    list_filter = ["project__programme", "project"]
    search_fields = ["title", "measure", "baseline_text"]
    list_select_related = ["project"]
