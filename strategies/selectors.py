"""Reads of the framework tree, in a fixed number of queries however large it grows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch

from actions.models import Action
from indicators.models import IndicatorAssignment
from strategies.models import (
    CommissioningSystem,
    FrameworkItem,
    FrameworkLevel,
    Strategy,
)


@dataclass
class StrategySummary:
    strategy: Strategy
    level_counts: list[tuple[FrameworkLevel, int]]
    indicator_count: int
    action_count: int


@dataclass
class SystemSummary:
    system: CommissioningSystem
    strategies: list[StrategySummary] = field(default_factory=list)
    indicator_count: int = 0


def system_summaries(systems=None) -> list[SystemSummary]:
    """Each system with its strategies (or priority areas) and the count of items at each of
    the system's levels, of indicators and of actions. Five queries in all."""
    if systems is None:
        systems = CommissioningSystem.objects.all()
    systems = systems.prefetch_related(
        Prefetch("levels", queryset=FrameworkLevel.objects.order_by("position")),
        Prefetch("strategies", queryset=Strategy.objects.order_by("number")),
    )
    item_counts = defaultdict(int)
    for row in FrameworkItem.objects.values("strategy_id", "level_id").annotate(
        n=Count("id")
    ):
        item_counts[row["strategy_id"], row["level_id"]] = row["n"]
    indicator_counts = defaultdict(int)
    for row in IndicatorAssignment.objects.values("strategy_id").annotate(
        n=Count("id")
    ):
        indicator_counts[row["strategy_id"]] = row["n"]
    action_counts = defaultdict(int)
    for row in Action.objects.values("strategy_id").annotate(n=Count("id")):
        action_counts[row["strategy_id"]] = row["n"]
    system_indicator_counts = dict(
        CommissioningSystem.objects.annotate(n=Count("indicators")).values_list(
            "id", "n"
        )
    )

    summaries = []
    for system in systems:
        levels = list(system.levels.all())
        summary = SystemSummary(
            system=system, indicator_count=system_indicator_counts.get(system.pk, 0)
        )
        for strategy in system.strategies.all():
            summary.strategies.append(
                StrategySummary(
                    strategy=strategy,
                    level_counts=[
                        (level, item_counts[strategy.pk, level.pk]) for level in levels
                    ],
                    indicator_count=indicator_counts[strategy.pk],
                    action_count=action_counts[strategy.pk],
                )
            )
        summaries.append(summary)
    return summaries
