"""One sparkline drawing for the scorecard pages and the board packs: an inline SVG
polyline, vector in the PDF, with a gap where a value is missing (a missing period is
not drawn as if it were there)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence


def _present(value) -> bool:
    return value is not None and math.isfinite(value)


def sparkline_svg(
    values: Sequence[float | None],
    *,
    width: int,
    height: int,
    pad: int = 2,
    css_class: str,
    stroke: str = "#005eb8",
    label: str | None = None,
) -> str:
    """The SVG markup of `values` (oldest first), or "" with fewer than two values.

    With a `label` the image says it (aria-label and title, escaped here); without one
    it is decorative (aria-hidden) and its figures must stand beside it in words."""
    present = [v for v in values if _present(v)]
    if len(present) < 2:
        return ""
    low, high = min(present), max(present)
    spread = (high - low) or 1.0
    step = (width - 2 * pad) / (len(values) - 1)
    runs: list[list[tuple[float, float]]] = [[]]
    for i, value in enumerate(values):
        if not _present(value):
            runs.append([])
            continue
        y = height - pad - (value - low) / spread * (height - 2 * pad)
        runs[-1].append((pad + i * step, y))
    lines = "".join(
        f'<polyline fill="none" stroke="{stroke}" stroke-width="1.5" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
        + '"/>'
        for run in runs
        if len(run) > 1
    )
    last = runs[-1][-1] if runs[-1] else None
    dot = (
        f'<circle cx="{last[0]:.1f}" cy="{last[1]:.1f}" r="2.5" fill="#005eb8"/>'
        if last
        else ""
    )
    if label is None:
        said, title = 'aria-hidden="true"', ""
    else:
        text = html.escape(label, quote=True)
        said, title = f'role="img" aria-label="{text}"', f"<title>{text}</title>"
    return (
        f'<svg class="{css_class}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {said} focusable="false">'
        f"{title}{lines}{dot}</svg>"
    )
