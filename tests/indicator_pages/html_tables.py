"""Read a rendered table back as text, with the standard library's HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self, testid: str):
        super().__init__()
        self.testid = testid
        self.depth = 0  # >0 inside the wanted table
        self.rows: list[list[dict]] = []
        self.cell: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("data-testid") == self.testid:
            self.depth = 1
            return
        if not self.depth:
            return
        if tag == "table":
            self.depth += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.cell = {"text": "", "attrs": attrs, "tag": tag}
            self.rows[-1].append(self.cell)

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag in ("td", "th"):
            if self.cell is not None:
                self.cell["text"] = " ".join(self.cell["text"].split())
            self.cell = None

    def handle_data(self, data):
        if self.depth and self.cell is not None:
            self.cell["text"] += data


def table_rows(html: str, testid: str) -> list[list[dict]]:
    """The rows of <table data-testid=testid>, header row first; each cell a dict of
    its text, attributes and tag."""
    parser = _Tables(testid)
    parser.feed(html)
    return parser.rows


def body_rows(html: str, testid: str) -> list[list[dict]]:
    return table_rows(html, testid)[1:]
