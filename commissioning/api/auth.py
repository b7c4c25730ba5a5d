"""API tokens: made, looked up by hash, refused when revoked or expired.

A token is shown once, when it is made; only its SHA-256 is stored (a fast hash is right
for a random 256-bit secret: there is nothing to guess)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from strategies.models import ApiToken

TOKEN_PREFIX = "ics_"  # noqa: S105 - a label, not a secret
PREFIX_SHOWN = 12
LAST_USED_RESOLUTION = timedelta(minutes=1)

# Messages, not secrets.
TOKEN_INVALID = "The token is not valid."  # noqa: S105
TOKEN_REVOKED = "The token has been revoked."  # noqa: S105
TOKEN_EXPIRED = "The token has expired."  # noqa: S105
USER_INACTIVE = "The token's user is not active."


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(
    *, user, name: str, scope: str = ApiToken.Scope.READ, expires_at=None
) -> tuple[ApiToken, str]:
    """Make a token for `user`; returns the stored row and the token itself (shown once)."""
    if scope not in ApiToken.Scope.values:
        raise ValueError(f"Unknown scope {scope!r}.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user=user,
        name=name.strip()[:100] or "API token",
        prefix=token[:PREFIX_SHOWN],
        key_hash=hash_token(token),
        scope=scope,
        expires_at=expires_at,
    )
    row.full_clean()
    row.save()
    return row, token


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`. `request.auth` is the ApiToken row, so scope
    checks and throttles can tell a token from a browser session."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(TOKEN_INVALID)
        try:
            token = header[1].decode("ascii")
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(TOKEN_INVALID) from exc
        # One query on the unique index of the hash (no ordering to sort by).
        try:
            row = ApiToken.objects.select_related("user").get(
                key_hash=hash_token(token)
            )
        except ApiToken.DoesNotExist as exc:
            raise exceptions.AuthenticationFailed(TOKEN_INVALID) from exc
        now = timezone.now()
        if row.revoked_at is not None:
            raise exceptions.AuthenticationFailed(TOKEN_REVOKED)
        if row.expires_at is not None and row.expires_at <= now:
            raise exceptions.AuthenticationFailed(TOKEN_EXPIRED)
        if not row.user.is_active:
            raise exceptions.AuthenticationFailed(USER_INACTIVE)
        # At most one write a minute per token, however busy the client.
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
            row.last_used_at = now
        return row.user, row

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "commissioning.api.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from /api/tokens/ (or create_api_token).",
        }
