"""Who may see and do what, per commissioning system. Views, the API and the admin all ask
here, so the rules are enforced identically everywhere."""

from __future__ import annotations

from django.db.models import QuerySet

from strategies.models import CommissioningSystem, SystemRole


def systems_visible_to(user) -> QuerySet[CommissioningSystem]:
    if not user.is_authenticated:
        return CommissioningSystem.objects.none()
    if user.is_superuser:
        return CommissioningSystem.objects.all()
    return CommissioningSystem.objects.filter(roles__user=user).distinct()


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
