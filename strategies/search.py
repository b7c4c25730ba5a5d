"""Search across indicators, actions and commentary, in the systems the user may see.

Every word of the query must appear (case-insensitive) in one of a record's searched
fields: `icontains` on SQLite and PostgreSQL alike, so both give the same results (the
tests run on both) and codes such as "2.13i" or "RTT" match as typed, which stemming
full-text search would not promise. Three queries in all, each bounded by a limit; the
highlighting escapes the text first and only then marks the matches.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import reduce
from operator import and_, or_

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

from actions.models import Action
from indicators.models import Indicator
from indicators.page_selectors import action_plan_url, exception_report_url
from scorecard.models import ExceptionCommentary, ExceptionFlag
from strategies.permissions import systems_visible_to

MIN_QUERY_LENGTH = 3
MAX_QUERY_LENGTH = 100
MAX_TERMS = 6
RESULTS_PER_GROUP = 25
SNIPPET_CHARACTERS = 240

QUERY_TOO_SHORT = f"Enter at least {MIN_QUERY_LENGTH} characters to search."
QUERY_TOO_LONG = f"Enter no more than {MAX_QUERY_LENGTH} characters to search."


@dataclass(frozen=True)
class Hit:
    title: SafeString
    url: str
    context: str  # where it is: system, strategy, plan
    snippet: SafeString


@dataclass
class SearchGroup:
    key: str
    name: str
    hits: list[Hit] = field(default_factory=list)
    more: bool = False  # more matches than shown


@dataclass
class SearchResults:
    query: str
    error: str = ""
    groups: list[SearchGroup] = field(default_factory=list)

    @property
    def total_shown(self) -> int:
        return sum(len(g.hits) for g in self.groups)


def clean_query(raw: str | None) -> tuple[str, list[str], str]:
    """The query with its whitespace collapsed, its terms (distinct, at most MAX_TERMS)
    and the problem with it, if any ("" when it can be searched)."""
    query = " ".join((raw or "").split())
    if not query:
        return "", [], ""
    if len(query) > MAX_QUERY_LENGTH:
        return query[:MAX_QUERY_LENGTH], [], QUERY_TOO_LONG
    if len(query) < MIN_QUERY_LENGTH:
        return query, [], QUERY_TOO_SHORT
    terms: list[str] = []
    for term in query.split(" "):
        if term.lower() not in (t.lower() for t in terms):
            terms.append(term)
    return query, terms[:MAX_TERMS], ""


def _matching(fields: tuple[str, ...], terms: list[str]) -> Q:
    """Every term in at least one of the fields."""
    return reduce(
        and_,
        (
            reduce(or_, (Q(**{f"{name}__icontains": term}) for name in fields))
            for term in terms
        ),
    )


def _pattern(terms: list[str]) -> re.Pattern:
    longest_first = sorted(terms, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in longest_first), re.IGNORECASE)


def highlight(text: str, pattern: re.Pattern) -> SafeString:
    """The text escaped, with each match wrapped in <mark>: escaping comes first, on
    each piece, so no user text is ever emitted as markup."""
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece escaped above


def plain_text(rich: str) -> str:
    """Stored rich text (sanitised HTML) as plain words, for snippets."""
    return " ".join(html.unescape(strip_tags(rich or "")).split())


def snippet(text: str, pattern: re.Pattern) -> SafeString:
    """Up to SNIPPET_CHARACTERS of the text around its first match, highlighted."""
    text = " ".join(text.split())
    if not text:
        return mark_safe("")
    match = pattern.search(text)
    if len(text) <= SNIPPET_CHARACTERS:
        return highlight(text, pattern)
    start = max(0, (match.start() if match else 0) - SNIPPET_CHARACTERS // 3)
    if start:  # begin at a word, not inside one
        space = text.find(" ", start, match.start() if match else None)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + SNIPPET_CHARACTERS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    piece = text[start:end]
    prefix = "…" if start else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(f"{prefix}{highlight(piece, pattern)}{suffix}")  # noqa: S308


def _bounded(queryset: QuerySet) -> tuple[list, bool]:
    rows = list(queryset[: RESULTS_PER_GROUP + 1])
    return rows[:RESULTS_PER_GROUP], len(rows) > RESULTS_PER_GROUP


def search(user, raw_query: str | None) -> SearchResults:
    query, terms, error = clean_query(raw_query)
    results = SearchResults(query=query, error=error)
    if error or not terms:
        return results
    pattern = _pattern(terms)
    systems = systems_visible_to(user)

    indicators, more = _bounded(
        Indicator.objects.filter(system__in=systems)
        .filter(_matching(("title", "code", "definition"), terms))
        .select_related("system")
        .order_by("system__position", "title", "pk")
    )
    group = SearchGroup("indicators", "Indicators", more=more)
    for indicator in indicators:
        title = f"{indicator.code} {indicator.title}".strip()
        group.hits.append(
            Hit(
                title=highlight(title, pattern),
                url=reverse("indicator_detail", args=[indicator.pk]),
                context=f"{indicator.system.short_name}, "
                f"{indicator.get_source_framework_display()}",
                snippet=snippet(indicator.definition, pattern),
            )
        )
    results.groups.append(group)

    actions, more = _bounded(
        Action.objects.filter(strategy__system__in=systems)
        .filter(_matching(("title", "description"), terms))
        .select_related("plan", "strategy__system")
        .order_by("strategy__system__position", "strategy__number", "position", "pk")
    )
    group = SearchGroup("actions", "Actions", more=more)
    for action in actions:
        strategy = action.strategy
        group.hits.append(
            Hit(
                title=highlight(action.title, pattern),
                url=action_plan_url(strategy.system.slug, strategy.slug, action.pk),
                context=f"{strategy.system.short_name}, {strategy.name}, "
                f"{action.plan.name}",
                snippet=snippet(plain_text(action.description), pattern),
            )
        )
    results.groups.append(group)

    commentaries, more = _bounded(
        ExceptionCommentary.objects.filter(strategy__system__in=systems)
        .filter(_matching(("heading", "text"), terms))
        .select_related("strategy__system")
        .annotate(
            on_report=Exists(
                ExceptionFlag.objects.filter(
                    indicator=OuterRef("indicator"), cleared_at__isnull=True
                )
            )
        )
        .order_by("-dated", "strategy__number", "position", "pk")
    )
    group = SearchGroup("commentary", "Commentary", more=more)
    for commentary in commentaries:
        strategy = commentary.strategy
        group.hits.append(
            Hit(
                title=highlight(commentary.heading, pattern),
                # The report shows commentary under its open exception, or else
                # among the earlier commentary.
                url=exception_report_url(strategy.system.slug, strategy.slug)
                + (
                    f"#exception-{commentary.indicator_id}"
                    if commentary.on_report
                    else f"#commentary-{commentary.pk}"
                ),
                context=f"{strategy.system.short_name}, {strategy.name}, "
                f"{commentary.dated.day} {commentary.dated:%B %Y}",
                snippet=snippet(plain_text(commentary.text), pattern),
            )
        )
    results.groups.append(group)
    return results
