"""Reads the API shares: which series is an indicator's headline (the one its scorecard
row shows), the status of a computed series in one word, and the rules' names and methods.
Each in a fixed number of queries however many indicators."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from indicators.analysis import comparison, rag, spc_rules, trend
from indicators.analysis.spc import METHOD as SPC_METHOD
from scorecard.models import ExceptionRule, SeriesResult
from scorecard.services.recompute import ENGLAND_CODE

IMPROVEMENT, CONCERN, NEUTRAL = "improvement", "concern", "neutral"
COMMON_CAUSE, NOT_ENOUGH_DATA, NO_DATA = "common_cause", "not_enough_data", "no_data"
STATUS_ORDER = [CONCERN, NEUTRAL, COMMON_CAUSE, IMPROVEMENT, NOT_ENOUGH_DATA, NO_DATA]

RULE_LABELS = dict(ExceptionRule.Rule.choices)
RULE_METHODS = {
    ExceptionRule.Rule.SPECIAL_CAUSE_CONCERN: SPC_METHOD,
    ExceptionRule.Rule.FAILING_TARGET: SPC_METHOD,
    ExceptionRule.Rule.RAG_RED: rag.RAG_METHOD,
    ExceptionRule.Rule.WORSE_THAN_ENGLAND: comparison.METHOD_95,
    ExceptionRule.Rule.TREND_WORSENING: trend.METHOD,
    ExceptionRule.Rule.DATA_OVERDUE: "Latest period older than its publication lag",
}


def status_of(result: SeriesResult | None) -> str:
    """One word for how a series is doing, by the method that judged it."""
    if result is None or result.latest_value is None:
        return NO_DATA
    if result.method == SeriesResult.Method.SPC:
        return {
            spc_rules.IMPROVEMENT: IMPROVEMENT,
            spc_rules.CONCERN: CONCERN,
            spc_rules.NEUTRAL_HIGH: NEUTRAL,
            spc_rules.NEUTRAL_LOW: NEUTRAL,
            spc_rules.COMMON_CAUSE: COMMON_CAUSE,
        }.get(result.variation, NOT_ENOUGH_DATA)
    if result.method == SeriesResult.Method.PUBLIC_HEALTH:
        if result.comparison in (comparison.BETTER, comparison.BEST):
            return IMPROVEMENT
        if result.comparison in (comparison.WORSE, comparison.WORST):
            return CONCERN
        if "worse" in (result.trend or "").lower():
            return CONCERN
        if "better" in (result.trend or "").lower():
            return IMPROVEMENT
        return NEUTRAL
    if result.method == SeriesResult.Method.DIRECTION:
        return {
            rag.IMPROVED: IMPROVEMENT,
            rag.DETERIORATED: CONCERN,
        }.get(result.direction, NEUTRAL)
    return NOT_ENOUGH_DATA


def display_areas(system, indicator_ids: Iterable[int]) -> dict[int, int]:
    """indicator id -> the area its scorecard row shows: the system's home area when the
    indicator has a computed series there, else its series with the most points (England
    last, as a benchmark rather than the system's own figure). One query."""
    ids = list(indicator_ids)
    home = getattr(system, "home_area_id", None)
    return display_areas_of({i: home for i in ids})


def display_areas_of(homes: dict[int, int | None]) -> dict[int, int]:
    """`display_areas` for indicators of any systems at once: `homes` maps each
    indicator id to its system's home area id (or None). One query."""
    if not homes:
        return {}
    candidates: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for indicator_id, area_id, code, points in SeriesResult.objects.filter(
        indicator_id__in=list(homes), breakdown=""
    ).values_list("indicator_id", "area_id", "area__code", "point_count"):
        candidates[indicator_id].append((area_id, points, code))
    chosen = {}
    for indicator_id, options in candidates.items():
        home = homes[indicator_id]
        if home is not None and any(area_id == home for area_id, _, _ in options):
            chosen[indicator_id] = home
            continue
        options.sort(key=lambda o: (o[2] == ENGLAND_CODE, -o[1], o[2]))
        chosen[indicator_id] = options[0][0]
    return chosen
