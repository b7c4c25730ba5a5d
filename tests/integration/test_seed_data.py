"""The seed data says what the source documents say. Every expected value below is read off
the documents in ../shared/seeds (named in each test), not off the loader's output."""

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps

from actions.models import Action, Benefit, ProgressReport, SavingsPlan
from indicators.models import Indicator, Observation, Target
from scorecard.models import ExceptionCommentary, PublishedOverviewRow, Stocktake
from scorecard.seed.files import FIXTURES_DIR, SeedDataError
from scorecard.seed.loader import load_seed_data
from strategies.models import (
    CommissioningSystem,
    FrameworkItem,
    Strategy,
    StrategyLink,
    SystemStatement,
)

pytestmark = pytest.mark.django_db


def _texts(system, section):
    return list(
        SystemStatement.objects.filter(system=system, section=section)
        .order_by("position")
        .values_list("text", flat=True)
    )


def test_plymouth_has_the_four_overarching_aims_of_000(plymouth):
    assert _texts(plymouth, "overarching-aims") == [
        "To improve health and wellbeing outcomes for the local population",
        "To reduce inequalities in health and wellbeing of the local population",
        "To improve people's experience of care",
        "To improve the sustainability of our health and wellbeing system",
    ]


def test_plymouth_has_the_six_transformational_drivers_of_000(plymouth):
    titles = SystemStatement.objects.filter(
        system=plymouth, section="transformational-drivers"
    ).values_list("title", flat=True)

    assert list(titles) == [
        "Prevention",
        "Vibrant Market",
        "Creating a Modern Workforce",
        "Individuals at the Centre",
        "Seamless Pathways",
        "Quality and Effectiveness of Care",
    ]


def test_plymouth_funds_and_partners_as_000_states(plymouth):
    amounts = set(plymouth.funds.values_list("amount_gbp_m", flat=True))
    partners = set(plymouth.partners.values_list("name", "code"))

    assert amounts == {Decimal("564.06"), Decimal("476.12")}
    assert ("Plymouth City Council", "E06000026") in partners
    assert any(code == "99P" for _, code in partners)


def test_plymouth_strategies_spend_and_wellbeing_aims(plymouth):
    strategies = Strategy.objects.filter(system=plymouth).order_by("number")
    wellbeing = strategies.get(slug="wellbeing")
    aims = FrameworkItem.objects.filter(strategy=wellbeing, level__slug="aim")

    assert [s.name for s in strategies] == [
        "Wellbeing",
        "Children and Young People",
        "Community",
        "Enhanced and Specialised Care",
    ]
    assert (wellbeing.spend_gbp_m, wellbeing.spend_year) == (
        Decimal("205.48"),
        "2015/16",
    )
    assert strategies.get(slug="community").spend_gbp_m == Decimal("272.37")
    assert aims.count() == 4
    assert aims.get(number=1).text.startswith(
        "Sustain the improvement in healthy life expectancy and health inequality"
    )
    assert "percentage of spend on prevention" in aims.get(number=4).text


def test_wellbeing_has_the_five_system_elements_of_004(plymouth):
    elements = FrameworkItem.objects.filter(
        strategy__system=plymouth, strategy__slug="wellbeing", level__slug="element"
    ).values_list("title", flat=True)

    assert set(elements) == {
        "Thrive Plymouth",
        "Empowered Communities",
        "Planned Care",
        "Information",
        "Mental Wellbeing",
    }


def test_strategy_links_carry_their_texts(plymouth):
    link = StrategyLink.objects.get(
        from_strategy__system=plymouth,
        from_strategy__slug="wellbeing",
        to_strategy__slug="children-and-young-people",
    )

    assert "Children Safeguarding services" in link.items
    assert StrategyLink.objects.filter(from_strategy__system=plymouth).count() == 12


def test_excess_weight_adults_is_phof_2_12(plymouth):
    indicator = Indicator.objects.get(
        system=plymouth, title__icontains="Excess weight adults"
    )

    assert (indicator.code, indicator.source_framework) == ("PHOF 2.12", "PHOF")


def test_rtt_is_stored_once_and_serves_two_strategies(plymouth):
    rtt = Indicator.objects.filter(
        system=plymouth, title__icontains="Referral to Treatment"
    )

    assert rtt.count() == 1
    assert set(rtt.get().strategies.values_list("slug", flat=True)) == {
        "wellbeing",
        "enhanced-and-specialised-care",
    }


def test_each_indicator_is_stored_once_per_system(plymouth, torbay):
    for system in (plymouth, torbay):
        titles = [t.lower() for t in system.indicators.values_list("title", flat=True)]
        assert len(titles) == len(set(titles))


def test_indicators_named_in_000_tables_are_present(plymouth):
    named = [
        "Smoking prevalence in adults",
        "Infant Mortality",
        "First time entrants to the criminal justice system",
        "Successful completion of drug treatment (opiate)",
        "Injuries due to falls in people aged 65 and over",
        "Estimated diagnosis rates for Dementia",
    ]
    for words in named:
        matches = [
            i
            for i in Indicator.objects.filter(system=plymouth)
            if words.lower() in " ".join([i.title, *i.aliases]).lower()
        ]
        assert matches, words


def test_perinatal_mental_health_action_carries_its_progress_report(plymouth):
    action = Action.objects.get(
        plan__system=plymouth, title__icontains="peri-natal & maternal mental health"
    )
    report = ProgressReport.objects.get(action=action)

    assert action.strategy.slug == "children-and-young-people"
    assert (action.timeframe, action.due_date) == ("Autumn 2018", date(2018, 11, 30))
    assert report.date == date(2017, 10, 31)
    assert len(report.text) > 50


def test_action_plans_hold_every_activity_of_002(plymouth):
    per_strategy = {
        slug: Action.objects.filter(
            plan__slug="integrated-system-action-plans-2017-19", strategy__slug=slug
        ).count()
        for slug in (
            "wellbeing",
            "children-and-young-people",
            "community",
            "enhanced-and-specialised-care",
        )
    }

    assert per_strategy == {
        "wellbeing": 9,
        "children-and-young-people": 11,
        "community": 15,
        "enhanced-and-specialised-care": 12,
    }


def test_action_html_is_sanitised(plymouth):
    for action in Action.objects.filter(plan__system=plymouth):
        assert "<script" not in action.description
        assert "style=" not in action.description


def test_stocktake_rtt_row_as_published(plymouth):
    stocktake = Stocktake.objects.get(system=plymouth, slug="mid-year-2017-10")
    row = PublishedOverviewRow.objects.get(
        stocktake=stocktake,
        strategy__slug="wellbeing",
        indicator__key="rtt-18-weeks-incomplete",
    )

    assert (row.most_recent_period_text, row.first_value_text, row.last_value_text) == (
        "Aug-17",
        "85.70%",
        "83.80%",
    )
    assert row.aim.number == 2
    assert row.first_value == pytest.approx(85.7)


def test_published_last_values_are_real_observations_at_their_period(plymouth):
    rtt = Observation.objects.get(
        indicator__key="rtt-18-weeks-incomplete",
        indicator__system=plymouth,
        period__label="Aug-17",
        is_current=True,
    )

    assert rtt.value == pytest.approx(83.8)
    assert rtt.area.code == "RK9"
    assert rtt.is_synthetic is False
    assert rtt.source_return.kind == "seed"


def test_weekend_discharges_fraction_is_stored_as_a_percentage(plymouth):
    row = PublishedOverviewRow.objects.get(
        stocktake__system=plymouth, indicator__key="weekend-discharges"
    )

    assert row.last_value_text == "0.18"
    assert row.last_value == pytest.approx(18.0)


def test_exception_reports_are_commentary_dated_with_the_stocktake(plymouth):
    dementia = ExceptionCommentary.objects.get(
        strategy__system=plymouth,
        heading__startswith="Estimated diagnosis rates for dementia",
    )

    assert dementia.dated == date(2017, 10, 31)
    assert dementia.indicator.key == "dementia-diagnosis-rate"
    assert "dementia diagnosis rate remains below the national target" in dementia.text
    assert ExceptionCommentary.objects.filter(strategy__system=plymouth).count() == 9


def test_western_locality_objectives_and_savings_of_002(plymouth):
    objectives = _texts(plymouth, "key-system-performance-objectives") or list(
        SystemStatement.objects.filter(
            system=plymouth, section="key-system-performance-objectives"
        ).values_list("title", flat=True)
    )
    cyp = SavingsPlan.objects.get(system=plymouth, service__startswith="Children")

    assert len(objectives) == 15
    assert any("Smoking Prevalence" in o for o in objectives)
    assert cyp.risk_rating == "amber"
    assert cyp.savings_gbp_m["2018/19"] == pytest.approx(1.263)


def test_transformation_programme_of_003(plymouth):
    benefits = Benefit.objects.filter(project__programme__system=plymouth)

    assert benefits.values("project").distinct().count() >= 2
    assert benefits.count() == 25
    assert benefits.filter(baseline_period="2012/13").exists()


def test_torbay_has_twelve_priority_areas_with_milestones_and_measures(torbay):
    areas = Strategy.objects.filter(system=torbay)
    uec = areas.get(slug="urgent-and-emergency-care")
    milestone = FrameworkItem.objects.get(
        strategy=uec,
        level__slug="milestone",
        text__startswith="Implementation of 111 online",
    )

    assert torbay.strategy_label == "Priority area"
    assert areas.count() == 12
    assert (milestone.due_label, milestone.due_date) == ("Jun'18", date(2018, 6, 30))
    assert uec.indicators.count() >= 5


def test_torbay_targets_as_the_text_states_them(torbay):
    ae = Target.objects.filter(
        indicator__system=torbay, text__contains="by Sep'18"
    ).get()
    ae_march = Target.objects.filter(
        indicator__system=torbay, text__contains="by Mar'19"
    ).get()
    rtt = Target.objects.get(indicator__system=torbay, text__contains="below 82%")

    assert (ae.value, ae.applies_to) == (90, date(2018, 9, 30))
    assert (ae_march.value, ae_march.applies_to) == (95, date(2019, 3, 31))
    assert ae.indicator_id == ae_march.indicator_id
    assert rtt.value == 82
    assert rtt.indicator.polarity == "higher_is_better"


def test_systems_share_no_framework_rows(plymouth, torbay):
    assert not Strategy.objects.filter(system=torbay, slug="wellbeing").exists()
    assert set(torbay.levels.values_list("slug", flat=True)) == {"milestone"}
    assert set(plymouth.levels.values_list("slug", flat=True)) == {"aim", "element"}


def _row_counts():
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"strategies", "indicators", "actions", "scorecard"}
    }


def test_loading_twice_changes_nothing(plymouth):
    before = _row_counts()

    stats = load_seed_data(with_demo=True)

    assert stats.changes == 0
    assert _row_counts() == before


def test_demo_history_is_flagged_and_passes_through_published_values(plymouth):
    for row in PublishedOverviewRow.objects.filter(
        stocktake__system=plymouth, period__isnull=False
    ).exclude(last_value=None):
        series = Observation.objects.filter(
            indicator=row.indicator, area=row.area, is_current=True
        ).order_by("period__start")
        real = [o for o in series if not o.is_synthetic]
        synthetic = [o for o in series if o.is_synthetic]
        assert real[-1].period_id == row.period_id
        assert real[-1].value == pytest.approx(row.last_value)
        assert synthetic, row.indicator_text
        assert all(o.source_return.kind == "demo" for o in synthetic)
        if row.first_value is not None:
            # The same series may be printed at different precision in two tables
            # (0.23 under Wellbeing, 0.2 under Enhanced and Specialised Care).
            places = len(row.first_value_text.rstrip("%").partition(".")[2])
            assert row.first_value in [round(o.value, places) for o in synthetic]


def test_a_broken_seed_file_reports_every_problem_and_writes_nothing(
    plymouth, tmp_path
):
    broken = tmp_path / "fixtures"
    shutil.copytree(FIXTURES_DIR, broken)
    strategies = broken / "plymouth" / "strategies.yaml"
    text = strategies.read_text().replace("slug: wellbeing", "slug: well-being", 1)
    strategies.write_text(text)
    indicators = broken / "plymouth" / "indicators.yaml"
    indicators.write_text(
        indicators.read_text().replace(
            "polarity: lower_is_better", "polarity: lower", 1
        )
    )
    before = _row_counts()

    with pytest.raises(SeedDataError) as raised:
        load_seed_data(root=Path(broken))

    problems = "\n".join(raised.value.problems)
    assert "unknown strategy 'wellbeing'" in problems
    assert "'lower' is not one of" in problems
    assert len(raised.value.problems) > 2
    assert _row_counts() == before
    assert CommissioningSystem.objects.filter(slug="plymouth").exists()


def test_the_pages_first_value_is_the_stocktakes_first_value(plymouth):
    """The demo history puts the published first value where the page's display window
    starts, so "First value" on the strategy page reads as the stocktake printed it."""
    from scorecard.models import SeriesResult

    rows = PublishedOverviewRow.objects.filter(
        stocktake__system=plymouth, period__isnull=False
    ).exclude(first_value=None)
    assert rows.exists()
    for row in rows:
        result = SeriesResult.objects.get(
            indicator=row.indicator, area=row.area, breakdown=""
        )
        places = len(row.first_value_text.rstrip("%").partition(".")[2])
        assert round(result.window_first_value, places) == pytest.approx(
            row.first_value
        ), row.indicator_text
