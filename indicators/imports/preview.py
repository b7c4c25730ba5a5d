"""Read, check and compare a return with the database, writing nothing: the preview.

The web page, the command line and the API all call `return_preview`; `return_commit`
(indicators.imports.commit) calls it too and then applies exactly what it shows.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from indicators import selectors
from indicators.imports import problems as P
from indicators.imports.diff import (
    NEW,
    REVISED,
    UNCHANGED,
    Comparison,
    compare,
    fingerprint,
)
from indicators.imports.parsing import (
    Options,
    ParseResult,
    Progress,
    parse_workbook,
    sample_indicator_tokens,
)
from indicators.imports.readers import ReadError, Workbook, read_workbook
from strategies.models import CommissioningSystem

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SAMPLE_ROWS = 500  # values listed per kind (all are counted)


def max_upload_bytes() -> int:
    return int(getattr(settings, "RETURNS_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


@dataclass
class Preview:
    file_name: str
    sha256: str
    size: int
    options: Options
    system: CommissioningSystem | None = None
    system_inferred: bool = False
    parse: ParseResult = field(default_factory=ParseResult)
    comparison: Comparison | None = None
    fingerprint: str = ""

    @property
    def problems(self) -> list[P.Problem]:
        return self.parse.problems

    @property
    def ok(self) -> bool:
        return not self.parse.problems and self.system is not None

    @property
    def new(self) -> int:
        return self.comparison.new if self.comparison else 0

    @property
    def revised(self) -> int:
        return self.comparison.revised if self.comparison else 0

    @property
    def unchanged(self) -> int:
        return self.comparison.unchanged if self.comparison else 0

    @property
    def skipped(self) -> int:
        return self.parse.skipped_count

    @property
    def changes_nothing(self) -> bool:
        return self.ok and self.new == 0 and self.revised == 0

    def sheet_label(self) -> str:
        return ", ".join(s.name for s in self.parse.sheets if s.name)

    def samples(self, limit: int = SAMPLE_ROWS) -> dict[str, list[dict]]:
        """The first values of each kind, as the page and the command list them."""
        out: dict[str, list[dict]] = {"new": [], "revised": [], "unchanged": []}
        if self.comparison is None or not len(self.comparison.frame):
            return out
        frame = self.comparison.frame
        sheet_names = [s.name for s in self.parse.sheets]
        status = frame["status"].to_numpy()
        for code, name in (
            (NEW, "new"),
            (REVISED, "revised"),
            (UNCHANGED, "unchanged"),
        ):
            for i in np.flatnonzero(status == code)[:limit]:
                row = frame.iloc[int(i)]
                indicator = self.parse.indicators[int(row["ind"])]
                out[name].append(
                    {
                        "sheet": _sheet_name(sheet_names, int(row["sheet"])),
                        "row": int(row["row"]),
                        "indicator": indicator.key,
                        "indicator_title": indicator.title,
                        "area": self.parse.area_labels.get(int(row["area"]), ""),
                        "period": self.parse.periods[int(row["period"])].label,
                        "breakdown": row["breakdown"],
                        "value": number_text(row["value"]),
                        "old_value": number_text(row["old_value"])
                        if code != NEW
                        else "",
                        "note": row["note"],
                    }
                )
        return out

    def summary(self) -> dict:
        """What the page shows besides the counts (JSON, kept on the upload job)."""
        parse = self.parse
        return {
            "system": self.system.name if self.system else "",
            "system_inferred": self.system_inferred,
            "format": parse.format,
            "encoding": parse.encoding,
            "delimiter": parse.delimiter,
            "number_style": parse.number_style,
            "percentage_convention": parse.percentage_convention,
            "sheets": [
                {
                    "name": s.name,
                    "format": s.format,
                    "header_row": s.header_row,
                    "ignored_columns": s.ignored_columns,
                }
                for s in parse.sheets
            ],
            "skipped_sheets": [
                {"name": name, "reason": reason}
                for name, reason in parse.skipped_sheets
            ],
            "skipped_reasons": dict(parse.skipped_reasons),
            "skipped": [
                {"sheet": s.sheet, "row": s.row, "reason": s.reason}
                for s in parse.skipped[:SAMPLE_ROWS]
            ],
            "new_areas": [
                {"code": a.code, "name": a.name, "kind": a.kind}
                for a in parse.new_areas
            ],
            "new_indicators": [
                {
                    "fingertips_id": i.fingertips_id,
                    "name": i.name,
                    "measure_type": i.measure_type,
                    "period_type": i.period_type or "",
                }
                for i in parse.new_indicators
            ],
            "samples": self.samples(),
        }

    def fingerprint_extra(self) -> list[str]:
        lines = [f"format:{self.parse.format}"]
        lines += [
            f"area:{a.id}:{a.code}:{a.name}:{a.kind}" for a in self.parse.new_areas
        ]
        lines += [
            f"indicator:{i.id}:{i.fingertips_id}:{i.name}:{i.measure_type}:{i.period_type}"
            for i in self.parse.new_indicators
        ]
        lines += [f"skipped:{self.parse.skipped_count}"]
        return lines


def _sheet_name(names: list[str], index: int) -> str:
    return names[index] if 0 <= index < len(names) else ""


def number_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    return P.display(float(value))


def read_and_choose_system(
    *, data: bytes, file_name: str, system: CommissioningSystem | None, options: Options
) -> tuple[Workbook | None, CommissioningSystem | None, bool, list[P.Problem]]:
    """The workbook and the system it is for (inferred from its indicators when not
    given); or the file-level problems that stop it being read."""
    try:
        book = read_workbook(
            data, file_name=file_name, sheet=options.sheet, max_bytes=max_upload_bytes()
        )
    except ReadError as exc:
        return None, system, False, [exc.problem]
    if system is not None:
        return book, system, False, []
    tokens, fingertips_ids = sample_indicator_tokens(book, options)
    slugs = selectors.systems_for_indicators(tokens, fingertips_ids)
    if len(slugs) != 1:
        all_slugs = list(CommissioningSystem.objects.values_list("slug", flat=True))
        if len(all_slugs) == 1:
            slugs = all_slugs
    if len(slugs) == 1:
        return book, CommissioningSystem.objects.get(slug=slugs[0]), True, []
    choices = ", ".join(CommissioningSystem.objects.values_list("slug", flat=True))
    reason = (
        f"its indicators are in {', '.join(slugs)}"
        if slugs
        else "none of its indicators is known"
    )
    return (
        book,
        None,
        False,
        [P.problem(P.SYSTEM_REQUIRED, value=reason, choices=choices)],
    )


def return_preview(
    *,
    data: bytes,
    file_name: str,
    system: CommissioningSystem | None,
    options: Options,
    progress: Progress | None = None,
    compare_values: bool = True,
) -> Preview:
    """Everything a commit of this file would do, and every problem in it. Reads only.

    `compare_values=False` stops after checking (the commit compares under its lock)."""
    preview = Preview(
        file_name=file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        options=options,
    )
    if progress:
        progress("Reading the file", 0, 1)
    book, chosen, inferred, problems = read_and_choose_system(
        data=data, file_name=file_name, system=system, options=options
    )
    preview.system, preview.system_inferred = chosen, inferred
    if problems or book is None or chosen is None:
        preview.parse = ParseResult(problems=problems)
        return preview
    reference = selectors.import_reference(chosen)
    preview.parse = parse_workbook(book, reference, options, progress)
    if preview.parse.problems or not compare_values:
        return preview
    if progress:
        progress("Comparing with the values already held", 0, 1)
    preview.comparison = compare_with_database(preview)
    preview.fingerprint = fingerprint(
        preview.comparison,
        preview.parse.periods,
        system_id=chosen.pk,
        extra=preview.fingerprint_extra(),
    )
    return preview


def compare_with_database(preview: Preview) -> Comparison:
    frame = preview.parse.frame
    ids = selectors.period_ids(preview.parse.periods)
    current = selectors.current_values(
        frame["ind"].unique() if len(frame) else [],
        ids[ids > 0],
    )
    return compare(frame, ids, current)
