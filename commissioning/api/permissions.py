"""What a token's scope allows, on top of (never instead of) the user's own permissions,
which the views check with `strategies.permissions` exactly as the pages do."""

from __future__ import annotations

from rest_framework import permissions

from strategies.models import ApiToken

# Each scope includes the ones before it.
SCOPE_RANK = {
    ApiToken.Scope.READ: 0,
    ApiToken.Scope.UPLOAD: 1,
    ApiToken.Scope.WRITE: 2,
}
SCOPE_TOO_NARROW = (
    "This token's scope ({scope}) does not allow this; it needs {needed}."
)


def token_allows(token, needed: str) -> bool:
    return SCOPE_RANK[token.scope] >= SCOPE_RANK[needed]


class TokenScopePermission(permissions.BasePermission):
    """Reads need any scope; a view's writes need its `write_scope` (upload or write).
    A browser session is not limited by scope (its user's permissions apply)."""

    message = "This token's scope does not allow this request."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        if request.method in permissions.SAFE_METHODS:
            return True
        needed = getattr(view, "write_scope", ApiToken.Scope.WRITE)
        if token_allows(token, needed):
            return True
        self.message = SCOPE_TOO_NARROW.format(scope=token.scope, needed=needed)
        return False
