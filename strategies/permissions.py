"""Who may see and do what, per commissioning system. Views, the API and the admin all ask
here, so the rules are enforced identically everywhere."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from strategies.models import CommissioningSystem, SdgMembership, SystemRole


def systems_visible_to(user) -> QuerySet[CommissioningSystem]:
    if not user.is_authenticated:
        return CommissioningSystem.objects.none()
    if user.is_superuser:
        return CommissioningSystem.objects.all()
    return CommissioningSystem.objects.filter(roles__user=user).distinct()


def workflow_systems_visible_to(user) -> QuerySet[CommissioningSystem]:
    """Systems whose workflow (reporting cycles, published stocktakes) the user may see:
    those they hold a role in (`systems_visible_to`) and those where they sit in a
    strategy's System Design Group. Inside such a system a group member who holds no role
    sees only their own strategies (`strategies_visible_to`, `can_view_strategy`)."""
    if not user.is_authenticated:
        return CommissioningSystem.objects.none()
    if user.is_superuser:
        return CommissioningSystem.objects.all()
    return CommissioningSystem.objects.filter(
        Q(pk__in=SystemRole.objects.filter(user=user).values("system_id"))
        | Q(
            pk__in=SdgMembership.objects.filter(user=user).values(
                "group__strategy__system_id"
            )
        )
    )


def has_system_role(user, system: CommissioningSystem, *roles: str) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return SystemRole.objects.filter(system=system, user=user, role__in=roles).exists()


def can_view_system(user, system: CommissioningSystem) -> bool:
    return has_system_role(user, system, *SystemRole.Role.values)


def can_manage_returns(user, system: CommissioningSystem) -> bool:
    """Upload, commit and roll back indicator returns: analysts of the system only."""
    return has_system_role(user, system, SystemRole.Role.ANALYST)


# --- System Design Group workflow (issue 6) -------------------------------------------
# Roles: viewer / analyst / system administrator per system (SystemRole); SDG member and
# SDG lead per strategy (SdgMembership); superusers may do everything. Pages, the admin and
# the API ask these functions. Callers first check `can_view_*` and answer 404 when it is
# false (so ids of another system reveal nothing), then 403 for a write the user may not do.


def sdg_role(user, strategy) -> str | None:
    """'lead', 'member' or None: the user's place in the strategy's System Design Group."""
    if not user.is_authenticated:
        return None
    return (
        SdgMembership.objects.filter(group__strategy=strategy, user=user)
        .values_list("role", flat=True)
        .first()
    )


def is_system_admin(user, system: CommissioningSystem) -> bool:
    return has_system_role(user, system, SystemRole.Role.ADMIN)


def can_view_strategy(user, strategy) -> bool:
    """Anyone with a role in the system, or a member of the strategy's group."""
    return (
        can_view_system(user, strategy.system) or sdg_role(user, strategy) is not None
    )


def can_manage_actions(user, strategy) -> bool:
    """Create and edit commissioning activities and milestones: SDG leads, admins."""
    return (
        is_system_admin(user, strategy.system)
        or sdg_role(user, strategy) == SdgMembership.Role.LEAD
    )


def can_report_progress(user, strategy) -> bool:
    """Add progress updates: SDG members and leads, admins."""
    return (
        is_system_admin(user, strategy.system) or sdg_role(user, strategy) is not None
    )


def can_write_commentary(user, strategy) -> bool:
    """Draft, edit and submit exception commentary: SDG members and leads, admins."""
    return can_report_progress(user, strategy)


def can_approve_commentary(user, strategy) -> bool:
    """Approve or return submitted commentary: SDG leads and admins (the service also
    refuses an approval by the person who submitted it)."""
    return can_manage_actions(user, strategy)


def can_publish_stocktake(user, system: CommissioningSystem) -> bool:
    """Publish a reporting cycle as a stocktake and manage cycles: system administrators."""
    return is_system_admin(user, system)


def can_manage_indicators(user, system: CommissioningSystem) -> bool:
    """Edit indicator definitions and targets: analysts and administrators."""
    return has_system_role(user, system, SystemRole.Role.ANALYST, SystemRole.Role.ADMIN)


def can_manage_permissions(user, system: CommissioningSystem) -> bool:
    """Grant system roles and SDG memberships: system administrators."""
    return is_system_admin(user, system)


def strategies_visible_to(user) -> QuerySet:
    from strategies.models import Strategy

    if not user.is_authenticated:
        return Strategy.objects.none()
    if user.is_superuser:
        return Strategy.objects.all()
    return Strategy.objects.filter(
        Q(system__roles__user=user) | Q(design_group__memberships__user=user)
    ).distinct()


class SystemScopedAdminMixin:
    """Admin pages that show a non-superuser only the rows of systems they administer (or
    hold the role `admin_roles` names) and ask the functions above before any write.
    `system_path` is the lookup from the model to its CommissioningSystem."""

    system_path: str = "system"
    admin_check = staticmethod(can_manage_permissions)

    def _system_ids(self, request):
        return [
            s.pk
            for s in systems_visible_to(request.user)
            if self.admin_check(request.user, s)
        ]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.system_path}__in": self._system_ids(request)})

    def _system_of(self, obj):
        value = obj
        for part in self.system_path.split("__"):
            value = getattr(value, part)
        return value

    def _allowed(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(self._system_ids(request))
        return self.admin_check(request.user, self._system_of(obj))

    def has_module_permission(self, request):
        return (
            request.user.is_active and request.user.is_staff and self._allowed(request)
        )

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def has_add_permission(self, request, *args):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only systems the user administers can be chosen.
        if (
            db_field.related_model is CommissioningSystem
            and not request.user.is_superuser
        ):
            kwargs["queryset"] = CommissioningSystem.objects.filter(
                pk__in=self._system_ids(request)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        from django.core.exceptions import PermissionDenied

        if not self._allowed(request, obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)
