"""Renderers: problem details as JSON, and CSV safe from formula injection."""

from __future__ import annotations

import csv
import io

from rest_framework.renderers import BaseRenderer, JSONRenderer

from commissioning.api.problems import PROBLEM_MEDIA_TYPE

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ProblemJSONRenderer(JSONRenderer):
    media_type = PROBLEM_MEDIA_TYPE
    format = "problem+json"


def safe_cell(value) -> str:
    """A spreadsheet must never run a cell as a formula: text starting with = + - @ tab
    or CR gets a leading apostrophe. Numbers are written as numbers (a negative number
    is a value, not a formula)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class CSVRenderer(BaseRenderer):
    """Renders what a view's `csv_rows(data)` yields under its `csv_header`."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        view = renderer_context.get("view")
        response = renderer_context.get("response")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        if response is not None and response.status_code >= 400:
            # Errors are rendered as problem details by the view; never reached.
            writer.writerow(["detail"])
            writer.writerow([safe_cell(str(data))])
            return buffer.getvalue().encode()
        writer.writerow(view.csv_header)
        for row in view.csv_rows(data):
            writer.writerow([safe_cell(cell) for cell in row])
        if response is not None and hasattr(view, "csv_filename"):
            response["Content-Disposition"] = (
                f'attachment; filename="{view.csv_filename(data)}"'
            )
        return buffer.getvalue().encode()
