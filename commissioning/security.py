"""Login throttling hooks for django-axes.

LoginThrottleBackend is axes' standalone backend, except that an authenticate() call with
no request (Django's test client login, a management shell) is not throttled instead of
raising: every login that arrives over HTTP (the sign-in page, the admin, DRF) passes its
request, so nothing an attacker can reach goes unthrottled.

client_ip_address gives axes the address to count failures against: REMOTE_ADDR, or, behind
TRUSTED_PROXY_COUNT reverse proxies, the address the nearest trusted proxy saw (the
right-most entries of X-Forwarded-For are the ones the proxies wrote; the left-most can be
forged by the client).
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings


class LoginThrottleBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def client_ip_address(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) >= proxies:
        return forwarded[-proxies]
    return remote
