"""The statistical engine behind the scorecard's flags: pure Python, numpy and scipy.

Imports nothing from Django. Each function takes plain sequences and returns a small
frozen dataclass carrying its method, its inputs and a one-line reason in words.

- `spc`: Making Data Count XmR charts (NHSRplotthedots rules), `xmr_limits`,
  `assurance_type`.
- `wilson_interval`, `rate_interval`, `count_interval`: Fingertips intervals.
- `compare_with_england`: Better/Similar/Worse (or Higher/Lower) against England.
- `recent_trend`: the Fingertips recent trend marker.
- `rag_rating`, `resolve_target`, `direction_of_travel`: targets and travel.
- `choose_method`: which of the above a series gets.
"""

from indicators.analysis.choose import MethodChoice, choose_method
from indicators.analysis.common import Polarity, polarity_sign
from indicators.analysis.comparison import EnglandComparison, compare_with_england
from indicators.analysis.intervals import (
    Interval,
    count_interval,
    rate_interval,
    wilson_interval,
)
from indicators.analysis.rag import (
    DirectionOfTravel,
    RagRating,
    TargetKind,
    direction_of_travel,
    rag_rating,
    resolve_target,
)
from indicators.analysis.spc import (
    SpcGroup,
    SpcPoint,
    SpcResult,
    XmrLimits,
    assurance_type,
    spc,
    xmr_limits,
)
from indicators.analysis.trend import RecentTrend, recent_trend

__all__ = [
    "DirectionOfTravel",
    "EnglandComparison",
    "Interval",
    "MethodChoice",
    "Polarity",
    "RagRating",
    "RecentTrend",
    "SpcGroup",
    "SpcPoint",
    "SpcResult",
    "TargetKind",
    "XmrLimits",
    "assurance_type",
    "choose_method",
    "compare_with_england",
    "count_interval",
    "direction_of_travel",
    "polarity_sign",
    "rag_rating",
    "rate_interval",
    "recent_trend",
    "resolve_target",
    "spc",
    "wilson_interval",
    "xmr_limits",
]
