"""Load the transcribed seed data into the database, idempotently and atomically.

`load_seed_data()` reads and checks every file first (scorecard.seed.files), then writes in
one transaction: running it twice changes nothing, and a bad file writes nothing.
"""

from __future__ import annotations

import re
from datetime import date

from django.db import transaction

from actions.models import (
    Action,
    ActionPlan,
    Benefit,
    Programme,
    ProgressReport,
    Project,
    SavingsPlan,
)
from commissioning.html import sanitise_html
from indicators.models import (
    Area,
    Indicator,
    IndicatorAssignment,
    Observation,
    Period,
    Return,
    Target,
)
from indicators.periods import parse_period, parse_timeframe
from scorecard.models import (
    ExceptionCommentary,
    ExceptionRule,
    PublishedOverviewRow,
    RecomputeRun,
    Stocktake,
)
from scorecard.seed.files import FIXTURES_DIR, SeedSet, SystemBundle, read_seed_set
from scorecard.seed.sync import SyncStats, sync, sync_m2m
from scorecard.services.recompute import recompute
from strategies.models import (
    CommissioningSystem,
    FrameworkItem,
    FrameworkLevel,
    Fund,
    GovernanceGroup,
    PartnerOrganisation,
    Strategy,
    StrategyLink,
    SystemDesignGroup,
    SystemStatement,
)

SELECTED_ACTIONS_PLAN = "selected-actions-2015"
_NUMBER = re.compile(r"^-?[\d,]*\.?\d+$")


def parse_published_number(text) -> float | None:
    """A figure as a document prints it ("85.70%", "1,388.0", "N/A") as a number, or None."""
    if text is None:
        return None
    cleaned = str(text).strip().rstrip("%").replace("£", "").strip()
    if not _NUMBER.match(cleaned):
        return None
    return float(cleaned.replace(",", ""))


def period_for(label: str) -> Period:
    spec = parse_period(label)
    period, _ = Period.objects.get_or_create(
        kind=spec.kind, start=spec.start, end=spec.end, defaults={"label": spec.label}
    )
    return period


def _source(value) -> str:
    return "" if value is None else str(value)


def load_seed_data(*, root=FIXTURES_DIR, with_demo: bool = False) -> SyncStats:
    seed_set = read_seed_set(root)
    stats = SyncStats()
    with transaction.atomic():
        _load_areas(seed_set, stats)
        for position, bundle in enumerate(seed_set.systems):
            _load_system(bundle, position, stats)
        if with_demo:
            from scorecard.seed.demo import load_demo_history

            for bundle in seed_set.systems:
                load_demo_history(
                    CommissioningSystem.objects.get(slug=bundle.slug), stats
                )
    if stats.changes:
        # Seed values bypass returns (and so the outbox): compute their flags here.
        recompute(kind=RecomputeRun.Kind.FULL)
    return stats


def _load_areas(seed_set: SeedSet, stats: SyncStats) -> None:
    by_code = {}
    for entry in seed_set.areas:  # parents are listed before their children
        by_code[entry["code"]] = sync(
            Area,
            stats,
            {"code": entry["code"]},
            {
                "name": entry["name"],
                "kind": entry["kind"],
                "parent": by_code.get(entry.get("parent")),
            },
        )


def _load_system(bundle: SystemBundle, position: int, stats: SyncStats) -> None:
    doc = bundle.get("system.yaml")
    meta = doc["system"]
    system = sync(
        CommissioningSystem,
        stats,
        {"slug": bundle.slug},
        {
            "name": meta["name"],
            "short_name": meta.get("short_name") or meta["name"],
            "description": meta.get("description", ""),
            "strategy_label": meta.get("strategy_label", "Strategy"),
            "strategy_label_plural": meta.get("strategy_label_plural", "Strategies"),
            "position": position,
            "source": _source(meta.get("source")),
            "home_area": Area.objects.get(code=meta["home_area"])
            if meta.get("home_area")
            else None,
        },
    )
    levels = {}
    for i, level in enumerate(doc.get("levels") or []):
        levels[level["slug"]] = sync(
            FrameworkLevel,
            stats,
            {"system": system, "slug": level["slug"]},
            {"name": level["name"], "name_plural": level["name_plural"], "position": i},
        )
    for i, partner in enumerate(doc.get("partners") or []):
        sync(
            PartnerOrganisation,
            stats,
            {"system": system, "name": partner["name"]},
            {"kind": partner["kind"], "code": partner.get("code", ""), "position": i},
        )
    for i, fund in enumerate(doc.get("funds") or []):
        sync(
            Fund,
            stats,
            {"system": system, "name": fund["name"]},
            {
                "amount_gbp_m": fund.get("amount_gbp_m"),
                "year": _source(fund.get("year")),
                "scope": fund.get("scope", ""),
                "source": _source(fund.get("source")),
                "position": i,
            },
        )
    _load_statements(system, doc.get("statements") or [], stats)
    _load_statements(
        system, bundle.get("western-locality.yaml").get("statements") or [], stats
    )
    for i, group in enumerate(doc.get("governance_groups") or []):
        sync(
            GovernanceGroup,
            stats,
            {"system": system, "slug": group["slug"]},
            {
                "name": group["name"],
                "remit": group.get("remit", ""),
                "source": _source(group.get("source")),
                "position": i,
            },
        )
    for rule in doc.get("exception_rules") or []:
        sync(
            ExceptionRule,
            stats,
            {"system": system, "rule": rule["rule"]},
            {
                "severity": rule.get("severity", "medium"),
                "enabled": rule.get("enabled", True),
            },
        )
    strategies = _load_strategies(system, levels, bundle, stats)
    indicators = _load_indicators(system, strategies, bundle, stats)
    _load_stocktake(system, strategies, indicators, bundle, stats)
    _load_action_plans(system, strategies, indicators, bundle, stats)
    _load_savings(system, bundle, stats)
    _load_programmes(system, bundle, stats)


def _load_statements(system, sections: list[dict], stats: SyncStats) -> None:
    for section in sections:
        for i, item in enumerate(section.get("items") or []):
            sync(
                SystemStatement,
                stats,
                {"system": system, "section": section["section"], "position": i},
                {
                    "section_title": section.get("title", section["section"]),
                    "group": item.get("group", ""),
                    "number": item.get("number"),
                    "title": item.get("title", ""),
                    "text": item.get("text", ""),
                    "source": _source(section.get("source")),
                },
            )


def _item_key(level_slug: str, item: dict, position: int) -> str:
    if item.get("key"):
        return item["key"]
    if level_slug == "aim" and item.get("number") is not None:
        return str(item["number"])
    return str(position + 1)


def _load_strategies(system, levels, bundle: SystemBundle, stats: SyncStats) -> dict:
    entries = bundle.get("strategies.yaml").get("strategies") or []
    strategies = {}
    for entry in entries:
        strategy = sync(
            Strategy,
            stats,
            {"system": system, "slug": entry["slug"]},
            {
                "name": entry["name"],
                "number": entry["number"],
                "vision": entry.get("vision", ""),
                "scope": entry.get("scope", ""),
                "spend_gbp_m": entry.get("spend_gbp_m"),
                "spend_year": _source(entry.get("spend_year")),
                "horizon": _source(entry.get("horizon")),
                "source": _source(entry.get("source")),
            },
        )
        strategies[entry["slug"]] = strategy
        for level_slug, items in (entry.get("items") or {}).items():
            for i, item in enumerate(items or []):
                due_label = _source(item.get("due"))
                sync(
                    FrameworkItem,
                    stats,
                    {
                        "strategy": strategy,
                        "level": levels[level_slug],
                        "key": _item_key(level_slug, item, i),
                    },
                    {
                        "number": item.get("number"),
                        "title": item.get("title", ""),
                        "text": item.get("text", ""),
                        "due_label": due_label,
                        "due_date": parse_timeframe(due_label).due
                        if due_label
                        else None,
                        "position": i,
                    },
                )
        if entry.get("sdg"):
            sync(
                SystemDesignGroup,
                stats,
                {"strategy": strategy},
                {"name": entry["sdg"]["name"], "remit": entry["sdg"].get("remit", "")},
            )
    for entry in entries:
        for link in entry.get("links") or []:
            sync(
                StrategyLink,
                stats,
                {
                    "from_strategy": strategies[entry["slug"]],
                    "to_strategy": strategies[link["to"]],
                },
                {"items": list(link.get("items") or [])},
            )
    selected = [e for e in entries if e.get("selected_actions")]
    if selected:
        plan = sync(
            ActionPlan,
            stats,
            {"system": system, "slug": SELECTED_ACTIONS_PLAN},
            {"name": "Selected actions (2015 strategies)", "source": "000"},
        )
        for entry in selected:
            for i, title in enumerate(entry["selected_actions"]):
                sync(
                    Action,
                    stats,
                    {
                        "plan": plan,
                        "strategy": strategies[entry["slug"]],
                        "position": i,
                    },
                    {"title": title, "source": _source(entry.get("source"))},
                )
    return strategies


def _framework_items(strategy, link: dict) -> list[FrameworkItem]:
    keys = [str(n) for n in link.get("aims") or []] + list(link.get("elements") or [])
    if not keys:
        return []
    return list(
        FrameworkItem.objects.filter(
            strategy=strategy, key__in=keys, level__slug__in=["aim", "element"]
        )
    )


def _load_indicators(
    system, strategies, bundle: SystemBundle, stats: SyncStats
) -> dict:
    # Aims named by stocktake group headings link their rows' indicators to that aim.
    stocktake_links: dict[str, list[dict]] = {}
    for block in bundle.get("stocktake-2017-10.yaml").get("overview") or []:
        for group in block.get("groups") or []:
            for row in group.get("rows") or []:
                link = {"strategy": block["strategy"]}
                if group.get("aim") is not None:
                    link["aims"] = [group["aim"]]
                stocktake_links.setdefault(row["indicator"], []).append(link)

    indicators = {}
    for position, (key, entry) in enumerate(bundle.indicators.items()):
        indicator = sync(
            Indicator,
            stats,
            {"system": system, "key": key},
            {
                "title": entry["title"],
                "aliases": list(entry.get("aliases") or []),
                "code": _source(entry.get("code")),
                "source_framework": entry["source_framework"],
                "local_source": entry.get("local_source") or "",
                "measure_type": entry["measure_type"],
                "unit": entry.get("unit") or "",
                "multiplier": entry.get("multiplier") or 1,
                "decimal_places": entry.get("decimal_places", 1),
                "polarity": entry["polarity"],
                "period_type": entry["period_type"],
                "provider": entry.get("provider") or "",
                "definition": entry.get("definition") or "",
                "fingertips_id": entry.get("fingertips_id"),
                "data_owner": entry.get("data_owner") or "",
                "source": _source(entry.get("source")),
            },
        )
        indicators[key] = indicator
        items: list[FrameworkItem] = []
        for i, link in enumerate(
            [*(entry.get("links") or []), *stocktake_links.get(key, [])]
        ):
            strategy = strategies[link["strategy"]]
            assignment = IndicatorAssignment.objects.filter(
                indicator=indicator, strategy=strategy
            ).first()
            if assignment is None or link.get("polarity"):
                sync(
                    IndicatorAssignment,
                    stats,
                    {"indicator": indicator, "strategy": strategy},
                    {
                        "polarity": link.get("polarity") or "",
                        "position": position * 10 + i,
                    }
                    if assignment is None
                    else {"polarity": link["polarity"]},
                )
            items.extend(_framework_items(strategy, link))
        sync_m2m(indicator.framework_items, items, stats, "indicator links")
        for i, target in enumerate(entry.get("targets") or []):
            _sync_target(indicator, i, target, stats)
    return indicators


def _sync_target(
    indicator: Indicator, position: int, target: dict, stats: SyncStats
) -> None:
    due = parse_period(str(target["due"])) if target.get("due") else None
    start = parse_period(str(target["from"])) if target.get("from") else None
    baseline = (
        period_for(str(target["baseline_period"]))
        if target.get("baseline_period")
        else None
    )
    lookup = {
        "indicator": indicator,
        "kind": target["kind"],
        "text": target.get("text", ""),
        "due_label": _source(target.get("due")),
    }
    sync(
        Target,
        stats,
        lookup,
        {
            "value": target.get("value"),
            "baseline_value": target.get("baseline_value"),
            "baseline_period": baseline,
            "applies_from": start.start if start else None,
            "applies_to": due.end if due else None,
            "amber_tolerance": target.get("amber_tolerance"),
            "source": _source(target.get("source")),
        },
    )


def seed_return(system, *, title: str, source: str) -> Return:
    existing = Return.objects.filter(
        system=system, kind=Return.Kind.SEED, title=title
    ).first()
    if existing:
        return existing
    return Return.objects.create(
        system=system, kind=Return.Kind.SEED, title=title, source=source
    )


def record_seed_value(
    *, indicator, area, period, value: float, source_return: Return, stats: SyncStats
) -> None:
    """The current value becomes `value` from `source_return`; a different current value is
    kept as an earlier version (never overwritten)."""
    current = Observation.objects.filter(
        indicator=indicator, area=area, period=period, breakdown="", is_current=True
    ).first()
    if (
        current
        and current.value == value
        and current.source_return_id == source_return.pk
    ):
        return
    if current:
        current.is_current = False
        current.save(update_fields=["is_current"])
        stats.updated["observations"] += 1
    Observation.objects.create(
        indicator=indicator,
        area=area,
        period=period,
        value=value,
        source_return=source_return,
        is_synthetic=source_return.kind == Return.Kind.DEMO,
    )
    stats.created["observations"] += 1


def _load_stocktake(
    system, strategies, indicators, bundle: SystemBundle, stats
) -> None:
    doc = bundle.get("stocktake-2017-10.yaml")
    if not doc:
        return
    meta = doc["stocktake"]
    stocktake = sync(
        Stocktake,
        stats,
        {"system": system, "slug": meta["slug"]},
        {
            "title": meta["title"],
            "published": meta["published"],
            "source": _source(meta.get("source")),
        },
    )
    the_return = seed_return(
        system,
        title=f"Published values: {meta['title']}",
        source=_source(meta.get("source")),
    )
    areas = {a.code: a for a in Area.objects.all()}
    for block in doc.get("overview") or []:
        strategy = strategies[block["strategy"]]
        position = 0
        for group in block.get("groups") or []:
            aim = (
                FrameworkItem.objects.filter(
                    strategy=strategy, level__slug="aim", key=str(group["aim"])
                ).first()
                if group.get("aim") is not None
                else None
            )
            for row in group.get("rows") or []:
                position += 1
                indicator = indicators[row["indicator"]]
                period = (
                    period_for(str(row["most_recent_period"]))
                    if row.get("most_recent_period")
                    else None
                )
                scale = 100 if row.get("percentage_as_fraction") else 1
                first = parse_published_number(row.get("first_value"))
                last = parse_published_number(row.get("last_value"))
                sync(
                    PublishedOverviewRow,
                    stats,
                    {
                        "stocktake": stocktake,
                        "strategy": strategy,
                        "position": position,
                    },
                    {
                        "aim": aim,
                        "group_heading": group.get("heading", ""),
                        "indicator": indicator,
                        "area": areas[row["area"]],
                        "indicator_text": row.get("indicator_text", ""),
                        "measure_text": _source(row.get("measure")),
                        "most_recent_period_text": _source(
                            row.get("most_recent_period")
                        ),
                        "period": period,
                        "benchmark_england_text": _source(row.get("benchmark_england")),
                        "first_value_text": _source(row.get("first_value")),
                        "first_value": first * scale if first is not None else None,
                        "last_value_text": _source(row.get("last_value")),
                        "last_value": last * scale if last is not None else None,
                        "trend_text": _source(row.get("trend")),
                    },
                )
                if period is not None and last is not None:
                    record_seed_value(
                        indicator=indicator,
                        area=areas[row["area"]],
                        period=period,
                        value=last * scale,
                        source_return=the_return,
                        stats=stats,
                    )
    for i, exception in enumerate(doc.get("exceptions") or []):
        sync(
            ExceptionCommentary,
            stats,
            {
                "strategy": strategies[exception["strategy"]],
                "heading": exception["heading"],
                "dated": meta["published"],
            },
            {
                "indicator": indicators.get(exception.get("indicator")),
                "stocktake": stocktake,
                "text": sanitise_html(exception.get("text", "")),
                "status": ExceptionCommentary.Status.APPROVED,  # as published
                "author_name": exception.get("author", "")
                or f"{strategies[exception['strategy']].name} System Design Group",
                "position": i,
            },
        )


def _load_action_plans(
    system, strategies, indicators, bundle: SystemBundle, stats
) -> None:
    doc = bundle.get("action-plans-2017-19.yaml")
    if not doc:
        return
    meta = doc["plan"]
    plan = sync(
        ActionPlan,
        stats,
        {"system": system, "slug": meta["slug"]},
        {
            "name": meta["name"],
            "start": meta.get("start"),
            "end": meta.get("end"),
            "source": _source(meta.get("source")),
        },
    )
    positions: dict[str, int] = {}
    for entry in doc.get("actions") or []:
        strategy = strategies[entry["strategy"]]
        positions[entry["strategy"]] = positions.get(entry["strategy"], 0) + 1
        timeframe = parse_timeframe(_source(entry.get("timeframe")))
        action = sync(
            Action,
            stats,
            {
                "plan": plan,
                "strategy": strategy,
                "position": positions[entry["strategy"]],
            },
            {
                "title": entry["title"],
                "description": sanitise_html(entry.get("description", "")),
                "timeframe": _source(entry.get("timeframe")),
                "timeframe_start": timeframe.start,
                "due_date": timeframe.due,
                "status": entry.get("status") or "",
                "rag": entry.get("rag") or "",
                "source": _source(entry.get("source") or meta.get("source")),
            },
        )
        sync_m2m(
            action.indicators,
            [indicators[k] for k in entry.get("indicators") or []],
            stats,
            "action indicator links",
        )
        for i, report in enumerate(entry.get("progress") or []):
            report_date = (
                report.get("date") or meta.get("published") or date(2017, 10, 31)
            )
            sync(
                ProgressReport,
                stats,
                {"action": action, "date": report_date, "position": i},
                {
                    "text": sanitise_html(report.get("text", "")),
                    "rag": report.get("rag") or "",
                    "author_name": report.get("author")
                    or f"{strategy.name} System Design Group",
                },
            )


def _load_savings(system, bundle: SystemBundle, stats: SyncStats) -> None:
    for i, plan in enumerate(bundle.get("savings.yaml").get("savings_plans") or []):
        sync(
            SavingsPlan,
            stats,
            {"system": system, "service": plan["service"]},
            {
                "savings_gbp_m": {
                    str(k): v for k, v in (plan.get("savings_gbp_m") or {}).items()
                },
                "key_workstreams": plan.get("key_workstreams") or "",
                "overview": sanitise_html(plan.get("overview") or ""),
                "risk_rating": plan.get("risk_rating") or "",
                "risk_text": plan.get("risk_text") or "",
                "position": i,
                "source": _source(plan.get("source")),
            },
        )


def _extra(entry: dict, known: set[str]) -> dict:
    """Structured content the schema has no column for, kept rather than dropped."""
    return {k: v for k, v in entry.items() if k not in known}


def _load_programmes(system, bundle: SystemBundle, stats: SyncStats) -> None:
    import json

    def jsonable(value):
        return json.loads(json.dumps(value, default=str))

    for entry in bundle.get("programme.yaml").get("programmes") or []:
        programme = sync(
            Programme,
            stats,
            {"system": system, "slug": entry["slug"]},
            {
                "name": entry["name"],
                "summary": entry.get("summary") or "",
                "aims": jsonable(entry.get("aims") or []),
                "details": jsonable(
                    _extra(
                        entry, {"slug", "name", "summary", "aims", "source", "projects"}
                    )
                ),
                "source": _source(entry.get("source")),
            },
        )
        for p, project_entry in enumerate(entry.get("projects") or []):
            project = sync(
                Project,
                stats,
                {"programme": programme, "slug": project_entry["slug"]},
                {
                    "name": project_entry["name"],
                    "summary": project_entry.get("summary") or "",
                    "addressable_spend_gbp_m": project_entry.get(
                        "addressable_spend_gbp_m"
                    ),
                    "addressable_spend_text": _source(
                        project_entry.get("addressable_spend_text")
                    ),
                    "details": jsonable(
                        _extra(
                            project_entry,
                            {
                                "slug",
                                "name",
                                "summary",
                                "benefits",
                                "addressable_spend_gbp_m",
                                "addressable_spend_text",
                            },
                        )
                    ),
                    "position": p,
                },
            )
            for b, benefit in enumerate(project_entry.get("benefits") or []):
                sync(
                    Benefit,
                    stats,
                    {"project": project, "position": b},
                    {
                        "title": benefit["title"],
                        "measure": _source(benefit.get("measure")),
                        "baseline_value": benefit.get("baseline_value"),
                        "baseline_period": _source(benefit.get("baseline_period")),
                        "baseline_text": _source(benefit.get("baseline_text")),
                        "targets": jsonable(benefit.get("targets") or []),
                        "details": jsonable(
                            _extra(
                                benefit,
                                {
                                    "title",
                                    "measure",
                                    "baseline_value",
                                    "baseline_period",
                                    "baseline_text",
                                    "targets",
                                },
                            )
                        ),
                    },
                )
