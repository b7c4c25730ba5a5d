"""Every POST form carries a CSRF token, and a POST without one is refused (403)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

ROOT = Path(settings.BASE_DIR)
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
POST = re.compile(r"method\s*=\s*[\"']?post", re.I)


def _templates():
    roots = [ROOT / "templates", *ROOT.glob("*/templates")]
    for root in roots:
        yield from sorted(root.rglob("*.html"))


def test_every_post_form_in_the_templates_has_a_csrf_token():
    checked = 0
    missing = []
    for template in _templates():
        for form in FORM.findall(template.read_text()):
            opening = form[: form.index(">") + 1]
            if not POST.search(opening):
                continue
            checked += 1
            if "{% csrf_token %}" not in form:
                missing.append(f"{template.relative_to(ROOT)}: {opening}")
    assert checked >= 3, "the scan found almost no forms: is the pattern broken?"
    assert missing == []


def test_the_scan_would_catch_a_form_without_a_token():
    form = '<form method="post" action="/x/"><button>Go</button></form>'
    assert POST.search(form)
    assert "{% csrf_token %}" not in FORM.findall(form)[0]


@pytest.fixture
def strict_client():
    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/accounts/logout/",
        "/returns/upload/",
        "/api/tokens/",
    ],
)
def test_posting_without_a_token_is_refused(strict_client, analyst, path):
    if path != "/accounts/login/":
        strict_client.force_login(analyst)

    response = strict_client.post(path, {"username": "analyst", "password": "x"})

    assert response.status_code == 403


def test_posting_with_the_token_is_accepted(strict_client, analyst):
    """The refusal above is CSRF's, not the view's: with the token the same post works."""
    strict_client.get("/accounts/login/")
    token = strict_client.cookies["csrftoken"].value

    response = strict_client.post(
        "/accounts/login/",
        {"username": "analyst", "password": "a-long-test-password"},
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 302
