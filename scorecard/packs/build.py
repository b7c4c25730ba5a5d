"""Assemble a board pack from the database: the same rows, flags and reasons the
scorecard pages show (their selectors), the approved commentary, the action plans with
their latest progress, the methods in plain words and where the data came from.

Two bases: a published stocktake (the rows as published; for one the application
published, its frozen snapshot) or live data as at a date."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from actions.models import Action, ProgressReport
from indicators.analysis.spc_rules import RUN_LENGTH
from indicators.models import Observation
from scorecard.models import ExceptionCommentary, PublishedOverviewRow, Stocktake
from scorecard.packs.document import (
    OverviewGroup,
    OverviewRow,
    Pack,
    PackAction,
    PackException,
    PackStrategy,
    ProvenanceRow,
)
from scorecard.selectors.pages import (
    OverviewFilters,
    exception_report,
    filtered_groups,
    strategy_overview,
)
from scorecard.templatetags.scorecard_tags import VARIATION, format_number
from strategies.models import CommissioningSystem, FrameworkItem, SystemStatement

METHODS = [
    (
        "Statistical process control (SPC)",
        "Each monthly or quarterly series is drawn as an XmR chart, as NHS England's "
        "Making Data Count recommends. The mean and the process limits (the mean plus "
        "or minus 2.66 times the average moving range) show the range within which the "
        "values would vary by chance alone.",
    ),
    (
        "Special cause concern or improvement",
        f"A point outside the process limits, {RUN_LENGTH} or more points in a row above "
        f"or below the mean, {RUN_LENGTH} or more points each higher (or lower) than the "
        "one before, or two of three points close to a limit on the same side of the "
        "mean: patterns unlikely to be chance. Whether it is a concern or an improvement "
        "depends on whether higher is better.",
    ),
    (
        "Common cause variation",
        "The values vary only as much as they usually do: no signal that anything has "
        "changed.",
    ),
    (
        "Assurance against the target",
        "If the target lies outside the process limits, the process will consistently "
        "pass or fail it unless something changes; inside them it will sometimes pass "
        "and sometimes fail.",
    ),
    (
        "Compared with England",
        "For public health indicators, the area's value and its 95% confidence interval "
        "(Wilson for proportions, Byars or exact Poisson for counts and rates) are "
        "compared with the England value: better, similar or worse.",
    ),
    (
        "Recent trend",
        "For annual indicators, the latest five points are tested for a trend with a "
        "chi-square test for trend (as OHID Fingertips does): increasing or decreasing, "
        "getting better or worse, or no significant change.",
    ),
    (
        "RAG against target",
        "Green when the target is met, Amber when the value is within the indicator's "
        "tolerance of the target, Red otherwise, through whether higher or lower is "
        "better.",
    ),
    (
        "Exception report",
        "An indicator is on the exception report when a rule configured for the system "
        "fires: special cause concern, consistently failing the target, Red against the "
        "target, worse than England, a worsening trend, or data overdue.",
    ),
]


def pack_title(
    system: CommissioningSystem,
    *,
    as_at: date | None = None,
    stocktake: Stocktake | None = None,
) -> str:
    if stocktake is not None:
        return stocktake.title
    when = as_at or timezone.localdate()
    return f"{system.short_name} integrated commissioning stocktake, {when:%-d %B %Y}"


def build_pack(
    system: CommissioningSystem,
    *,
    as_at: date | None = None,
    stocktake: Stocktake | None = None,
    generated_by: str,
    progress=lambda percent, stage: None,
) -> Pack:
    strategies = list(system.strategies.order_by("number"))
    on_date = stocktake.published if stocktake is not None else as_at
    published = stocktake is not None and not stocktake.published_at
    built = []
    for number, strategy in enumerate(strategies):
        progress(
            5 + int(30 * number / max(len(strategies), 1)),
            f"Reading {strategy.name}",
        )
        built.append(
            _strategy(strategy, stocktake if published else None, on_date, system)
        )
    has_synthetic = any(
        row.synthetic
        for strategy in built
        for group in strategy.overview
        for row in group.rows
    )
    return Pack(
        system=system.name,
        title=pack_title(system, as_at=as_at, stocktake=stocktake),
        subtitle=(
            f"Published {stocktake.published:%-d %B %Y}"
            if stocktake is not None
            else f"The scorecard as at {(as_at or timezone.localdate()):%-d %B %Y}"
        ),
        as_at=on_date or timezone.localdate(),
        basis=_basis(stocktake, as_at),
        generated_at=timezone.now(),
        generated_by=generated_by,
        introduction=[p for p in system.description.split("\n\n") if p.strip()],
        system_aims=_system_aims(system),
        strategies=built,
        methods=METHODS,
        provenance=_provenance(system, on_date),
        has_synthetic=has_synthetic,
    )


def _basis(stocktake: Stocktake | None, as_at: date | None) -> str:
    if stocktake is not None:
        return (
            f"The stocktake as published on {stocktake.published:%-d %B %Y}"
            + (f" ({stocktake.source})" if stocktake.source else "")
            + "."
        )
    if as_at is not None:
        return f"Live data as it stood on {as_at:%-d %B %Y}."
    return f"Live data as at {timezone.localdate():%-d %B %Y}."


def _system_aims(system: CommissioningSystem) -> list[str]:
    statements = SystemStatement.objects.filter(
        system=system, section__in=["overarching-aims", "system-aims", "outcomes"]
    ).order_by("section", "position")
    return [s.title or s.text for s in statements]


def _strategy(strategy, stocktake, on_date, system) -> PackStrategy:
    # The system's first level below the strategy: Plymouth's aims, Torbay's milestones.
    first_level = system.levels.order_by("position").first()
    aims = list(
        FrameworkItem.objects.filter(strategy=strategy, level=first_level)
        .order_by("position")
        .values_list("title", "text")
    )
    spend = (
        f"£{strategy.spend_gbp_m}m"
        + (f" ({strategy.spend_year})" if strategy.spend_year else "")
        if strategy.spend_gbp_m is not None
        else ""
    )
    overview = (
        _published_overview(strategy, stocktake)
        if stocktake is not None
        else _live_overview(strategy, on_date)
    )
    return PackStrategy(
        name=strategy.name,
        label=system.strategy_label,
        vision=strategy.vision,
        spend=spend,
        aims=[title or text for title, text in aims],
        overview=overview,
        exceptions=_exceptions(strategy, stocktake),
        actions=_actions(strategy, on_date),
    )


def _live_overview(strategy, as_at) -> list[OverviewGroup]:
    overview = strategy_overview(strategy, as_at=as_at)
    groups = []
    for group in filtered_groups(overview, OverviewFilters()):
        rows = []
        for row in group.rows:
            indicator, result = row.indicator, row.result
            decimals, measure = indicator.decimal_places, indicator.measure_type

            def number(value, decimals=decimals, measure=measure):
                return format_number(value, decimals, measure)

            rows.append(
                OverviewRow(
                    indicator=indicator.title,
                    code=indicator.code,
                    measure=indicator.get_measure_type_display(),
                    period=(
                        result.latest_period.label
                        if result and result.latest_period
                        else ""
                    ),
                    england_value=number(result.england_value) if result else "",
                    england_comparison=result.comparison if result else "",
                    first_value=number(result.window_first_value) if result else "",
                    sparkline=[v for _, v in (result.sparkline or [])]
                    if result
                    else [],
                    last_value=number(result.latest_value) if result else "",
                    trend=_trend_words(result),
                    rag=result.rag if result else "",
                    reasons=[r.reason for r in row.rules],
                    on_exception_report=bool(row.rules),
                    synthetic=bool(result and result.has_synthetic),
                )
            )
        heading = ""
        if group.aim is not None:
            heading = group.aim.title or group.aim.text
        groups.append(OverviewGroup(heading, rows))
    return groups


def _trend_words(result) -> str:
    """The trend column in the words the strategy page uses."""
    if result is None:
        return "No data"
    if result.trend:
        return result.trend
    if result.variation == "not_enough_data":
        return "Not enough data"
    if result.variation:
        return VARIATION.get(result.variation, (None, result.variation))[1]
    return result.direction or ""


def _published_overview(strategy, stocktake) -> list[OverviewGroup]:
    groups: dict[str, list[OverviewRow]] = defaultdict(list)
    for row in PublishedOverviewRow.objects.filter(
        stocktake=stocktake, strategy=strategy
    ).order_by("position"):
        groups[row.group_heading].append(
            OverviewRow(
                indicator=row.indicator_text,
                code="",
                measure=row.measure_text,
                period=row.most_recent_period_text,
                england_value=row.benchmark_england_text,
                england_comparison="",
                first_value=row.first_value_text,
                sparkline=[
                    v for v in (row.first_value, row.last_value) if v is not None
                ],
                last_value=row.last_value_text,
                trend=row.trend_text,
                rag="",
            )
        )
    return [OverviewGroup(heading, rows) for heading, rows in groups.items()]


def _exceptions(strategy, stocktake) -> list[PackException]:
    if stocktake is not None:
        notes = ExceptionCommentary.objects.filter(
            strategy=strategy, stocktake=stocktake
        ).order_by("position", "pk")
        return [
            PackException(n.heading, [], n.text, f"As published {n.dated:%-d %B %Y}")
            for n in notes
        ]
    report = exception_report(strategy)
    found = []
    for entry in report.entries:
        approved = [
            note
            for note in entry.commentary
            if getattr(note, "status", "approved") == "approved"
        ]
        note = approved[0] if approved else None
        found.append(
            PackException(
                heading=entry.heading,
                reasons=[flag.reason for flag in entry.flags],
                commentary_html=_commentary_html(note) if note else "",
                commentary_note=(
                    f"Commentary dated {note.dated:%-d %B %Y}"
                    + (f" by {note.author_name}" if note.author_name else "")
                    if note
                    else ""
                ),
            )
        )
    return found


def _commentary_html(note) -> str:
    """Structured commentary as sections; text as published otherwise. Every field was
    sanitised with nh3 when it was saved."""
    parts = []
    for field, title in (
        ("story", "The story behind the numbers"),
        ("helping", "What is helping"),
        ("hindering", "What is hindering"),
        ("actions_taken", "Actions taken"),
    ):
        value = getattr(note, field, "")
        if value:
            parts.append(f"<p><strong>{title}</strong></p>{value}")
    recovery = getattr(note, "expected_recovery", None)
    if recovery:
        parts.append(f"<p><strong>Expected recovery</strong>: {recovery:%B %Y}</p>")
    return "".join(parts) or note.text


def _actions(strategy, on_date) -> list[PackAction]:
    progress = ProgressReport.objects.order_by("-date", "-position", "-pk")
    if on_date is not None:
        progress = progress.filter(date__lte=on_date)
    actions = (
        Action.objects.filter(strategy=strategy)
        .order_by("plan__start", "position", "pk")
        .prefetch_related(Prefetch("progress_reports", queryset=progress))
    )
    today = on_date or timezone.localdate()
    found = []
    for action in actions:
        latest = next(iter(action.progress_reports.all()), None)
        status = (
            latest.get_status_display()
            if latest and getattr(latest, "status", "")
            else action.get_status_display()
        )
        found.append(
            PackAction(
                title=action.title,
                timeframe=action.timeframe,
                status=status,
                rag=(latest.rag if latest and latest.rag else action.rag),
                progress_html=latest.text if latest else "",
                progress_note=(
                    f"{latest.date:%-d %B %Y}"
                    + (f", {latest.author_name}" if latest.author_name else "")
                    if latest
                    else ""
                ),
                overdue=bool(
                    action.due_date
                    and action.due_date < today
                    and action.status not in ("complete", "closed")
                ),
            )
        )
    return found


def _provenance(system, on_date) -> list[ProvenanceRow]:
    """Each return (or the seed) behind the system's current values, with how many of
    those values were revised after the pack's date."""
    values = Observation.objects.filter(indicator__system=system, is_current=True)
    rows = (
        values.values(
            "source_return_id",
            "source_return__title",
            "source_return__created_at",
            "source_return__uploaded_by__username",
        )
        .annotate(
            count=Count("pk"),
            revised=Count(
                "pk",
                filter=Q(recorded_at__date__gt=on_date) if on_date else Q(pk__in=[]),
            ),
        )
        .order_by("source_return__created_at")
    )
    found = []
    for row in rows:
        created = row["source_return__created_at"]
        found.append(
            ProvenanceRow(
                source=row["source_return__title"] or "Seed data",
                loaded=f"{created:%-d %b %Y}" if created else "",
                by=row["source_return__uploaded_by__username"] or "",
                values=row["count"],
                revised_since=row["revised"],
            )
        )
    return found
