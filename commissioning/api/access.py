"""The API's use of the shared permission rules (strategies.permissions): an object of a
system the user holds no role in is a 404; a role too weak for the request is a 403."""

from __future__ import annotations

from rest_framework.exceptions import NotFound, PermissionDenied

from strategies.models import CommissioningSystem
from strategies.permissions import can_manage_returns, systems_visible_to

NOT_AN_ANALYST = "Only analysts of this system may do this."


def visible_system_or_404(user, slug: str) -> CommissioningSystem:
    system = systems_visible_to(user).filter(slug=slug).first()
    if system is None:
        raise NotFound
    return system


def require_returns_manager(user, system: CommissioningSystem) -> None:
    if not can_manage_returns(user, system):
        raise PermissionDenied(NOT_AN_ANALYST)
