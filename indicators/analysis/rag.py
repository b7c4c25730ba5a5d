"""Target RAG through polarity and an amber tolerance, and direction of travel.

Source: ../shared/DOMAIN.md "Targets" under Indicators and "Statistical methods" 3:
a target gives Red/Amber/Green only through polarity and an amber tolerance set per
indicator (within 5% of the target, say); targets are absolute, a change in % from a
baseline, or relative to the England value. The target kinds match
`indicators.models.Target.Kind`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from indicators.analysis.common import (
    Polarity,
    as_float,
    as_polarity,
    format_value,
    frozen_inputs,
    polarity_sign,
    polarity_words,
)

RAG_METHOD = "Target RAG through polarity and amber tolerance"
TRAVEL_METHOD = "Direction of travel from the previous value"

RED, AMBER, GREEN, NOT_RATED = "Red", "Amber", "Green", "Not rated"
IMPROVED, NO_CHANGE, DETERIORATED = "Improved", "No change", "Deteriorated"
INCREASED, DECREASED = "Increased", "Decreased"


class TargetKind(StrEnum):
    ABSOLUTE = "absolute"
    CHANGE_FROM_BASELINE = "change_from_baseline"
    RELATIVE_TO_ENGLAND = "relative_to_england"


@dataclass(frozen=True)
class RagRating:
    method: str
    rating: str  # Red, Amber, Green or Not rated
    target: float | None  # the target the value was judged against
    inputs: Mapping[str, object]
    reason: str


@dataclass(frozen=True)
class DirectionOfTravel:
    method: str
    label: (
        str  # Improved, No change, Deteriorated; Increased/Decreased without polarity
    )
    change: float | None
    inputs: Mapping[str, object]
    reason: str


def resolve_target(
    kind: str | TargetKind,
    *,
    target_value: float | None,
    baseline_value: float | None = None,
    england_value: float | None = None,
) -> float | None:
    """The number a value must reach, or None when a part it needs is missing.

    `target_value` is the target itself for an absolute target; the change in % for
    a change from a baseline (-5 for "a 5% reduction"); for a target relative to
    England an optional % above (+) or below (-) England, none meaning "return to the
    national average"."""
    kind = TargetKind(kind)
    target, baseline, england = (
        as_float(n) for n in (target_value, baseline_value, england_value)
    )
    if kind is TargetKind.ABSOLUTE:
        return target
    if kind is TargetKind.CHANGE_FROM_BASELINE:
        if target is None or baseline is None:
            return None
        return baseline * (1 + target / 100)
    if england is None:
        return None
    return england * (1 + (target or 0.0) / 100)


def rag_rating(
    value: float | None,
    *,
    polarity: str | Polarity,
    target_value: float | None,
    target_kind: str | TargetKind = TargetKind.ABSOLUTE,
    baseline_value: float | None = None,
    england_value: float | None = None,
    amber_tolerance: float = 5.0,
    unit: str = "",
    decimals: int = 1,
) -> RagRating:
    """Green when the value meets the target in the better direction (on the target
    counts as met); Amber when it misses by no more than `amber_tolerance` % of the
    target; otherwise Red. No polarity, no RAG."""
    polarity = as_polarity(polarity)
    kind = TargetKind(target_kind)
    target = resolve_target(
        kind,
        target_value=target_value,
        baseline_value=baseline_value,
        england_value=england_value,
    )
    inputs = frozen_inputs(
        value=value, polarity=polarity.value, target_kind=kind.value,
        target_value=target_value, baseline_value=baseline_value,
        england_value=england_value, amber_tolerance=amber_tolerance, target=target,
    )  # fmt: skip
    sign = polarity_sign(polarity)
    current = as_float(value)
    if sign == 0 or current is None or target is None:
        missing = (
            "the indicator has no polarity, so a target cannot be judged" if sign == 0
            else "no value" if current is None
            else "the target is incomplete"
        )  # fmt: skip
        return RagRating(
            RAG_METHOD, NOT_RATED, target, inputs, f"{NOT_RATED}: {missing}"
        )

    shortfall = (target - current) * sign
    band = abs(target) * amber_tolerance / 100
    rating = GREEN if shortfall <= 0 else AMBER if shortfall <= band else RED
    origin = _target_origin(kind, target_value, baseline_value, unit, decimals)
    tolerance = (
        f", within the {amber_tolerance:g}% tolerance" if rating == AMBER else ""
    )
    reason = (
        f"{rating}: {format_value(current, unit, decimals)} against a target of "
        f"{format_value(target, unit, decimals)}{origin}{tolerance}, "
        f"{polarity_words(polarity)}"
    )
    return RagRating(RAG_METHOD, rating, target, inputs, reason)


def direction_of_travel(
    latest: float | None,
    previous: float | None,
    *,
    polarity: str | Polarity,
    latest_label: str | None = None,
    previous_label: str | None = None,
    unit: str = "",
    decimals: int = 1,
) -> DirectionOfTravel:
    """Improved, no change or deteriorated since the previous value, through polarity
    (Increased/Decreased without polarity)."""
    polarity = as_polarity(polarity)
    inputs = frozen_inputs(
        latest=latest, previous=previous, polarity=polarity.value,
        latest_label=latest_label, previous_label=previous_label,
    )  # fmt: skip
    now, before = as_float(latest), as_float(previous)
    if now is None or before is None:
        return DirectionOfTravel(
            TRAVEL_METHOD, NOT_RATED, None, inputs,
            f"{NOT_RATED}: a latest and a previous value are both needed",
        )  # fmt: skip
    change = now - before
    sign = polarity_sign(polarity)
    if change == 0:
        label = NO_CHANGE
    elif sign == 0:
        label = INCREASED if change > 0 else DECREASED
    else:
        label = IMPROVED if (change > 0) == (sign > 0) else DETERIORATED
    now_text = format_value(now, unit, decimals)
    before_text = format_value(before, unit, decimals)
    if latest_label:
        now_text += f" in {latest_label}"
    if previous_label:
        before_text += f" in {previous_label}"
    reason = f"{label}: {now_text} from {before_text}"
    if sign != 0:
        reason += f", {polarity_words(polarity)}"
    return DirectionOfTravel(TRAVEL_METHOD, label, change, inputs, reason)


def _target_origin(
    kind: TargetKind,
    target_value: float | None,
    baseline_value: float | None,
    unit: str,
    decimals: int,
) -> str:
    """Where a derived target came from, for the reason text."""
    change, baseline = as_float(target_value), as_float(baseline_value)
    if (
        kind is TargetKind.CHANGE_FROM_BASELINE
        and change is not None
        and baseline is not None
    ):
        direction = "reduction" if change < 0 else "increase"
        return (
            f" ({abs(change):g}% {direction} from "
            f"{format_value(baseline, unit, decimals)})"
        )
    if kind is TargetKind.RELATIVE_TO_ENGLAND:
        if not change:
            return " (the England value)"
        side = "above" if change > 0 else "below"
        return f" ({abs(change):g}% {side} England)"
    return ""
