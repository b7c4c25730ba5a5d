"""What the scorecard pages read: the system scorecard's cards, a strategy's performance
overview (filtered and sorted), and its exception report. Each in a fixed number of
queries however many strategies, indicators or flags there are.

The overview rows are built from the same parts as the API's
`commissioning.api.overview.overview_rows` (the headline series of each indicator, its
current results and open flags, or both worked out afresh "as at" a date: see
docs/adr/0002-as-at.md), so the pages and the API always show the same series and flags.
The pages group rows themselves, so they skip that function's per-indicator prefetch of
framework items, which cost more than everything else at a few hundred indicators."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Max
from django.http import Http404

from actions.models import Action
from commissioning.api.overview import (
    OverviewRow,
    _current_results,
    _results_as_at,
)
from commissioning.api.selectors import (
    COMMON_CAUSE,
    CONCERN,
    IMPROVEMENT,
    NEUTRAL,
    NO_DATA,
    NOT_ENOUGH_DATA,
    display_areas,
    status_of,
)
from indicators.models import Area, Indicator, IndicatorAssignment, Period
from scorecard.cache import cached
from scorecard.headings import heading_for_result
from scorecard.models import (
    ExceptionCommentary,
    ExceptionFlag,
    ExceptionRule,
    PublishedOverviewRow,
    SeriesResult,
)
from strategies.models import (
    CommissioningSystem,
    FrameworkItem,
    FrameworkLevel,
    Strategy,
)
from strategies.permissions import can_view_system, systems_visible_to

# The four variation groups the cards count (a special cause with no judgement and a
# series with too few points both count as "not enough data" to call it either way).
VARIATION_GROUPS = {
    IMPROVEMENT: IMPROVEMENT,
    CONCERN: CONCERN,
    COMMON_CAUSE: COMMON_CAUSE,
    NEUTRAL: "neutral",
    NOT_ENOUGH_DATA: "no_data",
    NO_DATA: "no_data",
}
VARIATION_LABELS = {
    IMPROVEMENT: "Improvement",
    CONCERN: "Concern",
    COMMON_CAUSE: "Common cause",
    "neutral": "Special cause, no judgement",
    "no_data": "Not enough data",
}
RAG_ORDER = ["Red", "Amber", "Green", ""]
RAG_LABELS = {"Red": "Red", "Amber": "Amber", "Green": "Green", "": "No target"}
ACTION_RAG_LABELS = {"red": "Red", "amber": "Amber", "green": "Green", "": "Not rated"}

SORTS = {
    "framework": "Framework order",
    "indicator": "Indicator (A to Z)",
    "status": "Variation status (concern first)",
    "rag": "RAG (red first)",
    "period": "Most recent period (latest first)",
    "exceptions": "Open exceptions (most first)",
}
STATUS_SORT = {CONCERN: 0, NEUTRAL: 1, COMMON_CAUSE: 2, IMPROVEMENT: 3}
RAG_SORT = {"Red": 0, "Amber": 1, "Green": 2}


# --- access -----------------------------------------------------------------------


def visible_systems(user) -> list[CommissioningSystem]:
    """The systems the user may see, in order (the system pages answer 404 for any other,
    never 403: another system's slugs reveal nothing)."""
    return list(systems_visible_to(user).order_by("position", "name"))


def visible_strategy(
    user, system_slug: str, strategy_slug: str, *, version: str | None = None
) -> Strategy:
    """The strategy, with its system, if the user may see the system; 404 otherwise (an
    unknown system, one the user has no role in and an unknown strategy all look alike).
    The strategy is found through the page cache (saving a strategy or a system bumps
    it; `version`: `scorecard.cache.page_version()` if read already); whether the user
    may see it is asked of the database on every request."""

    def find() -> Strategy:
        try:
            return Strategy.objects.select_related("system").get(
                system__slug=system_slug, slug=strategy_slug
            )
        except Strategy.DoesNotExist:
            raise Http404("No such strategy") from None

    strategy = cached(
        ("strategy-at", system_slug, strategy_slug), find, version=version
    )
    if not can_view_system(user, strategy.system):
        raise Http404("No such strategy")
    return strategy


# --- as-at date of the data -----------------------------------------------------------


@dataclass
class DataDate:
    computed_at: datetime | None
    latest_period: Period | None


def data_date(indicator_ids) -> DataDate:
    """When the flags on screen were computed, and the latest period they cover."""
    ids = list(indicator_ids)
    found = SeriesResult.objects.filter(indicator_id__in=ids).aggregate(
        computed_at=Max("computed_at"), latest_end=Max("latest_period__end")
    )
    period = None
    if found["latest_end"] is not None:
        period = (
            Period.objects.filter(end=found["latest_end"]).order_by("start").first()
        )
    return DataDate(found["computed_at"], period)


# --- system scorecard -------------------------------------------------------------------


@dataclass
class Tally:
    key: str
    label: str
    count: int


@dataclass
class StrategyCard:
    strategy: object
    indicator_count: int
    variation: list[Tally]
    rag: list[Tally]
    open_exceptions: int
    exception_indicators: int
    actions: list[Tally]
    action_count: int
    has_synthetic: bool


@dataclass
class SystemScorecard:
    system: CommissioningSystem
    cards: list[StrategyCard]
    data_date: DataDate
    has_synthetic: bool


def system_scorecard(system: CommissioningSystem) -> SystemScorecard:
    return cached(("system", system.pk), lambda: _system_scorecard(system))


def _system_scorecard(system: CommissioningSystem) -> SystemScorecard:
    """One card per strategy (or priority area). Seven queries in all."""
    strategies = list(system.strategies.order_by("number"))
    assignments = list(
        IndicatorAssignment.objects.filter(strategy__system=system).values_list(
            "strategy_id", "indicator_id"
        )
    )
    indicator_ids = {i for _, i in assignments}
    areas = display_areas(system, indicator_ids)
    results = {
        r.indicator_id: r
        for r in SeriesResult.objects.filter(
            indicator_id__in=list(areas), breakdown=""
        ).only(
            "indicator_id",
            "area_id",
            "method",
            "variation",
            "comparison",
            "trend",
            "direction",
            "rag",
            "latest_value",
            "has_synthetic",
        )
        if areas.get(r.indicator_id) == r.area_id
    }
    flags: Counter = Counter()
    for indicator_id, area_id in ExceptionFlag.objects.filter(
        indicator_id__in=list(areas), breakdown="", cleared_at__isnull=True
    ).values_list("indicator_id", "area_id"):
        if areas.get(indicator_id) == area_id:
            flags[indicator_id] += 1
    action_rags: dict[int, Counter] = defaultdict(Counter)
    for strategy_id, rag in Action.objects.filter(strategy__system=system).values_list(
        "strategy_id", "rag"
    ):
        action_rags[strategy_id][rag or ""] += 1

    by_strategy: dict[int, list[int]] = defaultdict(list)
    for strategy_id, indicator_id in assignments:
        by_strategy[strategy_id].append(indicator_id)
    cards = []
    for strategy in strategies:
        ids = by_strategy.get(strategy.pk, [])
        variation: Counter = Counter()
        rags: Counter = Counter()
        synthetic = False
        for indicator_id in ids:
            result = results.get(indicator_id)
            variation[VARIATION_GROUPS[status_of(result)]] += 1
            rags[(result.rag if result else "") or ""] += 1
            synthetic = synthetic or bool(result and result.has_synthetic)
        variation_keys = [IMPROVEMENT, CONCERN, COMMON_CAUSE, "no_data"]
        if variation["neutral"]:
            variation_keys.insert(3, "neutral")
        cards.append(
            StrategyCard(
                strategy=strategy,
                indicator_count=len(ids),
                variation=[
                    Tally(k, VARIATION_LABELS[k], variation[k]) for k in variation_keys
                ],
                rag=[Tally(k, RAG_LABELS[k], rags[k]) for k in RAG_ORDER],
                open_exceptions=sum(flags[i] for i in ids),
                exception_indicators=sum(1 for i in ids if flags[i]),
                actions=[
                    Tally(k, ACTION_RAG_LABELS[k], action_rags[strategy.pk][k])
                    for k in ("red", "amber", "green", "")
                ],
                action_count=sum(action_rags[strategy.pk].values()),
                has_synthetic=synthetic,
            )
        )
    return SystemScorecard(
        system=system,
        cards=cards,
        data_date=data_date(indicator_ids),
        has_synthetic=any(c.has_synthetic for c in cards),
    )


# --- strategy performance overview --------------------------------------------------------


@dataclass
class Row:
    """One line of the overview: the shared OverviewRow plus what the page adds."""

    base: OverviewRow
    status: str
    items: set[int]  # framework items (at any level) the indicator is linked to here
    published: PublishedOverviewRow | None = None
    group: FrameworkItem | None = None  # the first-level item (aim) it is shown under

    @property
    def indicator(self) -> Indicator:
        return self.base.indicator

    @property
    def result(self) -> SeriesResult | None:
        return self.base.result

    @property
    def rules(self):
        return self.base.rules

    @property
    def aim(self):
        return self.group


@dataclass
class Group:
    aim: FrameworkItem | None
    rows: list[Row]


@dataclass
class FilterOption:
    value: str
    label: str


@dataclass
class LevelFilter:
    level: FrameworkLevel
    param: str
    options: list[FilterOption]
    selected: str = ""


@dataclass
class OverviewFilters:
    """The filters of the overview, as chosen (validated: unknown values are ignored and
    reported, never passed to a query)."""

    levels: dict[str, str] = field(default_factory=dict)  # level slug -> item id
    status: str = ""
    rag: str = ""
    framework: str = ""
    exceptions_only: bool = False
    sort: str = "framework"
    problems: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(
            any(self.levels.values())
            or self.status
            or self.rag
            or self.framework
            or self.exceptions_only
        )


STATUS_FILTERS = {
    IMPROVEMENT: "Improvement",
    CONCERN: "Concern",
    COMMON_CAUSE: "Common cause",
    NEUTRAL: "Special cause, no judgement",
    "no_data": "Not enough data",
}
RAG_FILTERS = {"Red": "Red", "Amber": "Amber", "Green": "Green", "none": "No target"}


@dataclass
class StrategyOverview:
    strategy: object
    levels: list[FrameworkLevel]
    rows: list[Row]  # every row, before filtering
    as_at: date | None
    data_date: DataDate
    items: list[FrameworkItem] = field(default_factory=list)

    @property
    def has_synthetic(self) -> bool:
        return any(r.result is not None and r.result.has_synthetic for r in self.rows)


def strategy_overview(strategy, *, as_at: date | None = None) -> StrategyOverview:
    return cached(
        ("strategy", strategy.pk, as_at or ""),
        lambda: _strategy_overview(strategy, as_at),
    )


def _strategy_overview(strategy, as_at: date | None) -> StrategyOverview:
    """Eleven queries however many indicators."""
    base_rows = _overview_rows(strategy, as_at)
    levels = list(strategy.system.levels.order_by("position"))
    items = {
        item.pk: item
        for item in FrameworkItem.objects.filter(strategy=strategy)
        .select_related("level")
        .order_by("level__position", "position")
    }
    links: dict[int, set[int]] = defaultdict(set)
    through = Indicator.framework_items.through
    for indicator_id, item_id in through.objects.filter(
        frameworkitem__strategy=strategy
    ).values_list("indicator_id", "frameworkitem_id"):
        links[indicator_id].add(item_id)
    published = {
        p.indicator_id: p
        for p in PublishedOverviewRow.objects.filter(strategy=strategy)
        .select_related("stocktake")
        .order_by("stocktake__published", "position")
    }
    top_level = levels[0].pk if levels else None
    order = {pk: n for n, pk in enumerate(items)}
    rows = []
    for base in base_rows:
        linked = links.get(base.indicator.pk, set())
        tops = sorted(
            (pk for pk in linked if items[pk].level_id == top_level), key=order.get
        )
        rows.append(
            Row(
                base=base,
                status=status_of(base.result),
                items=linked,
                published=published.get(base.indicator.pk),
                group=items[tops[0]] if tops else None,
            )
        )
    # Under each aim in the framework's order, as the stocktake printed them; rows with
    # no aim last.
    rows.sort(
        key=lambda r: (
            r.group is None,
            order.get(r.group.pk, 0) if r.group else 0,
            r.published.position if r.published else 10_000,
            r.base.position,
        )
    )
    if as_at is None:
        when = data_date([r.indicator.pk for r in rows])
    else:
        latest = [
            r.result.latest_period
            for r in rows
            if r.result is not None and r.result.latest_period is not None
        ]
        when = DataDate(
            computed_at=None,
            latest_period=max(latest, key=lambda p: p.end) if latest else None,
        )
    return StrategyOverview(strategy, levels, rows, as_at, when, list(items.values()))


def _overview_rows(strategy, as_at: date | None) -> list[OverviewRow]:
    """Each indicator of the strategy with its headline series' result and fired rules
    (the API's rows, without their grouping). Five queries."""
    assignments = list(
        IndicatorAssignment.objects.filter(strategy=strategy)
        .select_related("indicator")
        .order_by("position", "indicator__title")
    )
    areas = display_areas(strategy.system, [a.indicator_id for a in assignments])
    if as_at is None:
        results, rules = _current_results(areas)
    else:
        results, rules = _results_as_at(strategy.system, areas, as_at)
    area_objects = Area.objects.in_bulk(set(areas.values()))
    rows = []
    for a in assignments:
        area_id = areas.get(a.indicator_id)
        result = results.get((a.indicator_id, area_id))
        if result is not None:
            # What the page never shows, dropped before the rows are cached.
            result.inputs = {}
            result.spc = {
                key: (result.spc or {}).get(key)
                for key in ("variation_icon", "assurance_reason")
            }
        rows.append(
            OverviewRow(
                position=a.position,
                aim=None,
                indicator=a.indicator,
                polarity=a.effective_polarity,
                area=area_objects.get(area_id),
                result=result,
                rules=rules.get((a.indicator_id, area_id), []),
            )
        )
    return rows


def level_filters(
    overview: StrategyOverview, chosen: dict[str, str]
) -> list[LevelFilter]:
    """A filter per framework level (aims, elements, milestones...)."""
    by_level: dict[int, list[FrameworkItem]] = defaultdict(list)
    for item in overview.items:
        by_level[item.level_id].append(item)
    filters = []
    for level in overview.levels:
        options = [
            FilterOption(str(i.pk), _item_label(level, i)) for i in by_level[level.pk]
        ]
        if options:
            filters.append(
                LevelFilter(level, level.slug, options, chosen.get(level.slug, ""))
            )
    return filters


def _item_label(level, item) -> str:
    text = item.title or item.text
    if len(text) > 90:
        text = text[:87].rstrip() + "..."
    return f"{item.number}. {text}" if item.number else text


def parse_filters(params, levels, strategy_item_ids: set[int]) -> OverviewFilters:
    """Read the GET parameters; anything unknown is dropped and reported."""
    filters = OverviewFilters()
    for level in levels:
        value = params.get(level.slug, "").strip()
        if not value:
            continue
        if value.isdigit() and int(value) in strategy_item_ids:
            filters.levels[level.slug] = value
        else:
            filters.problems.append(f"Unknown {level.name.lower()}: ignored.")
    status = params.get("status", "").strip()
    if status in STATUS_FILTERS:
        filters.status = status
    elif status:
        filters.problems.append("Unknown status: ignored.")
    rag = params.get("rag", "").strip()
    if rag in RAG_FILTERS:
        filters.rag = rag
    elif rag:
        filters.problems.append("Unknown RAG rating: ignored.")
    framework = params.get("framework", "").strip()
    if framework in Indicator.SourceFramework.values:
        filters.framework = framework
    elif framework:
        filters.problems.append("Unknown source framework: ignored.")
    filters.exceptions_only = params.get("exceptions") in ("1", "on", "true")
    sort = params.get("sort", "").strip() or "framework"
    if sort in SORTS:
        filters.sort = sort
    else:
        filters.problems.append("Unknown sort order: framework order used.")
    return filters


def _matches(row: Row, filters: OverviewFilters) -> bool:
    for item_id in filters.levels.values():
        if int(item_id) not in row.items:
            return False
    if filters.status:
        group = "no_data" if row.status in (NOT_ENOUGH_DATA, NO_DATA) else row.status
        if group != filters.status:
            return False
    if filters.rag:
        rag = (row.result.rag if row.result else "") or "none"
        if rag != filters.rag:
            return False
    if filters.framework and row.indicator.source_framework != filters.framework:
        return False
    return not (filters.exceptions_only and not row.rules)


def _sort_key(sort: str):
    if sort == "indicator":
        return lambda r: r.indicator.title.lower()
    if sort == "status":
        return lambda r: (STATUS_SORT.get(r.status, 9), r.indicator.title.lower())
    if sort == "rag":
        return lambda r: (
            RAG_SORT.get((r.result.rag if r.result else "") or "", 9),
            r.indicator.title.lower(),
        )
    if sort == "period":
        return lambda r: (
            -(
                r.result.latest_period.end.toordinal()
                if r.result is not None and r.result.latest_period is not None
                else 0
            ),
            r.indicator.title.lower(),
        )
    if sort == "exceptions":
        return lambda r: (-len(r.rules), r.indicator.title.lower())
    return None


def filtered_groups(
    overview: StrategyOverview, filters: OverviewFilters
) -> list[Group]:
    """The rows that pass the filters: grouped by aim in framework order, or one group
    when sorted some other way."""
    rows = [r for r in overview.rows if _matches(r, filters)]
    key = _sort_key(filters.sort)
    if key is not None:
        return [Group(None, sorted(rows, key=key))] if rows else []
    groups: list[Group] = []
    for row in rows:
        if groups and groups[-1].aim == row.aim:
            groups[-1].rows.append(row)
        else:
            groups.append(Group(row.aim, [row]))
    return groups


# --- exception report ---------------------------------------------------------------------


@dataclass
class ExceptionEntry:
    indicator: Indicator
    heading: str
    result: SeriesResult | None
    flags: list
    commentary: list[ExceptionCommentary]
    area: object

    @property
    def severity(self) -> str:
        order = ["high", "medium", "low"]
        found = [f.severity for f in self.flags]
        return next((s for s in order if s in found), "")


@dataclass
class ExceptionReport:
    strategy: object
    entries: list[ExceptionEntry]
    published: list[ExceptionCommentary]  # commentary not tied to an open exception
    data_date: DataDate

    @property
    def has_synthetic(self) -> bool:
        return any(
            e.result is not None and e.result.has_synthetic for e in self.entries
        )


def exception_report(strategy) -> ExceptionReport:
    return cached(("exceptions", strategy.pk), lambda: _exception_report(strategy))


def _exception_report(strategy) -> ExceptionReport:
    """Each indicator of the strategy with an open exception on its headline series,
    strongest first, with its reasons and commentary. Six queries."""
    indicator_ids = list(
        IndicatorAssignment.objects.filter(strategy=strategy).values_list(
            "indicator_id", flat=True
        )
    )
    areas = display_areas(strategy.system, indicator_ids)
    flags: dict[int, list[ExceptionFlag]] = defaultdict(list)
    for flag in (
        ExceptionFlag.objects.filter(
            indicator_id__in=list(areas), breakdown="", cleared_at__isnull=True
        )
        .select_related("indicator", "area")
        .order_by("indicator__title", "rule")
    ):
        if areas.get(flag.indicator_id) == flag.area_id:
            flags[flag.indicator_id].append(flag)
    results = {
        r.indicator_id: r
        for r in SeriesResult.objects.filter(
            indicator_id__in=list(flags), breakdown=""
        ).select_related("latest_period")
        if areas.get(r.indicator_id) == r.area_id
    }
    commentary: dict[int | None, list[ExceptionCommentary]] = defaultdict(list)
    for note in (
        # Only approved commentary is the report's; drafts live on the workflow pages.
        ExceptionCommentary.objects.filter(
            strategy=strategy, status=ExceptionCommentary.Status.APPROVED
        )
        .select_related("indicator", "stocktake", "author")
        .order_by("-dated", "position", "pk")
    ):
        commentary[note.indicator_id].append(note)

    severity_order = {"high": 0, "medium": 1, "low": 2}
    entries = []
    for indicator_id, found in flags.items():
        indicator = found[0].indicator
        result = results.get(indicator_id)
        entries.append(
            ExceptionEntry(
                indicator=indicator,
                heading=heading_for_result(
                    indicator.title, [f.rule for f in found], result
                ),
                result=result,
                flags=sorted(
                    found,
                    key=lambda f: (severity_order.get(f.severity, 9), f.rule),
                ),
                commentary=commentary.pop(indicator_id, []),
                area=found[0].area,
            )
        )
    entries.sort(
        key=lambda e: (severity_order.get(e.severity, 9), e.indicator.title.lower())
    )
    published = [note for notes in commentary.values() for note in notes]
    published.sort(key=lambda n: (n.dated, n.position, n.pk), reverse=False)
    return ExceptionReport(strategy, entries, published, data_date(indicator_ids))


RULE_LABELS = dict(ExceptionRule.Rule.choices)
