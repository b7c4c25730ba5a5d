"""Reads for the indicator page: one indicator, one of its series (area x breakdown), the
stored statistics and every flag with its reason, where it sits in the framework, its
targets, commentary, actions and the versions of every value.

A fixed number of queries however many points, revisions, flags or actions there are:
each list is one query (two for actions with their latest progress). The SPC is read from
`SeriesResult.spc`, never recomputed here, so the page shows what the flags were raised on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from actions.models import Action, ProgressReport
from commissioning.html import sanitise_html
from indicators.analysis.common import format_number
from indicators.analysis.spc_rules import ASSURANCE_WORDS, POINT_TYPE_WORDS
from indicators.charts import ChartGroup, ChartRebase, ChartSeries
from indicators.models import Area, Indicator, IndicatorAssignment, Observation, Target
from indicators.selectors import SeriesPoint, series_history
from scorecard.models import (
    ExceptionCommentary,
    ExceptionFlag,
    PublishedOverviewRow,
    RebasePoint,
    SeriesResult,
)
from scorecard.services.recompute import ENGLAND_CODE
from strategies.models import FrameworkItem
from strategies.permissions import systems_visible_to

RULE_WORDS = {
    "outside_limits": "outside the process limits",
    "trend": "part of a run of 7 points each rising or falling",
    "two_in_three": "2 of 3 points near or beyond a 2-sigma line",
    "shift": "part of a run of 7 points on one side of the mean",
}
# How each status reads: good, bad, warning or neutral. The template draws the matching
# icon beside the word, so a status is never told by colour alone.
TONES = {
    "special_cause_improvement": "good",
    "special_cause_concern": "bad",
    "consistently_passes": "good",
    "consistently_fails": "bad",
    "hit_and_miss": "warning",
    "Green": "good",
    "Amber": "warning",
    "Red": "bad",
    "Better": "good",
    "Best": "good",
    "Worse": "bad",
    "Worst": "bad",
    "Improved": "good",
    "Deteriorated": "bad",
    "Overdue": "bad",
    "On time": "good",
}

METHOD_SPC = (
    "Making Data Count XmR chart (NHS England): the mean and process limits at the "
    "mean plus or minus 2.66 times the average moving range; special causes are a "
    "point outside the limits, 7 points rising or falling, 2 of 3 points beyond 2 "
    "sigma, or 7 points on one side of the mean; fewer than 13 points give trial limits"
)
METHOD_ASSURANCE = (
    "Making Data Count assurance: where the target lies against the latest process "
    "limits"
)
METHOD_COMPARISON = (
    "Public health method (OHID/PHE): the value's 95% confidence interval compared "
    "with the England value for the same period"
)
METHOD_TREND = (
    "Fingertips recent trend: weighted regression over the latest 5 annual points, "
    "significant when chi-square exceeds 9.55 (99.8%)"
)
METHOD_RAG = "Latest value against the target in force, with the amber tolerance"
METHOD_DIRECTION = "Latest value against the one before, through the polarity"
METHOD_OVERDUE = "The next period's expected publication date against today"


@dataclass(frozen=True)
class SeriesOption:
    """A series of the indicator the page can show: one area (and breakdown)."""

    area: Area
    breakdown: str
    point_count: int

    @property
    def key(self) -> str:
        """The switcher's value: area code and breakdown ("RK9|" without one)."""
        return f"{self.area.code}|{self.breakdown}"

    @property
    def label(self) -> str:
        name = f"{self.area.name} ({self.area.code})"
        return f"{name}, {self.breakdown}" if self.breakdown else name


@dataclass
class DataRow:
    """One period of the series as the table shows it, beside the chart."""

    point: SeriesPoint
    observation: Observation
    spc_index: int | None = None  # the point's place in the stored SPC
    point_type: str = ""
    rule: str = ""
    mean: float | None = None
    lower_limit: float | None = None
    upper_limit: float | None = None
    is_trial: bool = False
    target: float | None = None
    england: float | None = None

    decimals: int = 1

    def _text(self, number: float | None) -> str:
        return "" if number is None else format_number(number, self.decimals)

    # The table's numbers, formatted once here (thousands separated, the indicator's
    # decimals): cheaper than a template filter per cell, and the same everywhere.
    @property
    def value_text(self) -> str:
        return self._text(self.observation.value)

    @property
    def interval_text(self) -> str:
        lower, upper = self.observation.lower_ci, self.observation.upper_ci
        if lower is None or upper is None:
            return ""
        return f"{self._text(lower)} to {self._text(upper)}"

    @property
    def mean_text(self) -> str:
        return self._text(self.mean)

    @property
    def lower_limit_text(self) -> str:
        return self._text(self.lower_limit)

    @property
    def upper_limit_text(self) -> str:
        return self._text(self.upper_limit)

    @property
    def target_text(self) -> str:
        return self._text(self.target)

    @property
    def england_text(self) -> str:
        return self._text(self.england)

    @property
    def point_words(self) -> str:
        words = POINT_TYPE_WORDS.get(self.point_type, "")
        rule = RULE_WORDS.get(self.rule)
        return f"{words}: {rule}" if words and rule else words


@dataclass(frozen=True)
class Flag:
    """A computed flag of the series: what it says, why, and by which method."""

    name: str
    status: str
    tone: str
    reason: str
    method: str


@dataclass(frozen=True)
class Commentary:
    commentary: ExceptionCommentary
    text_html: SafeString
    exceptions_url: str

    @property
    def author(self) -> str:
        c = self.commentary
        if c.author_name:
            return c.author_name
        if c.author is not None:
            return c.author.get_full_name() or c.author.get_username()
        return ""


@dataclass(frozen=True)
class LinkedAction:
    action: Action
    latest: ProgressReport | None
    url: str


@dataclass(frozen=True)
class Placement:
    """Where the indicator sits in one strategy: its aims, elements or milestones."""

    assignment: IndicatorAssignment
    url: str
    items: list[FrameworkItem]


@dataclass
class IndicatorPage:
    indicator: Indicator
    options: list[SeriesOption]
    chosen: SeriesOption | None
    result: SeriesResult | None
    rows: list[DataRow]
    history: list[SeriesPoint]
    flags: list[Flag]
    exception_flags: list[ExceptionFlag]
    targets: list[Target]
    placements: list[Placement]
    commentaries: list[Commentary]
    actions: list[LinkedAction]
    rebases: list[RebasePoint]
    chart: ChartSeries | None
    stale: bool = False  # values changed since the statistics were computed
    shows_synthetic: bool = False

    # Which optional columns the data table needs: an empty column is noise.
    @property
    def has_intervals(self) -> bool:
        return any(
            r.observation.lower_ci is not None and r.observation.upper_ci is not None
            for r in self.rows
        )

    @property
    def has_limits(self) -> bool:
        return any(r.spc_index is not None for r in self.rows)

    @property
    def has_target(self) -> bool:
        return any(r.target is not None for r in self.rows)

    @property
    def has_england(self) -> bool:
        return any(r.england is not None for r in self.rows)

    @property
    def revision_count(self) -> int:
        return sum(1 for point in self.history if point.revised)


def visible_indicators(user) -> QuerySet[Indicator]:
    """Indicators of the systems the user may see (one query with the system)."""
    return Indicator.objects.filter(system__in=systems_visible_to(user)).select_related(
        "system", "system__home_area"
    )


def indicator_for(user, indicator_id: int) -> Indicator:
    """The indicator, or 404 when it does not exist or belongs to a system the user
    cannot see (the two are indistinguishable from outside)."""
    indicator = visible_indicators(user).filter(pk=indicator_id).first()
    if indicator is None:
        raise Http404("No such indicator.")
    return indicator


def _stamp_sql() -> str:
    """One statement: for each kind of row the page shows that can change without
    bumping the scorecard cache (scorecard.cache bumps on recomputations, returns,
    commentary, strategies and systems), how many there are, the latest change, the sum
    of their ids (an add and a delete together still change it) and a second count.
    Table names come from the models (quoted); the indicator's id is a parameter."""
    from django.db import connection

    def table(model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    action_links = table(Action.indicators.through)
    parts = [
        ("t", "COUNT(*), MAX(x.updated_at), SUM(x.id), 0", f"{table(Target)} x", "x"),
        (
            "a",
            "COUNT(*), MAX(x.updated_at), SUM(x.id), 0",
            f"{table(Action)} x JOIN {action_links} l ON l.action_id = x.id",
            "l",
        ),
        (
            "p",
            "COUNT(*), MAX(x.updated_at), SUM(x.id), 0",
            f"{table(ProgressReport)} x JOIN {action_links} l"
            " ON l.action_id = x.action_id",
            "l",
        ),
        (
            "s",
            "COUNT(*), NULL, SUM(x.id), SUM(LENGTH(x.polarity))",
            f"{table(IndicatorAssignment)} x",
            "x",
        ),
        (
            "i",
            "COUNT(*), NULL, SUM(x.frameworkitem_id), 0",
            f"{table(Indicator.framework_items.through)} x",
            "x",
        ),
        (
            "r",
            "COUNT(*), MAX(x.updated_at), SUM(x.id), 0",
            f"{table(RebasePoint)} x",
            "x",
        ),
        (
            "c",
            "COUNT(*), MAX(x.updated_at), SUM(x.id), 0",
            f"{table(ExceptionCommentary)} x",
            "x",
        ),
        (
            "f",
            "COUNT(*), MAX(x.raised_at), SUM(x.id), COUNT(x.cleared_at)",
            f"{table(ExceptionFlag)} x",
            "x",
        ),
    ]
    return " UNION ALL ".join(
        f"SELECT '{kind}', {columns} FROM {source} WHERE {alias}.indicator_id = %s"  # noqa: S608 - names from the models, the id a parameter
        for kind, columns, source, alias in parts
    )


_STAMP_SQL: list[str] = []


def page_stamp(indicator: Indicator) -> str:
    """A short digest of everything on the indicator's page that can change without
    bumping the scorecard cache: the definition (its `updated_at`), targets, linked
    actions and their progress, placements, rebases, commentary and exception flags.
    One query of plain aggregates over the indicator's own (few) rows of each, cheap
    beside building the page, so the cached page follows an edit at once. Values are
    left out (there can be tens of thousands): they only arrive or go with a return,
    whose event bumps the cache. Edits that bypass `save()` (queryset updates) still
    show within the cache's hour."""
    from django.db import connection

    if not _STAMP_SQL:
        _STAMP_SQL.append(_stamp_sql())
    sql = _STAMP_SQL[0]
    with connection.cursor() as cursor:
        cursor.execute(sql, [indicator.pk] * sql.count("%s"))
        rows = sorted(cursor.fetchall())
    digest = hashlib.sha256(
        repr((indicator.updated_at.isoformat(), rows)).encode()
    ).hexdigest()
    return digest[:24]


def strategy_overview_url(system_slug: str, strategy_slug: str) -> str:
    return reverse("strategy_overview", args=[system_slug, strategy_slug])


def exception_report_url(system_slug: str, strategy_slug: str) -> str:
    return reverse("exception_report", args=[system_slug, strategy_slug])


def action_plan_url(system_slug: str, strategy_slug: str, action_id: int) -> str:
    """The strategy's action plan, at the activity."""
    plan = reverse("actions:action_plan", args=[system_slug, strategy_slug])
    return f"{plan}#action-{action_id}"


def action_url(action_id: int) -> str:
    return reverse("actions:action_detail", args=[action_id])


def series_options(indicator: Indicator) -> list[SeriesOption]:
    """Every area (and breakdown) the indicator has current values for, the most points
    first, England last (it is the benchmark, seldom the series wanted)."""
    rows = (
        Observation.objects.filter(indicator=indicator, is_current=True)
        .values("area_id", "breakdown")
        .annotate(n=Count("id"))
    )
    counts = {(row["area_id"], row["breakdown"]): row["n"] for row in rows}
    areas = Area.objects.in_bulk({area_id for area_id, _ in counts})
    options = [
        SeriesOption(areas[area_id], breakdown, n)
        for (area_id, breakdown), n in counts.items()
    ]
    options.sort(
        key=lambda o: (o.area.code == ENGLAND_CODE, -o.point_count, o.label.lower())
    )
    return options


def choose_series(
    indicator: Indicator,
    options: list[SeriesOption],
    area_code: str | None,
    breakdown: str | None,
) -> SeriesOption | None:
    """The series asked for (?area=<code>, ?breakdown=); else the area the published
    scorecard row uses; else the system's home area; else the fullest series."""
    if not options:
        return None
    if area_code:
        wanted = [o for o in options if o.area.code.lower() == area_code.lower()]
        if breakdown is not None:
            wanted = [o for o in wanted if o.breakdown == breakdown]
        if wanted:
            return sorted(wanted, key=lambda o: (o.breakdown != "", o.breakdown))[0]
    published = (
        PublishedOverviewRow.objects.filter(indicator=indicator)
        .values_list("area_id", flat=True)
        .first()
    )
    for area_id in (published, indicator.system.home_area_id):
        for option in options:
            if option.area.pk == area_id and option.breakdown == "":
                return option
    return options[0]


def target_in_force(targets: list[Target], end: date) -> Target | None:
    """The target a period is measured against, as the scorecard rates it: the earliest
    not yet past, else one without dates, else the last to have applied."""
    dated = sorted((t for t in targets if t.applies_to), key=lambda t: t.applies_to)
    for target in dated:
        if target.applies_to >= end:
            return target
    undated = [t for t in targets if not t.applies_to]
    if undated:
        return undated[0]
    return dated[-1] if dated else None


def _result_for(
    indicator: Indicator, chosen: SeriesOption | None
) -> SeriesResult | None:
    if chosen is None:
        return None
    return (
        SeriesResult.objects.filter(
            indicator=indicator, area=chosen.area, breakdown=chosen.breakdown
        )
        .select_related("latest_period")
        .first()
    )


def _data_rows(
    history: list[SeriesPoint],
    result: SeriesResult | None,
    chart_targets: list[Target],
    england: dict[int, float],
    decimals: int,
) -> tuple[list[DataRow], bool]:
    """The current value of each period with its SPC point (matched by observation id:
    the statistics name the exact values they were computed from) and the lines drawn
    beside it. Also whether any current value is missing from the statistics."""
    spc = (result.spc if result else None) or {}
    points = spc.get("points") or []
    used = (result.inputs or {}).get("observations", []) if result else []
    index_of = {obs_id: i for i, obs_id in enumerate(used)}
    groups = spc.get("groups") or []
    rows: list[DataRow] = []
    stale = False
    for point in history:
        observation = point.current
        if observation is None:  # every version withdrawn: only in the revisions
            continue
        row = DataRow(point=point, observation=observation, decimals=decimals)
        i = index_of.get(observation.pk)
        if result is not None and i is None and observation.value is not None:
            stale = True
        if i is not None and i < len(points):
            row.spc_index = i
            row.point_type = points[i].get("type") or ""
            row.rule = points[i].get("rule") or ""
            group = next((g for g in groups if g["start"] <= i < g["end"]), None)
            if group is not None:
                row.mean = group.get("mean")
                row.lower_limit = group.get("lower_limit")
                row.upper_limit = group.get("upper_limit")
                row.is_trial = bool(group.get("is_trial"))
        target = target_in_force(chart_targets, point.period.end)
        row.target = target.value if target else None
        row.england = england.get(point.period.pk)
        rows.append(row)
    # A value the statistics used that is no longer current (revised or withdrawn).
    current = {row.observation.pk for row in rows}
    stale = stale or any(obs_id not in current for obs_id in used)
    return rows, stale


def _flags(result: SeriesResult | None) -> list[Flag]:
    if result is None:
        return []
    method = result.get_method_display()
    flags: list[Flag] = []
    if result.method == SeriesResult.Method.SPC:
        flags.append(
            Flag(
                "Variation",
                POINT_TYPE_WORDS.get(result.variation, result.variation),
                TONES.get(result.variation, "neutral"),
                result.spc_reason,
                METHOD_SPC,
            )
        )
        assurance_reason = (result.spc or {}).get("assurance_reason")
        if result.assurance or assurance_reason:
            flags.append(
                Flag(
                    "Assurance",
                    ASSURANCE_WORDS.get(result.assurance, "No assurance"),
                    TONES.get(result.assurance, "neutral"),
                    assurance_reason or "",
                    METHOD_ASSURANCE,
                )
            )
    else:
        flags.append(
            Flag("Variation", "Not shown", "neutral", result.spc_reason, method)
        )
    if result.comparison:
        flags.append(
            Flag(
                "Compared with England",
                result.comparison,
                TONES.get(result.comparison, "neutral"),
                result.comparison_reason,
                METHOD_COMPARISON,
            )
        )
    if result.trend:
        reason = result.trend_reason
        if result.trend_chi_square is not None:
            reason += f" (chi-square {format_number(result.trend_chi_square, 2)})"
        tone = (
            "good"
            if result.trend.endswith("getting better")
            else "bad"
            if result.trend.endswith("getting worse")
            else "neutral"
        )
        flags.append(Flag("Recent trend", result.trend, tone, reason, METHOD_TREND))
    if result.rag:
        flags.append(
            Flag(
                "Against target",
                result.rag,
                TONES.get(result.rag, "neutral"),
                result.rag_reason,
                METHOD_RAG,
            )
        )
    elif result.target_id is None:
        flags.append(
            Flag(
                "Against target",
                "No target",
                "neutral",
                "No target applies to this series, so it has no red, amber or green.",
                METHOD_RAG,
            )
        )
    if result.direction:
        flags.append(
            Flag(
                "Direction of travel",
                result.direction,
                TONES.get(result.direction, "neutral"),
                result.direction_reason,
                METHOD_DIRECTION,
            )
        )
    status = "Overdue" if result.overdue else "On time"
    flags.append(
        Flag(
            "Timeliness",
            status,
            TONES[status],
            result.overdue_reason
            or "The latest value is as recent as can be expected.",
            METHOD_OVERDUE,
        )
    )
    return flags


def _chart(
    indicator: Indicator,
    rows: list[DataRow],
    result: SeriesResult | None,
    rebases: list[RebasePoint],
) -> ChartSeries | None:
    plotted = [row for row in rows if row.observation.value is not None]
    if not plotted:
        return None
    chart_rows = {id(row): i for i, row in enumerate(plotted)}
    # The SPC groups index the points the statistics used; map them onto the chart's.
    spc_groups = ((result.spc if result else None) or {}).get("groups") or []
    groups: list[ChartGroup] = []
    for group in spc_groups:
        members = [
            chart_rows[id(row)]
            for row in plotted
            if row.spc_index is not None
            and group["start"] <= row.spc_index < group["end"]
        ]
        if not members:
            continue
        groups.append(
            ChartGroup(
                start=min(members),
                end=max(members) + 1,
                mean=group.get("mean"),
                lower_limit=group.get("lower_limit"),
                upper_limit=group.get("upper_limit"),
                is_trial=bool(group.get("is_trial")),
            )
        )
    reasons = {r.period_id: r.reason for r in rebases}
    chart_rebases = [
        ChartRebase(
            index=g.start,
            reason=reasons.get(plotted[g.start].point.period.pk, "Limits restart here"),
        )
        for g in groups[1:]
    ]
    unit = "%" if indicator.measure_type == "percentage" else indicator.unit
    return ChartSeries(
        title=indicator.title,
        unit=unit or indicator.get_measure_type_display(),
        decimals=indicator.decimal_places,
        labels=[row.point.period.label for row in plotted],
        values=[row.observation.value for row in plotted],
        lower=[row.observation.lower_ci for row in plotted],
        upper=[row.observation.upper_ci for row in plotted],
        point_types=[row.point_type or None for row in plotted],
        point_words=[row.point_words for row in plotted],
        groups=groups,
        target=[row.target for row in plotted],
        england=[row.england for row in plotted],
        rebases=chart_rebases,
    )


def indicator_page(
    indicator: Indicator, *, area_code: str | None = None, breakdown: str | None = None
) -> IndicatorPage:
    options = series_options(indicator)
    chosen = choose_series(indicator, options, area_code, breakdown)
    result = _result_for(indicator, chosen)
    history: list[SeriesPoint] = []
    england: dict[int, float] = {}
    rebases: list[RebasePoint] = []
    if chosen is not None:
        history = [
            point
            for point in series_history(indicator, chosen.area)
            if point.breakdown == chosen.breakdown
        ]
        # Each version's return, reversed once per return rather than once per value.
        return_urls: dict[int, str] = {}
        for point in history:
            for version in point.versions:
                rid = version.source_return_id
                if rid not in return_urls:
                    return_urls[rid] = reverse("indicators:return_detail", args=[rid])
                version.return_url = return_urls[rid]
        if chosen.area.code != ENGLAND_CODE:
            england = dict(
                Observation.objects.filter(
                    indicator=indicator,
                    area__code=ENGLAND_CODE,
                    breakdown=chosen.breakdown,
                    is_current=True,
                    value__isnull=False,
                ).values_list("period_id", "value")
            )
        rebases = list(
            RebasePoint.objects.filter(indicator=indicator)
            .filter(Q(area__isnull=True) | Q(area=chosen.area))
            .select_related("period", "created_by")
            .order_by("period__start")
        )
    targets = list(
        Target.objects.filter(indicator=indicator).select_related(
            "area", "baseline_period"
        )
    )
    chart_targets = [
        t
        for t in targets
        if t.kind == Target.Kind.ABSOLUTE
        and t.value is not None
        and (t.area_id is None or (chosen and t.area_id == chosen.area.pk))
    ]
    rows, stale = _data_rows(
        history, result, chart_targets, england, indicator.decimal_places
    )

    exception_flags: list[ExceptionFlag] = []
    if chosen is not None:
        exception_flags = list(
            ExceptionFlag.objects.filter(
                indicator=indicator, area=chosen.area, breakdown=chosen.breakdown
            ).order_by(F("cleared_at").asc(nulls_first=True), "-raised_at")
        )

    system_slug = indicator.system.slug
    commentaries = [
        Commentary(
            commentary=c,
            text_html=mark_safe(sanitise_html(c.text)),  # noqa: S308 - sanitised by nh3
            exceptions_url=exception_report_url(system_slug, c.strategy.slug),
        )
        for c in ExceptionCommentary.objects.filter(indicator=indicator)
        .select_related("strategy", "author", "stocktake")
        .order_by("-dated", "position", "pk")
    ]
    actions = [
        LinkedAction(
            action=a,
            latest=a.reports_newest_first[0] if a.reports_newest_first else None,
            url=action_url(a.pk),
        )
        for a in Action.objects.filter(indicators=indicator)
        .select_related("plan", "strategy")
        .prefetch_related(
            Prefetch(
                "progress_reports",
                queryset=ProgressReport.objects.order_by("-date", "-position"),
                to_attr="reports_newest_first",
            )
        )
        .order_by("strategy__number", "plan__start", "position")
    ]
    assignments = list(
        IndicatorAssignment.objects.filter(indicator=indicator)
        .select_related("strategy")
        .order_by("strategy__number")
    )
    framework_items = list(
        indicator.framework_items.select_related("level", "strategy").order_by(
            "strategy__number", "level__position", "position"
        )
    )
    shows_synthetic = any(row.observation.is_synthetic for row in rows)
    return IndicatorPage(
        indicator=indicator,
        options=options,
        chosen=chosen,
        result=result,
        rows=rows,
        history=history,
        flags=_flags(result),
        exception_flags=exception_flags,
        targets=targets,
        placements=[
            Placement(
                assignment=a,
                url=strategy_overview_url(system_slug, a.strategy.slug),
                items=[i for i in framework_items if i.strategy_id == a.strategy_id],
            )
            for a in assignments
        ],
        commentaries=commentaries,
        actions=actions,
        rebases=rebases,
        chart=_chart(indicator, rows, result, rebases),
        stale=stale,
        shows_synthetic=shows_synthetic,
    )


def definition_history(indicator: Indicator) -> list:
    """Who changed the indicator's definition and its targets, when, before and after,
    newest first (django-simple-history; five queries however long the history)."""
    from actions.selectors import audit_trail

    target_ids = set(
        Target.history.filter(indicator_id=indicator.pk).values_list("id", flat=True)
    )
    history = audit_trail(
        Indicator, [indicator.pk], label=lambda r: "the indicator's definition"
    ) + audit_trail(Target, target_ids, label=lambda r: f"target {r.text or r.value}")
    history.sort(key=lambda entry: entry.at, reverse=True)
    return history
