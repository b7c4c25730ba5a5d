"""Shared fixtures. The seed frameworks (with demo history) are loaded once per test session
into the test database; each test runs in a transaction that is rolled back, so tests see the
seed data and never each other's writes. pytest-django runs transactional tests last, so their
flushes do not take the seed data from the others."""

import os

import pytest
from django.contrib.auth import get_user_model

from scorecard.seed.loader import load_seed_data
from strategies.models import CommissioningSystem, SystemRole

CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config, items):
    """Service-backed tests run where their service is configured; CI sets
    REQUIRE_SERVICES=1 so that a missing service fails instead of skipping."""
    database_url = os.environ.get("DATABASE_URL", "")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    required = os.environ.get("REQUIRE_SERVICES") == "1"
    for item in items:
        if "postgres" in item.keywords and not database_url.startswith("postgres"):
            if required:
                raise pytest.UsageError(
                    "REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL"
                )
            item.add_marker(
                pytest.mark.skip(reason="needs DATABASE_URL=postgres://...")
            )
        if "celery_worker" in item.keywords and not broker_url:
            if required:
                raise pytest.UsageError(
                    "REQUIRE_SERVICES=1 but CELERY_BROKER_URL is unset"
                )
            item.add_marker(pytest.mark.skip(reason="needs CELERY_BROKER_URL"))
        if "browser" in item.keywords and not os.path.exists(CHROMIUM):
            if required:
                raise pytest.UsageError(f"REQUIRE_SERVICES=1 but {CHROMIUM} is missing")
            item.add_marker(pytest.mark.skip(reason=f"needs {CHROMIUM}"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_seed_data(with_demo=True)


@pytest.fixture
def plymouth(db) -> CommissioningSystem:
    return CommissioningSystem.objects.get(slug="plymouth")


@pytest.fixture
def torbay(db) -> CommissioningSystem:
    return CommissioningSystem.objects.get(slug="torbay-south-devon")


def make_user(username: str, *, system=None, role: str | None = None, **extra):
    user = get_user_model().objects.create_user(
        username=username, password="a-long-test-password", **extra
    )
    if system is not None and role is not None:
        SystemRole.objects.create(system=system, user=user, role=role)
    return user


@pytest.fixture
def viewer(plymouth):
    return make_user("viewer", system=plymouth, role=SystemRole.Role.VIEWER)


@pytest.fixture
def analyst(plymouth):
    return make_user("analyst", system=plymouth, role=SystemRole.Role.ANALYST)


@pytest.fixture
def torbay_analyst(torbay):
    return make_user("torbay-analyst", system=torbay, role=SystemRole.Role.ANALYST)


@pytest.fixture(autouse=True)
def _returns_jobs_run_inline(settings):
    """Upload jobs run in the request during tests: a background thread would outlive the
    test's transaction (and hold its own database connection). Tests of the thread mode
    set it themselves."""
    settings.RETURNS_TASK_MODE = "inline"
    settings.PACKS_TASK_MODE = "inline"
