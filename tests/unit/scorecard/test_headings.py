"""Exception headings in the style of the October 2017 stocktake's exception report."""

import pytest

from scorecard.headings import exception_heading, heading_for_result


def test_a_worsening_fingertips_trend_reads_as_the_seed_writes_it():
    # Seed 002: "Estimated diagnosis rates for dementia - Increasing trend" (with an en dash).
    heading = exception_heading(
        "Estimated diagnosis rates for dementia",
        ["trend_worsening"],
        trend_label="Increasing and getting worse",
    )

    assert heading == "Estimated diagnosis rates for dementia - Increasing trend"


@pytest.mark.parametrize(
    ("rule", "side", "descriptor"),
    [
        ("trend", "low", "Decreasing trend"),
        ("trend", "high", "Increasing trend"),
        ("shift", "low", "Sustained run below the average"),
        ("outside_limits", "high", "Above the upper process limit"),
        ("two_in_three", "low", "Close to the lower process limit"),
        (None, None, "Special cause concern"),
    ],
)
def test_special_cause_concern_says_which_rule_and_which_way(rule, side, descriptor):
    heading = exception_heading(
        "Referral to treatment - 18 weeks",
        ["special_cause_concern"],
        spc_last_rule=rule,
        spc_last_side=side,
    )

    assert heading == f"Referral to treatment - 18 weeks - {descriptor}"


def test_the_strongest_two_reasons_lead_whatever_order_the_flags_come_in():
    heading = exception_heading(
        "Single assessments within 45 days",
        ["data_overdue", "rag_red", "worse_than_england", "special_cause_concern"],
        spc_last_rule="shift",
        spc_last_side="low",
    )

    assert heading == (
        "Single assessments within 45 days - Sustained run below the average; "
        "not meeting the target"
    )


def test_no_fired_rule_leaves_the_title_alone():
    assert exception_heading("Excess weight adults", []) == "Excess weight adults"


@pytest.mark.django_db
def test_a_stored_result_gives_its_latest_points_rule_and_side(plymouth):
    from scorecard.models import ExceptionFlag, SeriesResult

    result = SeriesResult.objects.get(
        indicator__key="single-assessments-45-days", area=plymouth.home_area
    )
    rules = ExceptionFlag.objects.filter(
        indicator=result.indicator, area=result.area, cleared_at__isnull=True
    ).values_list("rule", flat=True)
    last = result.spc["points"][-1]

    heading = heading_for_result(result.indicator.title, rules, result)

    assert last["type"] == "special_cause_concern"
    assert heading.startswith(f"{result.indicator.title} - ")
    assert heading.endswith("; not meeting the target")
    assert heading != f"{result.indicator.title} - Special cause concern"
