from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from strategies.models import (
    ApiToken,
    CommissioningSystem,
    FrameworkItem,
    FrameworkLevel,
    Fund,
    GovernanceGroup,
    PartnerOrganisation,
    SdgMembership,
    Strategy,
    StrategyLink,
    SystemDesignGroup,
    SystemRole,
    SystemStatement,
)
from strategies.permissions import SystemScopedAdminMixin, can_manage_permissions


class FrameworkLevelInline(admin.TabularInline):
    model = FrameworkLevel
    extra = 0


class PartnerInline(admin.TabularInline):
    model = PartnerOrganisation
    extra = 0


class FundInline(admin.TabularInline):
    model = Fund
    extra = 0
    fields = ["name", "amount_gbp_m", "year", "source"]


@admin.register(CommissioningSystem)
class CommissioningSystemAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "strategy_label", "position"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [FrameworkLevelInline, PartnerInline, FundInline]


@admin.register(SystemStatement)
class SystemStatementAdmin(admin.ModelAdmin):
    list_display = ["section_title", "number", "title", "group", "system"]
    list_filter = ["system", "section_title"]
    search_fields = ["title", "text", "group"]
    list_select_related = ["system"]


@admin.register(GovernanceGroup)
class GovernanceGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "system"]
    list_filter = ["system"]
    search_fields = ["name", "remit"]
    list_select_related = ["system"]


class FrameworkItemInline(admin.StackedInline):
    model = FrameworkItem
    extra = 0
    fields = [
        "level",
        "key",
        "number",
        "title",
        "text",
        "due_label",
        "due_date",
        "position",
    ]


class StrategyLinkInline(admin.TabularInline):
    model = StrategyLink
    fk_name = "from_strategy"
    extra = 0


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    list_display = ["name", "number", "system", "spend_gbp_m", "spend_year"]
    list_filter = ["system"]
    search_fields = ["name", "vision", "scope"]
    list_select_related = ["system"]
    inlines = [FrameworkItemInline, StrategyLinkInline]


@admin.register(FrameworkItem)
class FrameworkItemAdmin(admin.ModelAdmin):
    list_display = ["__str__", "level", "strategy", "due_label", "due_date"]
    list_filter = ["strategy__system", "level__name", "strategy"]
    search_fields = ["title", "text", "key"]
    list_select_related = ["level", "strategy"]


class SdgMembershipInline(admin.TabularInline):
    model = SdgMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(SystemDesignGroup)
class SystemDesignGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "strategy"]
    list_filter = ["strategy__system"]
    search_fields = ["name", "remit"]
    list_select_related = ["strategy"]
    inlines = [SdgMembershipInline]


@admin.register(SdgMembership)
class SdgMembershipAdmin(SystemScopedAdminMixin, SimpleHistoryAdmin):
    # Audit history of permissions; system administrators only.
    system_path = "group__strategy__system"
    admin_check = staticmethod(can_manage_permissions)
    list_display = ["user", "role", "group"]
    list_filter = ["group__strategy__system", "role"]
    search_fields = ["user__username", "group__name"]
    list_select_related = ["user", "group"]
    autocomplete_fields = ["user"]


@admin.register(SystemRole)
class SystemRoleAdmin(SystemScopedAdminMixin, SimpleHistoryAdmin):
    system_path = "system"
    admin_check = staticmethod(can_manage_permissions)
    list_display = ["user", "role", "system"]
    list_filter = ["system", "role"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user", "system"]
    autocomplete_fields = ["user"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made by their users (or create_api_token); here they can be revoked."""

    list_display = ["name", "user", "prefix", "scope", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "prefix", "key_hash", "scope", "last_used_at"]
    fields = ["name", "user", "prefix", "key_hash", "scope", "last_used_at"]
    fields += ["expires_at", "revoked_at"]

    def has_add_permission(self, request):
        return False
