"""List pages of the workflow run a fixed number of queries as rows grow."""

import datetime as dt

from django.test import Client
from django.urls import reverse

from actions import services as action_services
from actions.models import Milestone
from scorecard.services import commentary as commentary_services


def _grow(strategy, lead, n):
    for k in range(n):
        action = action_services.action_create(
            strategy=strategy,
            user=lead,
            values={
                "title": f"Extra {k}",
                "indicators": list(strategy.indicators.all()[:2]),
            },
        )
        Milestone.objects.create(action=action, title="m", due_date=dt.date(2018, 1, 1))
        action_services.progress_report_create(
            action=action,
            author=lead,
            status="on_track",
            rag="green",
            rag_reason="fine",
            percent_complete=5,
            text="ok",
        )


def _count(client, url, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_action_plan_queries_do_not_grow(
    lead, strategy, cycle, django_assert_max_num_queries
):
    client = Client()
    client.force_login(lead)
    url = reverse("actions:action_plan", args=[strategy.system.slug, strategy.slug])
    before = _count(client, url, django_assert_max_num_queries, 20)
    _grow(strategy, lead, 6)
    after = _count(client, url, django_assert_max_num_queries, 20)
    assert after == before


def test_my_updates_queries_do_not_grow(
    lead, strategy, cycle, exception_indicator, django_assert_max_num_queries
):
    client = Client()
    client.force_login(lead)
    url = reverse("workflow:my_updates")
    before = _count(client, url, django_assert_max_num_queries, 20)
    _grow(strategy, lead, 4)
    commentary_services.commentary_start(
        cycle=cycle, strategy=strategy, indicator=exception_indicator, user=lead
    )
    after = _count(client, url, django_assert_max_num_queries, 20)
    assert after == before


def test_published_stocktake_queries_do_not_grow(
    lead, strategy, cycle, system_admin, django_assert_max_num_queries
):
    from scorecard.services.publishing import stocktake_publish

    client = Client()
    client.force_login(system_admin)
    small = stocktake_publish(cycle=cycle, user=system_admin)
    before = _count(
        client,
        reverse("workflow:stocktake_detail", args=[small.pk]),
        django_assert_max_num_queries,
        15,
    )
    _grow(strategy, lead, 5)
    from scorecard.models import ReportingCycle

    second = ReportingCycle.objects.create(
        system=cycle.system,
        title="Next",
        opens=cycle.deadline,
        deadline=cycle.deadline + dt.timedelta(days=90),
    )
    large = stocktake_publish(cycle=second, user=system_admin)
    assert large.snapshot_rows.count() > small.snapshot_rows.count()
    after = _count(
        client,
        reverse("workflow:stocktake_detail", args=[large.pk]),
        django_assert_max_num_queries,
        15,
    )
    assert after == before


def test_cycle_page_queries_do_not_grow(
    system_admin,
    lead,
    strategy,
    cycle,
    exception_indicator,
    django_assert_max_num_queries,
):
    client = Client()
    client.force_login(system_admin)
    url = reverse("workflow:cycle_detail", args=[cycle.pk])
    before = _count(client, url, django_assert_max_num_queries, 15)
    commentary_services.commentary_start(
        cycle=cycle, strategy=strategy, indicator=exception_indicator, user=lead
    )
    from django.utils import timezone

    from indicators.models import Area
    from scorecard.models import ExceptionFlag

    # More indicators on the exception report add rows, not queries.
    flagged = ExceptionFlag.objects.filter(cleared_at__isnull=True).values(
        "indicator_id"
    )
    calm = list(strategy.indicators.exclude(pk__in=flagged)[:3])
    assert calm
    for indicator in calm:
        ExceptionFlag.objects.create(
            indicator=indicator,
            area=Area.objects.first(),
            rule="rag_red",
            severity="high",
            reason="Red against target",
            raised_at=timezone.now(),
        )
    rows_before = client.get(url).content.decode().count("Red against target")
    assert rows_before >= len(calm)
    after = _count(client, url, django_assert_max_num_queries, 15)
    assert after == before
    page = client.get(url).content.decode()
    assert page.count('data-status="draft"') == 1
