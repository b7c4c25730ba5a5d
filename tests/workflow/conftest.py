"""Fixtures of the SDG workflow: a Plymouth strategy with an exception report, its System
Design Group (two leads and a member), an open reporting cycle, and a user of each role."""

import datetime as dt

import pytest
from django.utils import timezone

from actions.selectors import exception_report_items
from scorecard.models import ReportingCycle
from strategies.models import SdgMembership, Strategy, SystemDesignGroup, SystemRole
from tests.conftest import make_user


@pytest.fixture
def strategy(plymouth) -> Strategy:
    """The first Plymouth strategy that has indicators on its exception report."""
    for candidate in Strategy.objects.filter(system=plymouth).order_by("number"):
        if exception_report_items(candidate):
            return candidate
    raise AssertionError("the seed data should put some indicators on exception")


@pytest.fixture
def group(strategy) -> SystemDesignGroup:
    group, _ = SystemDesignGroup.objects.get_or_create(
        strategy=strategy, defaults={"name": "SDG"}
    )
    return group


def _member(username, group, role, system):
    user = make_user(username, system=system, role=SystemRole.Role.VIEWER)
    SdgMembership.objects.create(group=group, user=user, role=role)
    return user


@pytest.fixture
def lead(group, plymouth):
    return _member("lead", group, SdgMembership.Role.LEAD, plymouth)


@pytest.fixture
def lead2(group, plymouth):
    return _member("lead2", group, SdgMembership.Role.LEAD, plymouth)


@pytest.fixture
def member(group, plymouth):
    return _member("member", group, SdgMembership.Role.MEMBER, plymouth)


@pytest.fixture
def system_admin(plymouth):
    return make_user("sysadmin", system=plymouth, role=SystemRole.Role.ADMIN)


@pytest.fixture
def torbay_admin(torbay):
    return make_user("torbay-admin", system=torbay, role=SystemRole.Role.ADMIN)


@pytest.fixture
def cycle(plymouth) -> ReportingCycle:
    today = timezone.localdate()
    return ReportingCycle.objects.create(
        system=plymouth,
        title="Quarter 3 stocktake",
        opens=today - dt.timedelta(days=30),
        deadline=today + dt.timedelta(days=5),
    )


@pytest.fixture
def exception_indicator(strategy):
    return exception_report_items(strategy)[0].indicator


@pytest.fixture
def action(strategy):
    return strategy.actions.order_by("position").first()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Many users per test: a fast hasher keeps the matrix quick (not a security test)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
