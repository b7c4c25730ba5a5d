"""Production settings: check --deploy is clean, the HTTPS and cookie settings follow the
environment, and every response carries the security headers."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "ALLOWED_HOSTS": "scorecard.example.org",
    "DATABASE_URL": "postgres://scorecard@127.0.0.1:5432/scorecard",
}


def _run(args, **env_overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SECURE_", "CSP_", "SESSION_"))
        and k not in {"SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "DEBUG"}
    }
    env.update(env_overrides)
    return subprocess.run(  # noqa: S603 (this interpreter, manage.py, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _print_setting(expression: str, **env_overrides) -> str:
    result = _run(
        [
            "shell",
            "--no-imports",
            "-c",
            f"from django.conf import settings; print({expression})",
        ],
        **env_overrides,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("csp", ["false", "true"])
def test_check_deploy_gives_no_warnings_in_production(csp):
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        SECRET_KEY=secrets.token_urlsafe(60),
        CSP_ENABLED=csp,
        **PRODUCTION_ENV,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_does_warn_when_https_is_turned_off():
    """The check above can fail: turning the HTTPS redirect off is reported."""
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        SECRET_KEY=secrets.token_urlsafe(60),
        SECURE_SSL_REDIRECT="false",
        **PRODUCTION_ENV,
    )

    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_production_still_stops_naming_a_missing_secret():
    result = _run(["check"], **PRODUCTION_ENV)

    assert result.returncode != 0
    assert "SECRET_KEY is required when DJANGO_ENV=production" in result.stderr


def test_proxy_ssl_header_comes_from_the_environment():
    key = secrets.token_urlsafe(60)
    expression = "settings.SECURE_PROXY_SSL_HEADER"

    assert _print_setting(expression, SECRET_KEY=key, **PRODUCTION_ENV) == (
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )
    assert (
        _print_setting(
            expression,
            SECRET_KEY=key,
            SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_SSL,on",
            **PRODUCTION_ENV,
        )
        == "('HTTP_X_FORWARDED_SSL', 'on')"
    )
    # Empty: gunicorn faces clients directly, so no header is trusted.
    assert (
        _print_setting(
            expression, SECRET_KEY=key, SECURE_PROXY_SSL_HEADER="", **PRODUCTION_ENV
        )
        == "None"
    )
    bad = _run(["check"], SECRET_KEY=key, SECURE_PROXY_SSL_HEADER="X", **PRODUCTION_ENV)
    assert bad.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must be" in bad.stderr


def test_production_cookies_and_session_expiry():
    values = _print_setting(
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SESSION_COOKIE_HTTPONLY, settings.SESSION_EXPIRE_AT_BROWSER_CLOSE, "
        "settings.SESSION_COOKIE_AGE, settings.SECURE_HSTS_SECONDS, "
        "settings.SECURE_SSL_REDIRECT, settings.DEBUG",
        SECRET_KEY=secrets.token_urlsafe(60),
        SESSION_COOKIE_AGE="3600",
        **PRODUCTION_ENV,
    )

    assert values == "True True True True 3600 31536000 True False"


def test_every_response_carries_the_security_headers(client, viewer):
    client.force_login(viewer)
    response = client.get("/")

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    session_cookie = response.cookies.get("sessionid")
    if session_cookie is not None:  # set again only when the session changed
        assert session_cookie["httponly"]


def test_the_content_security_policy_forbids_inline_script_and_framing(
    client, viewer, settings
):
    from commissioning.settings import _csp_policy

    client.force_login(viewer)
    settings.CONTENT_SECURITY_POLICY = _csp_policy
    header = client.get("/")["Content-Security-Policy"]

    directives = {
        part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()
    }
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'", "'report-sample'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in header


def test_report_only_mode_reports_without_enforcing():
    header_names = _print_setting(
        "hasattr(settings, 'CONTENT_SECURITY_POLICY'), "
        "hasattr(settings, 'CONTENT_SECURITY_POLICY_REPORT_ONLY')",
        CSP_ENABLED="true",
        CSP_REPORT_ONLY="true",
    )
    assert header_names == "False True"
    assert (
        _print_setting(
            "hasattr(settings, 'CONTENT_SECURITY_POLICY')", CSP_ENABLED="false"
        )
        == "False"
    )


def test_collectstatic_succeeds_with_the_production_storage(tmp_path):
    """The image runs collectstatic at build time: hashed names, compressed copies, and
    every page's assets in the manifest."""
    import json

    result = _run(
        ["collectstatic", "--noinput", "-v", "0"],
        SECRET_KEY=secrets.token_urlsafe(60),
        STATIC_ROOT=str(tmp_path),
        **{**PRODUCTION_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
    )

    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for asset in ["vendor/nhsuk-frontend/nhsuk.min.css", "css/scorecard.css"]:
        assert asset in manifest
        assert (tmp_path / (manifest[asset] + ".gz")).exists()
