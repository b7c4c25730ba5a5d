"""Reading and checking the transcribed seed files before anything is written.

Every problem in every file is collected and reported at once; the loader writes nothing
unless the whole set is consistent (enumerations, references between files, period labels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from actions.models import Action, Rag
from indicators.models import Area, Indicator, PeriodType, Target
from indicators.periods import PeriodLabelError, parse_period
from scorecard.models import ExceptionRule
from strategies.models import PartnerOrganisation

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"

SYSTEM_FILES = (
    "system.yaml",
    "strategies.yaml",
    "indicators.yaml",
    "western-locality.yaml",
    "stocktake-2017-10.yaml",
    "action-plans-2017-19.yaml",
    "savings.yaml",
    "programme.yaml",
)
INDICATOR_ENUMS = {
    "source_framework": set(Indicator.SourceFramework.values),
    "measure_type": set(Indicator.MeasureType.values),
    "polarity": set(Indicator.Polarity.values),
    "period_type": set(PeriodType.values),
}


class SeedDataError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the seed data:\n" + "\n".join(problems)
        )


@dataclass
class SystemBundle:
    """Everything transcribed for one commissioning system, merged across its files."""

    slug: str
    folder: Path
    documents: dict[str, Any] = field(default_factory=dict)
    indicators: dict[str, dict] = field(default_factory=dict)

    def get(self, file_name: str) -> dict:
        return self.documents.get(file_name) or {}


@dataclass
class SeedSet:
    areas: list[dict]
    systems: list[SystemBundle]


def _load_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: not valid YAML: {exc}")
        return {}


def _merge_indicator(
    merged: dict[str, dict], entry: dict, where: str, problems: list[str]
):
    key = entry.get("key")
    if not key:
        problems.append(f"{where}: an indicator has no key")
        return
    if key not in merged:
        merged[key] = {**entry, "links": list(entry.get("links") or [])}
        return
    existing = merged[key]
    for name, value in entry.items():
        if name in {"key", "links"} or value in (None, "", []):
            continue
        if existing.get(name) in (None, "", []):
            existing[name] = value
        elif name == "aliases":
            existing[name] = list(dict.fromkeys([*existing[name], *value]))
        elif existing[name] != value:
            problems.append(
                f"{where}: indicator {key}: {name} {value!r} contradicts {existing[name]!r}"
            )
    existing["links"].extend(entry.get("links") or [])


def read_seed_set(root: Path = FIXTURES_DIR) -> SeedSet:
    problems: list[str] = []
    areas = _load_yaml(root / "areas.yaml", problems).get("areas", [])
    systems = []
    for folder in sorted(p for p in root.iterdir() if (p / "system.yaml").exists()):
        bundle = SystemBundle(slug=folder.name, folder=folder)
        for name in SYSTEM_FILES:
            if (folder / name).exists():
                bundle.documents[name] = _load_yaml(folder / name, problems)
        for name, document in bundle.documents.items():
            for entry in document.get("indicators") or []:
                _merge_indicator(
                    bundle.indicators, entry, f"{folder.name}/{name}", problems
                )
        systems.append(bundle)
    seed_set = SeedSet(areas=areas, systems=systems)
    problems.extend(check_seed_set(seed_set))
    if problems:
        raise SeedDataError(problems)
    return seed_set


def _check_enum(value, allowed, where: str, problems: list[str], required=True) -> None:
    if value in (None, "") and not required:
        return
    if value not in allowed:
        problems.append(f"{where}: {value!r} is not one of {sorted(allowed)}")


def _check_period(label, where: str, problems: list[str]) -> None:
    if label in (None, ""):
        return
    try:
        parse_period(str(label))
    except PeriodLabelError as exc:
        problems.append(f"{where}: {exc}")


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def check_seed_set(seed_set: SeedSet) -> list[str]:
    problems: list[str] = []
    area_codes = {a.get("code") for a in seed_set.areas}
    for area in seed_set.areas:
        _check_enum(
            area.get("kind"),
            set(Area.Kind.values),
            f"area {area.get('code')}",
            problems,
        )
        if area.get("parent") and area["parent"] not in area_codes:
            problems.append(
                f"area {area['code']}: parent {area['parent']} is not an area"
            )

    for bundle in seed_set.systems:
        where = bundle.slug
        system_doc = bundle.get("system.yaml")
        if system_doc.get("system", {}).get("slug") != bundle.slug:
            problems.append(f"{where}/system.yaml: system.slug must be {bundle.slug!r}")
        home_area = system_doc.get("system", {}).get("home_area")
        if home_area and home_area not in area_codes:
            problems.append(
                f"{where}/system.yaml: home_area {home_area} is not an area"
            )
        levels = {lvl.get("slug") for lvl in system_doc.get("levels") or []}
        for partner in system_doc.get("partners") or []:
            _check_enum(
                partner.get("kind"),
                set(PartnerOrganisation.Kind.values),
                f"{where}/system.yaml partner {partner.get('name')}",
                problems,
            )

        for rule in system_doc.get("exception_rules") or []:
            _check_enum(
                rule.get("rule"),
                set(ExceptionRule.Rule.values),
                f"{where}/system.yaml exception rule",
                problems,
            )
            _check_enum(
                rule.get("severity", "medium"),
                set(ExceptionRule.Severity.values),
                f"{where}/system.yaml exception rule severity",
                problems,
            )
        strategies = bundle.get("strategies.yaml").get("strategies") or []
        items_by_strategy: dict[str, dict[str, set]] = {}
        for strategy in strategies:
            slug = strategy.get("slug", "")
            if not _SLUG.match(slug):
                problems.append(f"{where}/strategies.yaml: bad strategy slug {slug!r}")
            items = strategy.get("items") or {}
            for level_slug in items:
                if level_slug not in levels:
                    problems.append(
                        f"{where}/strategies.yaml {slug}: level {level_slug!r} is not "
                        f"declared in system.yaml"
                    )
            items_by_strategy[slug] = {
                "aim": {i.get("number") for i in items.get("aim") or []},
                "element": {i.get("key") for i in items.get("element") or []},
            }
        for strategy in strategies:
            for link in strategy.get("links") or []:
                if link.get("to") not in items_by_strategy:
                    problems.append(
                        f"{where}/strategies.yaml {strategy.get('slug')}: link to unknown "
                        f"strategy {link.get('to')!r}"
                    )

        def check_strategy_ref(slug, place, where=where, known=items_by_strategy):
            if slug not in known:
                problems.append(f"{where}/{place}: unknown strategy {slug!r}")
                return False
            return True

        for key, indicator in bundle.indicators.items():
            place = f"{where} indicator {key}"
            if not _SLUG.match(key):
                problems.append(f"{place}: key is not a lower-case hyphenated slug")
            if not indicator.get("title"):
                problems.append(f"{place}: no title")
            for name, allowed in INDICATOR_ENUMS.items():
                _check_enum(indicator.get(name), allowed, f"{place} {name}", problems)
            for link in indicator.get("links") or []:
                if not check_strategy_ref(link.get("strategy"), f"indicator {key}"):
                    continue
                known = items_by_strategy[link["strategy"]]
                for number in link.get("aims") or []:
                    if number not in known["aim"]:
                        problems.append(
                            f"{place}: {link['strategy']} has no aim {number}"
                        )
                for element in link.get("elements") or []:
                    if element not in known["element"]:
                        problems.append(
                            f"{place}: {link['strategy']} has no element {element!r}"
                        )
                _check_enum(
                    link.get("polarity"),
                    INDICATOR_ENUMS["polarity"],
                    f"{place} link polarity",
                    problems,
                    required=False,
                )
            for target in indicator.get("targets") or []:
                _check_enum(
                    target.get("kind"),
                    set(Target.Kind.values),
                    f"{place} target",
                    problems,
                )
                for name in ("due", "from", "baseline_period"):
                    _check_period(target.get(name), f"{place} target {name}", problems)

        stocktake = bundle.get("stocktake-2017-10.yaml")
        for block in stocktake.get("overview") or []:
            slug = block.get("strategy")
            if not check_strategy_ref(slug, "stocktake overview"):
                continue
            for group in block.get("groups") or []:
                if (
                    group.get("aim") is not None
                    and group["aim"] not in items_by_strategy[slug]["aim"]
                ):
                    problems.append(
                        f"{where}/stocktake: {slug} has no aim {group['aim']}"
                    )
                for row in group.get("rows") or []:
                    place = (
                        f"{where}/stocktake {slug} row {row.get('indicator_text')!r}"
                    )
                    if row.get("indicator") not in bundle.indicators:
                        problems.append(
                            f"{place}: unknown indicator {row.get('indicator')!r}"
                        )
                    if row.get("area") not in area_codes:
                        problems.append(f"{place}: unknown area {row.get('area')!r}")
                    _check_period(row.get("most_recent_period"), place, problems)
        for exception in stocktake.get("exceptions") or []:
            check_strategy_ref(exception.get("strategy"), "stocktake exceptions")
            if (
                exception.get("indicator")
                and exception["indicator"] not in bundle.indicators
            ):
                problems.append(
                    f"{where}/stocktake exception {exception.get('heading')!r}: unknown "
                    f"indicator {exception['indicator']!r}"
                )

        plans = bundle.get("action-plans-2017-19.yaml")
        for action in plans.get("actions") or []:
            place = f"action {action.get('title')!r}"
            check_strategy_ref(action.get("strategy"), place)
            _check_enum(
                action.get("status"), set(Action.Status.values), place, problems, False
            )
            _check_enum(action.get("rag"), set(Rag.values), place, problems, False)
            for key in action.get("indicators") or []:
                if key not in bundle.indicators:
                    problems.append(f"{where}/{place}: unknown indicator {key!r}")
            for report in action.get("progress") or []:
                _check_enum(report.get("rag"), set(Rag.values), place, problems, False)
        for plan in bundle.get("savings.yaml").get("savings_plans") or []:
            _check_enum(
                plan.get("risk_rating"),
                set(Rag.values),
                f"savings {plan.get('service')}",
                problems,
                False,
            )
    return problems
