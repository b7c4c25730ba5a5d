"""What the benchmarks share: the seed scaled up (each scorecard indicator copied with its
framework links, assignments and current values) and one statement run as the server's
administrator (to create or drop a benchmark's database).

Imported by the benchmark scripts as a sibling module (a script's folder is on sys.path);
needs Django set up by the caller."""

from __future__ import annotations


def copy_seed_indicators(scale: int) -> None:
    """Copy every indicator on a scorecard `scale - 1` more times, each copy with its own
    values (scaled a little, same shape), so the pages and the API do `scale` times the
    seed's work."""
    from django.db import transaction

    from indicators.models import Indicator, IndicatorAssignment, Observation

    originals = list(
        Indicator.objects.filter(assignments__isnull=False)
        .distinct()
        .prefetch_related("framework_items", "assignments")
    )
    with transaction.atomic():
        for copy in range(1, scale):
            for original in originals:
                items = list(original.framework_items.all())
                assignments = list(original.assignments.all())
                clone = Indicator.objects.get(pk=original.pk)
                clone.pk = None
                clone.id = None
                clone.key = f"{original.key}-x{copy}"[:100]
                clone.title = f"{original.title} (copy {copy})"[:500]
                clone.fingertips_id = None
                clone.save()
                clone.framework_items.set(items)
                IndicatorAssignment.objects.bulk_create(
                    IndicatorAssignment(
                        indicator=clone,
                        strategy_id=a.strategy_id,
                        polarity=a.polarity,
                        position=a.position + 1000 * copy,
                    )
                    for a in assignments
                )
                values = Observation.objects.filter(indicator=original, is_current=True)
                Observation.objects.bulk_create(
                    (
                        Observation(
                            indicator=clone,
                            area_id=o.area_id,
                            period_id=o.period_id,
                            breakdown=o.breakdown,
                            value=None
                            if o.value is None
                            else o.value * (1 + copy / 100),
                            numerator=o.numerator,
                            denominator=o.denominator,
                            lower_ci=o.lower_ci,
                            upper_ci=o.upper_ci,
                            is_synthetic=True,
                            source_return_id=o.source_return_id,
                        )
                        for o in values
                    ),
                    batch_size=2000,
                )


def admin_sql(server: str, sql: str) -> None:
    """Run one statement on the server's `postgres` database, outside a transaction."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql)
