"""The SPC chart of one series, as a Plotly figure. Pure: plain data in, figure out.

The statistics are not computed here: the limits, the point types and the groups come
from the stored SPC result (`SeriesResult.spc`), so the chart shows exactly what the flags
were raised on. Every kind of point has its own marker shape as well as its own colour,
and its name in the legend and the hover text, so no status is told by colour alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import plotly.graph_objects as go

# Making Data Count colours (improvement blue, concern orange, neutral purple, common
# cause grey), darkened where needed for 3:1 contrast against white.
COMMON_CAUSE = "common_cause"
IMPROVEMENT = "special_cause_improvement"
CONCERN = "special_cause_concern"
NEUTRAL_HIGH = "special_cause_neutral_high"
NEUTRAL_LOW = "special_cause_neutral_low"

POINT_STYLES = {
    # point type: (legend name, colour, marker symbol)
    IMPROVEMENT: ("Special cause improvement", "#005eb8", "diamond"),
    CONCERN: ("Special cause concern", "#b35900", "square"),
    NEUTRAL_HIGH: ("Special cause (high, no judgement)", "#330072", "triangle-up"),
    NEUTRAL_LOW: ("Special cause (low, no judgement)", "#330072", "triangle-down"),
}
VALUE_COLOUR = "#425563"
MEAN_COLOUR = "#212b32"
LIMIT_COLOUR = "#4c6272"
TARGET_COLOUR = "#007f3b"
ENGLAND_COLOUR = "#7c2855"
REBASE_COLOUR = "#768692"
FONT = "Frutiger W01, Arial, sans-serif"

PLOTLY_CONFIG = {
    "responsive": True,
    "displaylogo": False,
    # Keep what helps reading (zoom, pan, reset, download); drop the rest.
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


@dataclass(frozen=True)
class ChartGroup:
    """One run of points between rebases, with its limits (None where there are none)."""

    start: int
    end: int  # one past the last point
    mean: float | None
    lower_limit: float | None
    upper_limit: float | None
    is_trial: bool


@dataclass(frozen=True)
class ChartRebase:
    index: int  # the first point of the new group
    reason: str


@dataclass
class ChartSeries:
    title: str
    unit: str  # the axis title, e.g. "%" or "Rate per 100,000"
    decimals: int
    labels: Sequence[str]
    values: Sequence[float | None]
    lower: Sequence[float | None] = ()
    upper: Sequence[float | None] = ()
    point_types: Sequence[str | None] = ()  # None: not in the SPC (e.g. added since)
    point_words: Sequence[str] = ()  # the point type in words, for the hover text
    groups: Sequence[ChartGroup] = ()
    target: Sequence[float | None] = ()
    england: Sequence[float | None] = ()
    rebases: Sequence[ChartRebase] = field(default_factory=list)


@dataclass
class _Parts:
    """The figure's pieces, gathered first and given to go.Figure once: adding them to
    a figure one by one re-validates and copies it each time (several times slower)."""

    traces: list = field(default_factory=list)
    annotations: list = field(default_factory=list)
    shapes: list = field(default_factory=list)

    def add_trace(self, trace) -> None:
        self.traces.append(trace)

    def add_annotation(self, **annotation) -> None:
        self.annotations.append(annotation)

    def add_shape(self, **shape) -> None:
        self.shapes.append(shape)


def _pad(values: Sequence, n: int) -> list:
    values = list(values)
    return values + [None] * (n - len(values))


def spc_figure(series: ChartSeries) -> go.Figure:
    n = len(series.labels)
    labels = list(series.labels)
    values = _pad(series.values, n)
    types = _pad(series.point_types, n)
    words = _pad(series.point_words, n)
    number = f".{series.decimals}f"
    fig = _Parts()

    lower, upper = _pad(series.lower, n), _pad(series.upper, n)
    has_ci = any(
        lo is not None and hi is not None for lo, hi in zip(lower, upper, strict=True)
    )
    error_y = None
    if has_ci:
        error_y = {
            "type": "data",
            "symmetric": False,
            "array": [
                hi - v if hi is not None and v is not None else None
                for v, hi in zip(values, upper, strict=True)
            ],
            "arrayminus": [
                v - lo if lo is not None and v is not None else None
                for v, lo in zip(values, lower, strict=True)
            ],
            "color": "#aeb7bd",
            "thickness": 1,
            "width": 3,
        }
    fig.add_trace(
        go.Scatter(
            name="Value (common cause)" if series.groups else "Value",
            x=labels,
            y=values,
            mode="lines+markers",
            line={"color": VALUE_COLOUR, "width": 2},
            marker={"color": VALUE_COLOUR, "size": 7, "symbol": "circle"},
            error_y=error_y,
            customdata=[w or "" for w in words],
            hovertemplate=(
                f"%{{x}}: %{{y:{number}}}<br>%{{customdata}}<extra></extra>"
            ),
            connectgaps=False,
        )
    )

    for point_type, (name, colour, symbol) in POINT_STYLES.items():
        picked = [i for i in range(n) if types[i] == point_type]
        if not picked:
            continue
        fig.add_trace(
            go.Scatter(
                name=name,
                x=[labels[i] for i in picked],
                y=[values[i] for i in picked],
                mode="markers",
                marker={
                    "color": colour,
                    "size": 12,
                    "symbol": symbol,
                    "line": {"color": "#ffffff", "width": 1},
                },
                customdata=[words[i] for i in picked],
                hovertemplate=(
                    f"%{{x}}: %{{y:{number}}}<br>%{{customdata}}<extra></extra>"
                ),
            )
        )

    _add_limits(fig, series, labels, number)
    _add_reference(
        fig, "Target", series.target, labels, TARGET_COLOUR, "dashdot", number
    )
    _add_reference(
        fig, "England", series.england, labels, ENGLAND_COLOUR, "dot", number
    )
    _add_rebases(fig, series)

    layout = dict(
        template="none",
        height=440,
        margin={"l": 64, "r": 24, "t": 48, "b": 24},
        font={"family": FONT, "size": 14, "color": "#212b32"},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        hovermode="closest",
        # Above the plot: below it, the legend collides with the rotated period labels.
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "xanchor": "left",
            "x": 0,
        },
        xaxis={
            "type": "category",
            "showgrid": False,
            "linecolor": "#4c6272",
            "tickangle": -45 if n > 12 else 0,
            "automargin": True,
        },
        yaxis={
            "title": {"text": series.unit},
            "gridcolor": "#e8edee",
            "zeroline": False,
            "linecolor": "#4c6272",
            "tickformat": f",.{series.decimals}f",
            "automargin": True,
        },
        annotations=fig.annotations,
        shapes=fig.shapes,
    )
    return go.Figure(data=fig.traces, layout=layout)


def _add_limits(fig: _Parts, series: ChartSeries, labels: list, number: str):
    """Mean and process limits per group; trial limits (a group of fewer than 13 points)
    dashed and named as such, so nobody reads them as settled."""
    shown: set[str] = set()
    for group in series.groups:
        x = labels[group.start : group.end]
        if not x:
            continue
        lines = [
            ("Mean", group.mean, MEAN_COLOUR, "solid", 2),
            (
                "Trial limits" if group.is_trial else "Process limits",
                group.upper_limit,
                LIMIT_COLOUR,
                "dash" if group.is_trial else "solid",
                1,
            ),
            (
                "Trial limits" if group.is_trial else "Process limits",
                group.lower_limit,
                LIMIT_COLOUR,
                "dash" if group.is_trial else "solid",
                1,
            ),
        ]
        for name, level, colour, dash, width in lines:
            if level is None:
                continue
            fig.add_trace(
                go.Scatter(
                    name=name,
                    legendgroup=name,
                    showlegend=name not in shown,
                    x=x,
                    y=[level] * len(x),
                    mode="lines",
                    line={"color": colour, "dash": dash, "width": width},
                    hovertemplate=f"{name}: %{{y:{number}}}<extra></extra>",
                )
            )
            shown.add(name)
        if group.is_trial and group.upper_limit is not None:
            fig.add_annotation(
                x=x[-1],
                y=group.upper_limit,
                text="trial limits",
                showarrow=False,
                xanchor="right",
                yanchor="bottom",
                font={"size": 12, "color": LIMIT_COLOUR},
            )


def _add_reference(
    fig: _Parts,
    name: str,
    levels: Sequence[float | None],
    labels: list,
    colour: str,
    dash: str,
    number: str,
):
    levels = _pad(levels, len(labels))
    if all(level is None for level in levels):
        return
    fig.add_trace(
        go.Scatter(
            name=name,
            x=labels,
            y=levels,
            mode="lines",
            line={"color": colour, "dash": dash, "width": 2, "shape": "hv"},
            hovertemplate=f"{name}: %{{y:{number}}}<extra></extra>",
            connectgaps=False,
        )
    )


def _add_rebases(fig: _Parts, series: ChartSeries):
    """A vertical line where the limits restart, between the two points."""
    for rebase in series.rebases:
        fig.add_shape(
            type="line",
            xref="x",
            yref="paper",
            x0=rebase.index - 0.5,
            x1=rebase.index - 0.5,
            y0=0,
            y1=1,
            line={"color": REBASE_COLOUR, "width": 2, "dash": "longdash"},
        )
        fig.add_annotation(
            x=rebase.index - 0.5,
            xref="x",
            y=1,
            yref="paper",
            text="Rebased",
            hovertext=rebase.reason,
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"size": 12, "color": MEAN_COLOUR},
        )


def figure_payload(fig: go.Figure) -> dict:
    """The figure and its config as plain JSON-ready data, for `json_script`."""
    return {**json.loads(fig.to_json()), "config": PLOTLY_CONFIG}
