"""The base of the browser tests: Playwright (sync API) driving Debian's Chromium against
pytest-django's live_server, with the seed data present and axe-core checks.

Use:

    @pytest.mark.browser
    def test_something(page_as, seeded, make_browser_user):
        user = make_browser_user("reader", system=seeded["plymouth"], role="viewer")
        page = page_as(user)               # signed in, on a fresh browser context
        page.goto(page.url_for("/scorecard/"))
        assert_no_axe_violations(page)
        screenshot(page, "system-scorecard")

live_server tests are transactional: the database is flushed after each one, which takes
the session's seed data with it. The `seeded` fixture loads it again (about 3.5 s), so a
browser test should cover a whole journey rather than one assertion.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from strategies.models import CommissioningSystem, SystemRole

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# inside one unless told that it is safe (it is: the loop only waits on the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
AXE_SCRIPT = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "a-long-browser-test-password"


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session (each test gets its own context)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def seeded(live_server):
    """The seed frameworks with demo history, loaded again after the previous
    transactional test's flush. Returns the two systems by short key."""
    from scorecard.seed.loader import load_seed_data

    if not CommissioningSystem.objects.exists():
        load_seed_data(with_demo=True)
    return {
        "plymouth": CommissioningSystem.objects.get(slug="plymouth"),
        "torbay": CommissioningSystem.objects.get(slug="torbay-south-devon"),
    }


@pytest.fixture
def make_browser_user(seeded):
    """make_browser_user(username, system=..., role="viewer", **extra) -> User."""

    def make(username: str, *, system=None, role: str | None = None, **extra):
        user = get_user_model().objects.create_user(
            username=username, password=PASSWORD, **extra
        )
        if system is not None and role is not None:
            SystemRole.objects.create(system=system, user=user, role=role)
        return user

    return make


@pytest.fixture
def page_as(browser, live_server):
    """page_as(user) -> a Playwright page signed in as `user` on the live server.

    Signs in through Django's session machinery (force_login) and hands the cookie to a
    new browser context, so each call is a separate, isolated browser session. The page
    has `page.url_for(path)` to build live-server URLs."""
    contexts = []

    def open_page(user, *, viewport=None, bypass_csp=True):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport or {"width": 1280, "height": 900},
            locale="en-GB",
            # axe-core is injected as an inline script, which the enforced content
            # security policy blocks; tests/browser/test_csp_policy.py opens every page
            # with bypass_csp=False.
            bypass_csp=bypass_csp,
        )
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": cookie.value,
                    "url": live_server.url,
                }
            ]
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.url_for = lambda path: live_server.url + path
        return page

    yield open_page
    for context in contexts:
        context.close()


def assert_no_axe_violations(page, *, context: str | None = None, rules=None) -> None:
    """Inject axe-core (from node_modules, served by nobody: read from disk) and assert
    that it finds no violations on the page as it stands. Prints them when it does."""
    if not AXE_SCRIPT.exists():
        message = f"{AXE_SCRIPT} is missing: run `make assets` (npm ci)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    page.add_script_tag(content=AXE_SCRIPT.read_text())
    options = {"resultTypes": ["violations"]}
    if rules:
        options["rules"] = rules
    results = page.evaluate(
        "([ctx, opts]) => axe.run(ctx || document, opts)", [context, options]
    )
    violations = results["violations"]
    if violations:
        lines = []
        for violation in violations:
            lines.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']}"
            )
            for node in violation["nodes"][:5]:
                lines.append(f"    {node['target']}: {node.get('failureSummary', '')}")
        report = "\n".join(lines)
        print(report)
        pytest.fail(
            f"axe found {len(violations)} violation(s) on {page.url}:\n{report}",
            pytrace=False,
        )


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under var/screenshots/<name>.png (look at them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def page_json(page, script: str):
    """Evaluate `script` in the page and return its JSON-able result."""
    return json.loads(page.evaluate(f"JSON.stringify({script})"))


@pytest.fixture
def axe():
    """The axe check as a fixture: axe(page) asserts zero violations."""
    return assert_no_axe_violations


@pytest.fixture(name="screenshot")
def screenshot_fixture():
    """The screenshot helper as a fixture: screenshot(page, "name") -> Path."""
    return screenshot
