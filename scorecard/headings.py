"""Exception headings in the stocktake's style: the indicator, then what is wrong, e.g.
"Estimated diagnosis rates for dementia - Increasing trend" (seed 002's exception report).

The heading names the strongest reason only (at most two); every fired rule's reason in
words is listed under it on the report.
"""

from __future__ import annotations

from collections.abc import Iterable

# Strongest first: what a reader should hear about before anything else.
RULE_ORDER = (
    "special_cause_concern",
    "failing_target",
    "trend_worsening",
    "rag_red",
    "worse_than_england",
    "data_overdue",
)

_SPC_DESCRIPTORS = {
    # (rule of the latest point, side) -> descriptor
    ("trend", "high"): "Increasing trend",
    ("trend", "low"): "Decreasing trend",
    ("shift", "high"): "Sustained run above the average",
    ("shift", "low"): "Sustained run below the average",
    ("outside_limits", "high"): "Above the upper process limit",
    ("outside_limits", "low"): "Below the lower process limit",
    ("two_in_three", "high"): "Close to the upper process limit",
    ("two_in_three", "low"): "Close to the lower process limit",
}

_FIXED_DESCRIPTORS = {
    "failing_target": "Consistently failing the target",
    "rag_red": "Not meeting the target",
    "worse_than_england": "Worse than England",
    "data_overdue": "Data overdue",
}

MAX_DESCRIPTORS = 2


def exception_heading(
    title: str,
    rules: Iterable[str],
    *,
    spc_last_rule: str | None = None,
    spc_last_side: str | None = None,
    trend_label: str = "",
) -> str:
    """The heading for a series on the exception report.

    `rules` are the fired exception rules (ExceptionFlag.rule); the SPC and trend details
    say which way things are moving (SeriesResult.spc's latest point, SeriesResult.trend).
    """
    fired = set(rules)
    descriptors: list[str] = []
    for rule in RULE_ORDER:
        if rule not in fired:
            continue
        descriptor = _descriptor(rule, spc_last_rule, spc_last_side, trend_label)
        if descriptor not in descriptors:
            descriptors.append(descriptor)
    if not descriptors:
        return title
    shown = descriptors[:MAX_DESCRIPTORS]
    tail = "; ".join([shown[0], *(d[0].lower() + d[1:] for d in shown[1:])])
    return f"{title} - {tail}"


def heading_for_result(title: str, rules: Iterable[str], result) -> str:
    """`exception_heading` with the details read from a SeriesResult (or None)."""
    last_rule = last_side = None
    trend_label = ""
    if result is not None:
        points = (result.spc or {}).get("points") or []
        if points:
            last_rule = points[-1].get("rule")
        icon = (result.spc or {}).get("variation_icon") or ""
        last_side = (
            icon.rsplit("_", 1)[-1] if icon.endswith(("_high", "_low")) else None
        )
        trend_label = result.trend or ""
    return exception_heading(
        title,
        rules,
        spc_last_rule=last_rule,
        spc_last_side=last_side,
        trend_label=trend_label,
    )


def _descriptor(
    rule: str, last_rule: str | None, last_side: str | None, trend_label: str
) -> str:
    if rule == "special_cause_concern":
        return _SPC_DESCRIPTORS.get((last_rule, last_side), "Special cause concern")
    if rule == "trend_worsening":
        # Fingertips' words: "Increasing and getting worse" -> "Increasing trend".
        direction = trend_label.split(" and ", 1)[0].strip()
        return f"{direction} trend" if direction else "Worsening trend"
    return _FIXED_DESCRIPTORS.get(rule, rule.replace("_", " ").capitalize())
