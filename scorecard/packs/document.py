"""The board pack as plain data: what the formats render, whatever the source (a
published stocktake, or live data as at a date)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class OverviewRow:
    indicator: str
    code: str
    measure: str
    period: str
    england_value: str
    england_comparison: str
    first_value: str
    sparkline: list[float | None]
    last_value: str
    trend: str
    rag: str
    reasons: list[str] = field(default_factory=list)
    on_exception_report: bool = False
    synthetic: bool = False


@dataclass
class OverviewGroup:
    heading: str
    rows: list[OverviewRow]


@dataclass
class PackException:
    heading: str
    reasons: list[str]
    commentary_html: str  # sanitised on save (nh3)
    commentary_note: str  # e.g. "Approved by A. Lead on 3 Oct 2017"


@dataclass
class PackAction:
    title: str
    timeframe: str
    status: str
    rag: str
    progress_html: str  # sanitised on save (nh3)
    progress_note: str
    overdue: bool = False


@dataclass
class PackStrategy:
    name: str
    label: str  # "Strategy" or "Priority area"
    vision: str
    spend: str
    aims: list[str]
    overview: list[OverviewGroup]
    exceptions: list[PackException]
    actions: list[PackAction]


@dataclass
class ProvenanceRow:
    source: str  # a return's title, or "Seed data"
    loaded: str
    by: str
    values: int
    revised_since: int = 0


@dataclass
class Pack:
    system: str
    title: str
    subtitle: str
    as_at: date
    basis: str  # "Published stocktake ..." or "Live data as at ..."
    generated_at: datetime
    generated_by: str
    introduction: list[str]
    system_aims: list[str]
    strategies: list[PackStrategy]
    methods: list[tuple[str, str]]
    provenance: list[ProvenanceRow]
    has_synthetic: bool = False
