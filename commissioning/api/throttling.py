"""Throttles keyed on the token (each token has its own budget), else on the user."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from strategies.models import ApiToken


class _KeyedOnToken(SimpleRateThrottle):
    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiRateThrottle(_KeyedOnToken):
    scope = "api"


class UploadRateThrottle(_KeyedOnToken):
    """Uploads and commits are expensive: a separate, smaller budget."""

    scope = "upload"
