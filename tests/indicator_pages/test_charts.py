"""The SPC figure, built from plain data: every kind of point has its own shape and
colour and a legend entry in words; trial limits dashed and labelled; target, England
and rebase lines; JSON-ready with its config."""

from __future__ import annotations

import json

from indicators.charts import (
    ChartGroup,
    ChartRebase,
    ChartSeries,
    figure_payload,
    spc_figure,
)

TYPES = [
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
    None,
]


def series(**changes) -> ChartSeries:
    labels = [f"P{i}" for i in range(6)]
    fields = {
        "title": "A measure",
        "unit": "%",
        "decimals": 1,
        "labels": labels,
        "values": [1.0, 5.0, 0.5, 3.0, 2.0, 2.5],
        "lower": [0.5, 4.0, None, 2.0, 1.0, 2.0],
        "upper": [1.5, 6.0, None, 4.0, 3.0, 3.0],
        "point_types": TYPES,
        "point_words": ["words"] * 6,
        "groups": [
            ChartGroup(0, 4, 2.0, 0.0, 4.0, is_trial=False),
            ChartGroup(4, 6, 2.25, None, None, is_trial=True),
        ],
        "target": [3.0] * 6,
        "england": [2.2, 2.2, 2.3, None, 2.4, 2.4],
        "rebases": [ChartRebase(4, "New service")],
    }
    return ChartSeries(**{**fields, **changes})


def test_each_special_cause_has_its_own_shape_colour_and_name():
    figure = spc_figure(series())
    specials = [t for t in figure.data if t.name.startswith("Special cause")]
    assert [t.name for t in specials] == [
        "Special cause improvement",
        "Special cause concern",
        "Special cause (high, no judgement)",
        "Special cause (low, no judgement)",
    ]
    assert len({t.marker.symbol for t in specials}) == 4
    # Neutral high and low share a colour but never a shape; the others differ in both.
    assert len({t.marker.color for t in specials}) == 3
    assert [list(t.x) for t in specials] == [["P1"], ["P2"], ["P3"], ["P4"]]
    values = next(t for t in figure.data if t.name == "Value (common cause)")
    assert list(values.y) == [1.0, 5.0, 0.5, 3.0, 2.0, 2.5]
    assert list(values.error_y.array)[:2] == [0.5, 1.0]
    assert values.error_y.arrayminus[2] is None


def test_trial_limits_are_dashed_and_labelled_and_process_limits_are_not():
    figure = spc_figure(
        series(
            groups=[
                ChartGroup(0, 3, 2.0, 0.0, 4.0, is_trial=False),
                ChartGroup(3, 6, 2.5, 1.0, 4.5, is_trial=True),
            ]
        )
    )
    process = [t for t in figure.data if t.name == "Process limits"]
    trial = [t for t in figure.data if t.name == "Trial limits"]
    assert len(process) == 2
    assert len(trial) == 2
    assert {t.line.dash for t in process} == {"solid"}
    assert {t.line.dash for t in trial} == {"dash"}
    assert [t.showlegend for t in trial] == [True, False]  # one legend entry
    assert list(trial[0].x) == ["P3", "P4", "P5"]
    assert "trial limits" in [a.text for a in figure.layout.annotations]


def test_limits_missing_from_a_group_are_not_drawn():
    figure = spc_figure(series())
    means = [t for t in figure.data if t.name == "Mean"]
    assert [list(t.y) for t in means] == [[2.0] * 4, [2.25] * 2]
    assert len([t for t in figure.data if t.name == "Trial limits"]) == 0


def test_target_england_and_rebase_lines():
    figure = spc_figure(series())
    traces = {t.name: t for t in figure.data}
    assert list(traces["Target"].y) == [3.0] * 6
    assert list(traces["England"].y)[3] is None
    assert traces["Target"].line.dash != traces["England"].line.dash
    (shape,) = figure.layout.shapes
    assert (shape.x0, shape.x1) == (3.5, 3.5)
    rebase = next(a for a in figure.layout.annotations if a.text == "Rebased")
    assert rebase.hovertext == "New service"


def test_without_spc_only_the_values_are_drawn():
    figure = spc_figure(
        series(groups=[], point_types=[], target=[], england=[], rebases=[])
    )
    assert [t.name for t in figure.data] == ["Value"]
    assert not figure.layout.shapes


def test_payload_is_plain_json_with_the_config():
    payload = figure_payload(spc_figure(series()))
    assert set(payload) >= {"data", "layout", "config"}
    assert payload["config"]["displaylogo"] is False
    text = json.dumps(payload)
    assert "cdn" not in text.lower()
    assert payload["layout"]["xaxis"]["type"] == "category"
