"""Hostile text (issue 9): every text a user enters is shown escaped, or sanitised when it
is rich text, on every page that shows it; query-string input is never reflected raw.

CASES has one entry per form field: who may write it, how (through the real page: a client
that enforces CSRF submits the form found on the page, as a browser would) and which pages
show it. Each text field is written with each payload, then every page is parsed: no script
of ours, no on* handler, no javascript: link; and the text is visible where it is shown
(escaped plain text, or the text of its sanitised HTML). A field the page refuses (a date,
a choice) must be refused with a message and not echoed raw. ADMIN_CASES does the same for
the text fields of the admin pages that system administrators and analysts (staff, not
superusers) may use. The guard tests fail when a project form, or such an admin, gains a
field that neither list covers nor exempts with a reason."""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode

import openpyxl
import pytest
from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import reverse

from actions import services as action_services
from actions.models import Action, Milestone, ProgressReport
from indicators.models import ImportJob, Indicator, Target
from scorecard.models import ExceptionCommentary, ReportingCycle
from scorecard.packs import formats
from scorecard.packs.models import BoardPack
from scorecard.services import commentary as commentary_services
from strategies.models import ApiToken
from strategies.permissions import SystemScopedAdminMixin
from tests.conftest import make_user
from tests.pages import conftest as page_fixtures
from tests.workflow import conftest as workflow_fixtures

# The SDG workflow's users, strategy, cycle and activity; pages start with an empty cache.
strategy = workflow_fixtures.strategy
group = workflow_fixtures.group
lead = workflow_fixtures.lead
lead2 = workflow_fixtures.lead2
member = workflow_fixtures.member
system_admin = workflow_fixtures.system_admin
cycle = workflow_fixtures.cycle
exception_indicator = workflow_fixtures.exception_indicator
action = workflow_fixtures.action
_fast_passwords = workflow_fixtures._fast_passwords
_empty_page_cache = page_fixtures._empty_page_cache

ROOT = Path(settings.BASE_DIR)
MARKER = "Zqxmark"  # starts every value written, so a page can be searched for it
EXAMPLES = ROOT / "fixtures" / "examples"

PLAIN, RICH, REFUSED = "plain", "rich", "refused"

# Payload per kind of field: rich text gets its link as a link.
PAYLOADS = {
    "script": {
        PLAIN: '<script>alert("x")</script>',
        RICH: '<script>alert("x")</script>',
    },
    "attribute": {
        PLAIN: '"><img src=x onerror=alert(1)>',
        RICH: '"><img src=x onerror=alert(1)>',
    },
    "link": {
        PLAIN: "javascript:alert(1)",
        RICH: '<a href="javascript:alert(1)" onclick="alert(1)">a link</a>',
    },
    "template": {
        PLAIN: "{{ 7*7 }}{% now 'Y' %}",
        RICH: "<p>{{ 7*7 }}{% now 'Y' %}</p>",
    },
}
# One string with all of them, for refused fields and the admin's many fields.
ALL_IN_ONE = {
    PLAIN: '<script>alert("x")</script>"><img src=x onerror=alert(1)> '
    "javascript:alert(1) {{ 7*7 }}",
    RICH: '<script>alert("x")</script>"><img src=x onerror=alert(1)>'
    '<a href="javascript:alert(1)">a link</a> {{ 7*7 }}',
}
# How pages say what is wrong: form errors, the admin's, a message after a redirect.
SAYS_WHY = (
    "nhsuk-error-message",
    "nhsuk-error-summary",
    "errorlist",
    "app-message--error",
)
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data")
RAW_NEVER = [
    '<script>alert("x")</script>',
    "<script>alert(1)</script>",
    "<img src=x onerror",
    'onclick="alert',
]


# --- Reading pages as a browser would ----------------------------------------------------


class Document(HTMLParser):
    """Elements with their attributes, visible text, scripts, and the forms with the values
    a browser would submit."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str]]]] = []
        self.texts: list[str] = []
        self.scripts: list[tuple[dict, str]] = []
        self.forms: list[dict] = []
        self._script: tuple[dict, list[str]] | None = None
        self._style = False
        self._form: dict | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = [(k.lower(), v or "") for k, v in attrs]
        values = dict(attrs)
        self.elements.append((tag, attrs))
        if tag == "script":
            self._script = (values, [])
        elif tag == "style":
            self._style = True
        elif tag == "form":
            self._form = {
                "action": values.get("action", ""),
                "method": values.get("method", "get").lower(),
                "fields": [],
                "names": set(),
                "buttons": [],
            }
            self.forms.append(self._form)
        elif self._form is not None:
            self._form_element(tag, values)

    def _form_element(self, tag, values):
        form, name = self._form, values.get("name")
        if tag == "input" and name:
            kind = values.get("type", "text").lower()
            form["names"].add(name)
            if kind in ("submit", "image", "button", "reset"):
                form["buttons"].append((name, values.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in values:
                    form["fields"].append((name, values.get("value", "on")))
            elif kind != "file":
                form["fields"].append((name, values.get("value", "")))
        elif tag == "button" and name:
            form["names"].add(name)
            form["buttons"].append((name, values.get("value", "")))
        elif tag == "select" and name:
            form["names"].add(name)
            self._select = {
                "name": name,
                "multiple": "multiple" in values,
                "options": [],
            }
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": values.get("value"),
                "selected": "selected" in values,
                "text": "",
            }
            self._select["options"].append(self._option)
        elif tag == "textarea" and name:
            form["names"].add(name)
            self._textarea = {"name": name, "text": []}

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None
        elif tag == "style":
            self._style = False
        elif tag == "form":
            self._form = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            options = self._select["options"]
            chosen = [o for o in options if o["selected"]]
            if not chosen and options and not self._select["multiple"]:
                chosen = options[:1]
            for option in chosen:
                value = option["value"]
                value = option["text"] if value is None else value
                self._form["fields"].append((self._select["name"], value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._textarea["text"])
            # A browser drops the newline that starts a textarea's content.
            text = text[1:] if text.startswith("\n") else text
            if self._form is not None:
                self._form["fields"].append((self._textarea["name"], text))
            self._textarea = None

    def handle_data(self, data):
        if self._script is not None:
            self._script[1].append(data)
            return
        if self._style:
            return
        if self._textarea is not None:
            self._textarea["text"].append(data)
        if self._option is not None:
            self._option["text"] += data
        self.texts.append(data)

    # What the page shows ---------------------------------------------------------------

    @property
    def text(self) -> str:
        return squash("".join(self.texts))

    def shows(self, expected: str) -> bool:
        wanted = squash(expected)
        if wanted in self.text:
            return True
        return any(
            wanted in squash(value)
            for _tag, attrs in self.elements
            for _n, value in attrs
        )

    def dangers(self) -> list[str]:
        found = []
        for tag, attrs in self.elements:
            for name, value in attrs:
                if name.startswith("on"):
                    found.append(f"<{tag} {name}={value!r}>")
                if name in URL_ATTRIBUTES and squash(value).lower().replace(
                    " ", ""
                ).startswith("javascript:"):
                    found.append(f"<{tag} {name}={value!r}>")
        for attrs, content in self.scripts:
            kind = attrs.get("type", "text/javascript").lower()
            executable = kind in ("", "module") or "javascript" in kind
            if executable and "alert(" in content:
                found.append(f"<script>{content[:80]}</script>")
        return found


def squash(text: str) -> str:
    return " ".join(text.split())


def text_of(rich_html: str) -> str:
    return Document(rich_html).text


def assert_safe(html: str, where: str) -> Document:
    for raw in RAW_NEVER:
        assert raw not in html, f"{where}: {raw!r} is in the page unescaped"
    document = Document(html)
    assert document.dangers() == [], f"{where}: active content from user text"
    return document


def test_the_checks_would_catch_active_content_and_find_escaped_text():
    """The checks are not vacuous: each kind of unescaped payload is caught, and text
    escaped in a page (or in a form field's value) is found."""
    for unsafe in (
        '<p>ok</p><script>alert("x")</script>',
        "<p><img src=x onerror=alert(1)></p>",
        '<a href=" JavaScript:alert(1)">x</a>',
        "<p><b onmouseover=alert(1)>x</b></p>",
    ):
        with pytest.raises(AssertionError):
            assert_safe(unsafe, "a made-up page")
    page = assert_safe(
        "<p>Zq &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>"
        '<input name="t" value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">'
        '<script type="application/json">{"t": "\\u003Cscript\\u003Ealert(1)"}</script>',
        "an escaped page",
    )
    assert page.shows('Zq <script>alert("x")</script>')
    assert page.shows('"><img src=x onerror=alert(1)>')
    assert not page.shows("something else")


# --- The world the cases write into ------------------------------------------------------


@dataclass
class Written:
    """What a write left: the text pages must show (the rendered text, and the stored
    source that a form shows back for editing) and the object written; or, for a refused
    write, the page that refused it (in `obj`)."""

    text: str = ""
    source: str = ""
    obj: object = None
    refused: bool = False


@dataclass
class World:
    plymouth: object
    strategy: object
    action: object
    cycle: object
    indicator: object
    users: dict
    capture: Callable
    clients: dict = field(default_factory=dict)

    def client(self, who: str) -> Client:
        if who not in self.clients:
            client = Client(enforce_csrf_checks=True)
            if who != "anonymous":
                client.force_login(self.users[who])
            self.clients[who] = client
        return self.clients[who]

    def get(self, who: str, url: str, status: int = 200) -> str:
        response = self.client(who).get(url)
        assert response.status_code == status, (url, response.status_code)
        return response.content.decode()

    def submit(
        self,
        who: str,
        page: str,
        values: dict,
        *,
        button: tuple[str, str] | None = None,
        action: str | None = None,
        status: int | tuple = 302,
    ):
        """Fill in the form on `page` that has every field in `values` (or posts to
        `action`), keep what the page put in the others, and post it with its CSRF token."""
        document = Document(self.get(who, page))
        candidates = [
            f
            for f in document.forms
            if f["method"] == "post"
            and (
                (action is not None and f["action"] == action)
                or (action is None and set(values) <= f["names"])
            )
        ]
        assert candidates, f"no form on {page} with {sorted(values)}"
        form = candidates[0]
        data: dict[str, list] = {}
        for name, value in form["fields"]:
            data.setdefault(name, []).append(value)
        for name, value in values.items():
            data[name] = value if isinstance(value, list) else [value]
        if button:
            data[button[0]] = [button[1]]
        assert "csrfmiddlewaretoken" in data, f"the form on {page} has no CSRF token"
        with self.capture(execute=True):
            response = self.client(who).post(form["action"] or page, data)
        statuses = status if isinstance(status, tuple) else (status,)
        assert response.status_code in statuses, (
            page,
            response.status_code,
            errors_in(response.content.decode()),
        )
        return response

    # Pages made by a further step ------------------------------------------------------

    def pack_html(self) -> str:
        """A live-data board pack generated by a viewer, as the stored HTML document."""
        self.submit("viewer", reverse("pack_list", args=["plymouth"]), {"as_at": ""})
        pack = BoardPack.objects.latest("pk")
        assert pack.status == BoardPack.Status.DONE, pack.error
        response = self.client("viewer").get(
            reverse("pack_file", args=[pack.pk, "html"])
        )
        return b"".join(response.streaming_content).decode()

    def published(self) -> str:
        """The stocktake the system administrator publishes from the open cycle."""
        response = self.submit(
            "system_admin",
            reverse("workflow:cycle_detail", args=[self.cycle.pk]),
            {"confirm": "on"},
        )
        return self.get("viewer", response["Location"])


def errors_in(html: str) -> str:
    document = Document(html)
    return document.text[:2000] if "error" in html.lower() else ""


@pytest.fixture
def world(
    plymouth,
    strategy,
    action,
    cycle,
    exception_indicator,
    lead,
    lead2,
    member,
    system_admin,
    viewer,
    analyst,
    django_capture_on_commit_callbacks,
    settings,
    tmp_path,
    monkeypatch,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Only the HTML pack is read here; typesetting its PDF would take seconds a case.
    monkeypatch.setattr(formats, "render_pdf", lambda html: b"%PDF-1.7 not typeset")
    for staff in (system_admin, analyst):
        staff.is_staff = True
        staff.save()
    superuser = make_user("root", is_superuser=True, is_staff=True)
    cache.clear()
    return World(
        plymouth=plymouth,
        strategy=strategy,
        action=action,
        cycle=cycle,
        indicator=exception_indicator,
        users={
            "lead": lead,
            "lead2": lead2,
            "member": member,
            "system_admin": system_admin,
            "viewer": viewer,
            "analyst": analyst,
            "superuser": superuser,
        },
        capture=django_capture_on_commit_callbacks,
    )


# --- Writes through the pages, one per form ----------------------------------------------


def _action_create(name: str):
    def write(w: World, value: str) -> Written:
        page = reverse("actions:action_create", args=["plymouth", w.strategy.slug])
        values = {"title": f"{MARKER} activity", name: value}
        before = Action.objects.count()
        response = w.submit("lead", page, values, status=(302, 200))
        if response.status_code == 200:
            assert Action.objects.count() == before
            return Written(refused=True, obj=response.content.decode())
        created = Action.objects.get(
            pk=int(response["Location"].strip("/").split("/")[-1])
        )
        stored = getattr(created, name)
        return Written(
            text=shown(stored, name == "description"), source=stored, obj=created
        )

    return write


def shown(stored: str, rich: bool) -> str:
    return text_of(stored) if rich else stored


def _progress(name: str):
    def write(w: World, value: str) -> Written:
        values = {
            "status": "on_track",
            "rag": "amber",
            "rag_reason": "Recruitment is behind plan",
            "percent_complete": "40",
            "text": f"<p>{MARKER} posts filled</p>",
            name: value,
        }
        page = reverse("actions:action_detail", args=[w.action.pk])
        response = w.submit("member", page, values, status=(302, 400))
        if response.status_code == 400:
            assert not ProgressReport.objects.filter(text__contains=MARKER).exists()
            return Written(refused=True, obj=response.content.decode())
        report = ProgressReport.objects.filter(action=w.action).latest("pk")
        stored = getattr(report, name)
        return Written(text=shown(stored, name == "text"), source=stored, obj=report)

    return write


def _milestone(name: str):
    def write(w: World, value: str) -> Written:
        values = {"title": f"{MARKER} milestone", "due_date": "2030-01-31", name: value}
        page = reverse("actions:action_detail", args=[w.action.pk])
        response = w.submit("lead", page, values, status=(302, 400))
        if response.status_code == 400:
            assert not Milestone.objects.filter(title__contains=MARKER).exists()
            return Written(refused=True, obj=response.content.decode())
        milestone = Milestone.objects.filter(action=w.action).latest("pk")
        return Written(text=milestone.title, source=milestone.title, obj=milestone)

    return write


def commentary_url(w: World) -> str:
    return reverse(
        "workflow:commentary", args=[w.cycle.pk, w.strategy.pk, w.indicator.pk]
    )


def _commentary(name: str):
    """A member saves a draft (the form shows it back), submits it (the page shows it),
    and a lead approves it (it reaches the exception report and the packs)."""

    def write(w: World, value: str) -> Written:
        values = {f: f"<p>{MARKER} {f}</p>" for f in commentary_services.TEXT_FIELDS}
        values["expected_recovery"] = "2030-03-31"
        values[name] = value
        url = commentary_url(w)
        response = w.submit(
            "member", url, values, button=("intent", "save"), status=(302, 400)
        )
        if response.status_code == 400:
            assert not ExceptionCommentary.objects.filter(cycle=w.cycle).exists()
            return Written(refused=True, obj=response.content.decode())
        note = ExceptionCommentary.objects.get(cycle=w.cycle, indicator=w.indicator)
        stored = getattr(note, name)
        draft = assert_safe(w.get("member", url), "the draft commentary form")
        assert draft.shows(stored), "the draft form does not show the saved text"
        w.submit("member", url, {}, button=("intent", "submit"), action="")
        w.submit("lead", url, {"note": ""}, button=("intent", "approve"))
        note.refresh_from_db()
        assert note.status == "approved"
        return Written(text=text_of(stored), source=stored, obj=note)

    return write


def _review(name: str):
    """A lead returns a member's submitted commentary with a note."""

    def write(w: World, value: str) -> Written:
        note = commentary_services.commentary_start(
            cycle=w.cycle,
            strategy=w.strategy,
            indicator=w.indicator,
            user=w.users["member"],
        )
        note = commentary_services.commentary_submit(
            commentary=note,
            user=w.users["member"],
            expected_version=note.version,
            values={"story": "<p>Story</p>", "actions_taken": "<p>Actions</p>"},
        )
        values = {"note": f"{MARKER} needs the March figures", name: value}
        w.submit("lead", commentary_url(w), values, button=("intent", "return"))
        note.refresh_from_db()
        if note.status != "returned":
            return Written(refused=True, obj=w.get("lead", commentary_url(w)))
        return Written(text=note.return_note, source=note.return_note, obj=note)

    return write


def _token(name: str):
    def write(w: World, value: str) -> Written:
        values = {"name": f"{MARKER} nightly load", name: value}
        response = w.submit("viewer", "/api/tokens/", values, status=200)
        created = ApiToken.objects.filter(user=w.users["viewer"]).first()
        if created is None:
            return Written(refused=True, obj=response.content.decode())
        page = assert_safe(response.content.decode(), "the page that made the token")
        assert page.shows(created.name)
        revoke = reverse("api:token-revoke", args=[created.pk])
        w.submit("viewer", "/api/tokens/", {}, action=revoke)
        return Written(text=created.name, source=created.name, obj=created)

    return write


def _csv() -> bytes:
    return (EXAMPLES / "clean-long.csv").read_bytes()


def _upload(name: str):
    def write(w: World, value: str) -> Written:
        values: dict = {"file": SimpleUploadedFile(f"{MARKER}.csv", _csv())}
        if name == "file":
            # A file's name has no "/": the nearest a user's file name can come.
            name_on_disk = value.replace("/", "\u2215")
            values["file"] = SimpleUploadedFile(f"{name_on_disk}.csv", _csv())
        elif name == "sheet":
            values["file"] = SimpleUploadedFile(f"{MARKER}.xlsx", _workbook())
            values["sheet"] = value
        else:
            values[name] = value
        response = w.submit(
            "analyst", "/returns/upload/", values, status=(302, 200, 403)
        )
        if response.status_code != 302:
            assert not ImportJob.objects.exists()
            return Written(refused=True, obj=response.content.decode())
        job = ImportJob.objects.get()
        if name == "sheet":
            assert job.status == "invalid"
            return Written(
                text=job.requested_sheet, source=job.requested_sheet, obj=job
            )
        assert job.status == "ready", job.error
        if name == "file":
            assert job.file_name == value.replace("/", "\u2215") + ".csv"
        w.submit("analyst", response["Location"], {"fingerprint": job.fingerprint})
        job.refresh_from_db()
        assert job.status == "committed"
        return Written(text=job.file_name, source=job.file_name, obj=job)

    return write


def _workbook() -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "Data"
    book.active.append(["Indicator", "Area", "Period", "Value"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _commit(name: str):
    """A forged fingerprint: the commit is refused and the page does not echo it."""

    def write(w: World, value: str) -> Written:
        values = {"file": SimpleUploadedFile(f"{MARKER}.csv", _csv())}
        response = w.submit("analyst", "/returns/upload/", values)
        job = ImportJob.objects.get()
        w.submit("analyst", response["Location"], {name: value})
        job.refresh_from_db()
        assert job.status != "committed"
        return Written(refused=True, obj=w.get("analyst", response["Location"]))

    return write


def _pack(name: str):
    def write(w: World, value: str) -> Written:
        page = reverse("pack_list", args=["plymouth"])
        response = w.submit("viewer", page, {name: value}, status=400)
        assert not BoardPack.objects.exists()
        return Written(refused=True, obj=response.content.decode())

    return write


def _login(name: str):
    def write(w: World, value: str) -> Written:
        values = {"username": value, "password": "not the password"}
        response = w.submit("anonymous", "/accounts/login/", values, status=200)
        return Written(refused=True, obj=response.content.decode())

    return write


# --- Pages that show each field ----------------------------------------------------------

# (who, url or a World method that returns the page, must it show the text? "text" for
# the rendered text, "source" for a form that shows the stored value for editing)
Page = tuple[str, str | Callable[[World], str], str | None]


def _admin(model, obj=None, *, query=True) -> str:
    meta = model._meta
    if obj is not None:
        return reverse(
            f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]
        )
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    return f"{url}?q={MARKER}" if query else url


def search() -> str:
    return f"/search/?q={MARKER}"


def action_pages(name: str) -> Callable[[World, Written], list[Page]]:
    def pages(w: World, done: Written) -> list[Page]:
        created = done.obj
        listed = "text" if name in ("title", "timeframe") else None
        return [
            ("lead", reverse("actions:action_detail", args=[created.pk]), "text"),
            (
                "viewer",
                reverse("actions:action_plan", args=["plymouth", w.strategy.slug]),
                listed,
            ),
            ("lead", reverse("actions:action_edit", args=[created.pk]), "source"),
            ("viewer", search(), "text" if name in ("title", "description") else None),
            (
                "lead",
                reverse("workflow:my_updates"),
                "text" if name == "title" else None,
            ),
            ("viewer", World.pack_html, listed),
            ("superuser", _admin(Action), listed),
            ("superuser", _admin(Action, created), "source"),
        ]

    return pages


def progress_pages(name: str):
    def pages(w: World, done: Written) -> list[Page]:
        narrative = "text" if name == "text" else None
        return [
            ("member", reverse("actions:action_detail", args=[w.action.pk]), "text"),
            (
                "viewer",
                reverse("actions:action_plan", args=["plymouth", w.strategy.slug]),
                narrative,
            ),
            ("viewer", World.pack_html, narrative),
            ("viewer", World.published, narrative),
            ("superuser", _admin(ProgressReport), None),
            ("superuser", _admin(ProgressReport, done.obj), "source"),
        ]

    return pages


def milestone_pages(w: World, done: Written) -> list[Page]:
    return [
        ("lead", reverse("actions:action_detail", args=[w.action.pk]), "text"),
        (
            "viewer",
            reverse("actions:action_plan", args=["plymouth", w.strategy.slug]),
            "text",
        ),
        ("superuser", _admin(Milestone), "text"),
    ]


def commentary_pages(w: World, done: Written) -> list[Page]:
    return [
        ("member", commentary_url(w), "text"),
        ("viewer", commentary_url(w), "text"),
        (
            "viewer",
            reverse("exception_report", args=["plymouth", w.strategy.slug]),
            "text",
        ),
        ("viewer", reverse("workflow:cycle_detail", args=[w.cycle.pk]), None),
        ("lead", reverse("workflow:my_updates"), None),
        ("viewer", World.pack_html, "text"),
        ("viewer", World.published, "text"),
        ("superuser", _admin(ExceptionCommentary), None),
        ("superuser", _admin(ExceptionCommentary, done.obj), "source"),
    ]


def review_pages(w: World, done: Written) -> list[Page]:
    return [
        ("member", commentary_url(w), "text"),
        ("lead", commentary_url(w), "text"),
        ("member", reverse("workflow:my_updates"), None),
        ("superuser", _admin(ExceptionCommentary, done.obj), "source"),
    ]


def token_pages(w: World, done: Written) -> list[Page]:
    return [
        ("viewer", "/api/tokens/", "text"),
        ("superuser", _admin(ApiToken), "text"),
    ]


def upload_pages(w: World, done: Written) -> list[Page]:
    job = done.obj
    pages = [
        ("analyst", reverse("indicators:job_detail", args=[job.pk]), "text"),
        ("analyst", reverse("indicators:return_list"), None),
        ("superuser", _admin(ImportJob, job), "source"),
    ]
    if job.committed_return_id:
        pages += [
            ("analyst", reverse("indicators:return_list"), "text"),
            (
                "viewer",
                reverse("indicators:return_detail", args=[job.committed_return_id]),
                "text",
            ),
            ("superuser", _admin(ImportJob), "text"),
        ]
    return pages


# --- The cases: one per form field -------------------------------------------------------


@dataclass(frozen=True)
class Case:
    form: str  # dotted path of the form class
    field: str
    kind: str  # PLAIN, RICH (sanitised HTML) or REFUSED (not text: must be refused)
    write: Callable[[World, str], Written]
    pages: Callable[[World, Written], list[Page]] | None = None

    @property
    def id(self) -> str:
        return f"{self.form.rsplit('.', 1)[-1]}.{self.field}"


ACTION_FORM = "actions.forms.ActionForm"
PROGRESS_FORM = "actions.forms.ProgressForm"
COMMENTARY_FORM = "scorecard.forms.CommentaryForm"

CASES = [
    Case(ACTION_FORM, "title", PLAIN, _action_create("title"), action_pages("title")),
    Case(
        ACTION_FORM,
        "description",
        RICH,
        _action_create("description"),
        action_pages("description"),
    ),
    Case(
        ACTION_FORM,
        "timeframe",
        PLAIN,
        _action_create("timeframe"),
        action_pages("timeframe"),
    ),
    *(
        Case(ACTION_FORM, name, REFUSED, _action_create(name))
        for name in (
            "timeframe_start",
            "due_date",
            "status",
            "rag",
            "indicators",
            "version",
        )
    ),
    Case(
        PROGRESS_FORM,
        "rag_reason",
        PLAIN,
        _progress("rag_reason"),
        progress_pages("rag_reason"),
    ),
    Case(PROGRESS_FORM, "text", RICH, _progress("text"), progress_pages("text")),
    *(
        Case(PROGRESS_FORM, name, REFUSED, _progress(name))
        for name in ("status", "rag", "percent_complete")
    ),
    Case(
        "actions.forms.MilestoneForm",
        "title",
        PLAIN,
        _milestone("title"),
        milestone_pages,
    ),
    Case("actions.forms.MilestoneForm", "due_date", REFUSED, _milestone("due_date")),
    *(
        Case(COMMENTARY_FORM, name, RICH, _commentary(name), commentary_pages)
        for name in commentary_services.TEXT_FIELDS
    ),
    *(
        Case(COMMENTARY_FORM, name, REFUSED, _commentary(name))
        for name in ("expected_recovery", "version")
    ),
    Case("scorecard.forms.ReviewForm", "note", PLAIN, _review("note"), review_pages),
    Case("scorecard.forms.ReviewForm", "version", REFUSED, _review("version")),
    Case(
        "commissioning.api.tokens.TokenForm", "name", PLAIN, _token("name"), token_pages
    ),
    Case("commissioning.api.tokens.TokenForm", "scope", REFUSED, _token("scope")),
    Case("indicators.forms.UploadForm", "file", PLAIN, _upload("file"), upload_pages),
    Case("indicators.forms.UploadForm", "sheet", PLAIN, _upload("sheet"), upload_pages),
    *(
        Case("indicators.forms.UploadForm", name, REFUSED, _upload(name))
        for name in ("system", "file_format")
    ),
    Case("indicators.forms.CommitForm", "fingerprint", REFUSED, _commit("fingerprint")),
    *(
        Case("scorecard.packs.forms.PackRequestForm", name, REFUSED, _pack(name))
        for name in ("stocktake", "as_at")
    ),
    # Django's login form (not the project's, so outside the guard): it is refused and
    # the page does not echo the username.
    Case(
        "django.contrib.auth.forms.AuthenticationForm",
        "username",
        REFUSED,
        _login("username"),
    ),
]

# Form fields that take no text from the user, with the reason.
EXEMPT = {
    (
        "scorecard.forms.PublishForm",
        "confirm",
    ): "a checkbox: any value means yes; never shown",
    ("indicators.forms.UploadForm", "create_missing_indicators"): (
        "a checkbox: any value means yes; never shown"
    ),
}

TEXT_CASES = [c for c in CASES if c.kind != REFUSED]


def check_pages(w: World, case_id: str, done: Written, pages: list[Page]) -> None:
    for who, where, show in pages:
        html = where(w) if callable(where) else w.get(who, where)
        label = f"{case_id}: {getattr(where, '__name__', where)} as {who}"
        document = assert_safe(html, label)
        if show == "text":
            assert document.shows(done.text), f"{label}: the text is not shown"
        elif show == "source":
            assert document.shows(done.source), f"{label}: the stored text is not shown"


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("case", TEXT_CASES, ids=lambda c: c.id)
def test_text_fields_are_shown_escaped_or_sanitised(world, case, payload):
    value = f"{MARKER} {PAYLOADS[payload][case.kind]}"

    done = case.write(world, value)

    assert not done.refused, f"{case.id}: a text field refused {value!r}"
    assert MARKER in done.source, "the write did not store the text"
    if case.kind == PLAIN and case.field != "file":
        assert done.source == value, "plain text is stored as typed"
    if case.kind == RICH:
        assert Document(done.source).dangers() == [], (
            "stored rich text is not sanitised"
        )
        assert "<script" not in done.source
    check_pages(world, case.id, done, case.pages(world, done))


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.kind == REFUSED], ids=lambda c: c.id
)
def test_fields_that_are_not_text_refuse_hostile_input_without_echoing_it(world, case):
    """A date, a choice, a hidden version: the page says what is wrong (or, for a forged
    fingerprint or system, refuses outright) and shows no payload raw."""
    value = f"{MARKER} {ALL_IN_ONE[PLAIN]}"

    done = case.write(world, value)

    assert done.refused, f"{case.id} accepted {value!r}"
    assert_safe(done.obj, case.id)
    if case.field not in ("system", "fingerprint"):  # forged: refused outright
        assert any(mark in done.obj for mark in SAYS_WHY), f"{case.id}: no message"
    assert value not in done.obj


# --- The admin pages staff who are not superusers may use --------------------------------


@dataclass(frozen=True)
class AdminCase:
    model: type[models.Model]
    field: str
    who: str
    target: Callable[[World], models.Model]
    pages: Callable[[World, models.Model], list[Page]]
    rich: bool = False
    inline: str = ""  # "prefix" of an inline formset on the parent's page

    @property
    def id(self) -> str:
        inline = "-inline" if self.inline else ""
        return f"admin.{self.model.__name__}.{self.field}{inline}"


def _seed_commentary(w: World) -> ExceptionCommentary:
    """A commentary transcribed from a published stocktake, shown on the report."""
    found = (
        ExceptionCommentary.objects.filter(strategy=w.strategy, cycle__isnull=True)
        .exclude(text="")
        .order_by("-dated")
        .first()
    )
    assert found is not None, "the seed data should have transcribed commentary"
    return found


def _report(w: World) -> ProgressReport:
    return action_services.progress_report_create(
        action=w.action,
        author=w.users["member"],
        status="on_track",
        rag="green",
        rag_reason="On plan",
        percent_complete=10,
        text="<p>Started</p>",
    )


def _milestone_obj(w: World) -> Milestone:
    return action_services.milestone_create(
        action=w.action,
        user=w.users["lead"],
        title="Go live",
        due_date=dt.date(2030, 1, 1),
    )


def _target(w: World) -> Target:
    found = Target.objects.filter(indicator__system=w.plymouth).first()
    assert found is not None
    return found


def _cycle_obj(w: World) -> ReportingCycle:
    return w.cycle


def plan_and_detail(show):
    def pages(w: World, obj) -> list[Page]:
        return [
            ("lead", reverse("actions:action_detail", args=[w.action.pk]), show),
            (
                "viewer",
                reverse("actions:action_plan", args=["plymouth", w.strategy.slug]),
                show,
            ),
            ("viewer", World.pack_html, None),
        ]

    return pages


def indicator_pages(show_title):
    def pages(w: World, obj) -> list[Page]:
        return [
            # The page lists the whole definition: every one of these fields.
            ("viewer", reverse("indicator_detail", args=[obj.pk]), "text"),
            (
                "viewer",
                reverse("strategy_overview", args=["plymouth", w.strategy.slug]),
                show_title,
            ),
            (
                "viewer",
                reverse("exception_report", args=["plymouth", w.strategy.slug]),
                show_title,
            ),
            ("viewer", reverse("system_scorecard", args=["plymouth"]), None),
            ("viewer", search(), None),
            ("viewer", World.pack_html, show_title),
        ]

    return pages


def target_pages(show):
    def pages(w: World, obj) -> list[Page]:
        return [("viewer", reverse("indicator_detail", args=[obj.indicator_id]), show)]

    return pages


def commentary_admin_pages(w: World, obj) -> list[Page]:
    return [
        (
            "viewer",
            reverse("exception_report", args=["plymouth", w.strategy.slug]),
            None,
        ),
        ("viewer", search(), None),
        ("viewer", World.pack_html, None),
    ]


def cycle_pages(w: World, obj) -> list[Page]:
    return [
        ("lead", reverse("workflow:cycle_list"), "text"),
        ("lead", reverse("workflow:cycle_detail", args=[obj.pk]), "text"),
        ("lead", reverse("workflow:my_updates"), None),
        ("member", commentary_url(w), "text"),
        ("lead", reverse("actions:action_detail", args=[w.action.pk]), None),
    ]


def _indicator(w: World) -> Indicator:
    return w.indicator


def _action_obj(w: World) -> Action:
    return w.action


def _action_with_report(w: World) -> Action:
    _report(w)
    return w.action


ADMIN_CASES = [
    *(
        AdminCase(
            Indicator,
            name,
            "analyst",
            _indicator,
            indicator_pages("text" if name == "title" else None),
        )
        for name in (
            "key",
            "title",
            "code",
            "local_source",
            "unit",
            "provider",
            "definition",
            "data_owner",
            "source",
        )
    ),
    *(
        AdminCase(
            Target,
            name,
            "analyst",
            _target,
            target_pages("text" if name == "text" else None),
        )
        for name in ("due_label", "text", "source")
    ),
    *(
        AdminCase(
            Action,
            name,
            "system_admin",
            _action_obj,
            plan_and_detail("text" if name == "title" else None),
            rich=name == "description",
        )
        for name in ("title", "description", "timeframe", "source")
    ),
    *(
        AdminCase(
            ProgressReport,
            name,
            "system_admin",
            _report,
            plan_and_detail(None),
            rich=name == "text",
        )
        for name in ("author_name", "text", "rag_reason")
    ),
    AdminCase(
        ProgressReport,
        "text",
        "superuser",
        _action_with_report,
        plan_and_detail(None),
        rich=True,
        inline="progress",
    ),
    AdminCase(
        Milestone, "title", "system_admin", _milestone_obj, plan_and_detail("text")
    ),
    *(
        AdminCase(
            ExceptionCommentary,
            name,
            "system_admin",
            _seed_commentary,
            commentary_admin_pages,
            rich=name in ("text", *commentary_services.TEXT_FIELDS),
        )
        for name in (
            "heading",
            "text",
            "story",
            "helping",
            "hindering",
            "actions_taken",
            "return_note",
            "author_name",
        )
    ),
    AdminCase(ReportingCycle, "title", "system_admin", _cycle_obj, cycle_pages),
]


# For fields too short for ALL_IN_ONE: each payload alone, as long as it fits.
SHORT = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{ 7*7 }}",
]


def admin_values(case: AdminCase) -> list[str]:
    whole = f"{MARKER} {ALL_IN_ONE[RICH if case.rich else PLAIN]}"
    limit = case.model._meta.get_field(case.field).max_length
    if limit is None or len(whole) <= limit:
        return [whole]
    return [value for value in SHORT if len(value) <= limit]


@pytest.mark.parametrize("case", ADMIN_CASES, ids=lambda c: c.id)
def test_text_written_in_the_admin_is_escaped_or_sanitised(world, case):
    obj = case.target(world)
    page = _admin(type(obj), obj)
    name = case.field
    if case.inline:
        document = Document(world.get(case.who, page))
        names = {n for f in document.forms for n in f["names"]}
        name = next(
            n
            for n in sorted(names)
            if n.startswith(case.inline) and n.endswith(f"-0-{name}")
        )
    written = obj
    if case.inline:
        written = ProgressReport.objects.filter(action=obj).order_by(
            "date", "position"
        )[0]

    for value in admin_values(case):
        response = world.submit(
            case.who, page, {name: value}, button=("_save", "Save"), status=(302, 200)
        )
        written.refresh_from_db()
        stored = getattr(written, case.field)
        if response.status_code == 200:  # refused, saying why
            html = response.content.decode()
            assert "errorlist" in html, f"{case.id}: refused without saying why"
            assert_safe(html, f"{case.id}: the refused form")
            assert stored != value
            continue
        if case.rich:
            assert MARKER in stored
        else:
            assert stored == value, "plain text is stored as typed"
        done = Written(text=text_of(stored) if case.rich else stored, source=stored)
        pages = [
            *case.pages(world, obj),
            (case.who, _admin(type(obj)), None),
            ("superuser", _admin(type(obj), query=False), None),
            ("superuser", page, "source"),
        ]
        check_pages(world, case.id, done, pages)
        if case.rich:
            assert Document(stored).dangers() == [], f"{case.id}: stored {stored!r}"
            assert "<script" not in stored, f"{case.id}: stored {stored!r}"


# --- Reflected input ---------------------------------------------------------------------

REFLECTED = ALL_IN_ONE[PLAIN]


def reflected_urls(w: World) -> list[tuple[str, str, dict]]:
    slug = w.strategy.slug
    level = w.strategy.system.levels.first()
    overview_params = {
        "status": REFLECTED,
        "rag": REFLECTED,
        "framework": REFLECTED,
        "sort": REFLECTED,
        "as_at": REFLECTED,
        "exceptions": REFLECTED,
        "q": REFLECTED,
    }
    if level is not None:
        overview_params[level.slug] = REFLECTED
    indicator = reverse("indicator_detail", args=[w.indicator.pk])
    return [
        ("viewer", "/search/", {"q": f"{MARKER} {REFLECTED}"[:100]}),
        ("viewer", "/search/", {"q": "<b"}),
        ("viewer", "/search/", {"q": f"{REFLECTED * 3}"}),
        (
            "viewer",
            reverse("strategy_overview", args=["plymouth", slug]),
            overview_params,
        ),
        (
            "viewer",
            reverse("system_scorecard", args=["plymouth"]),
            {"as_at": REFLECTED, "q": REFLECTED},
        ),
        (
            "viewer",
            reverse("exception_report", args=["plymouth", slug]),
            {"as_at": REFLECTED, "q": REFLECTED},
        ),
        ("viewer", indicator, {"area": REFLECTED, "breakdown": REFLECTED}),
        ("viewer", indicator, {"series": f"{REFLECTED}|{REFLECTED}"}),
        (
            "analyst",
            reverse("indicators:return_list"),
            {"q": REFLECTED, "status": REFLECTED},
        ),
        ("analyst", reverse("indicators:upload"), {"q": REFLECTED}),
        (
            "viewer",
            reverse("pack_list", args=["plymouth"]),
            {"q": REFLECTED, "as_at": REFLECTED},
        ),
        (
            "lead",
            reverse("actions:action_plan", args=["plymouth", slug]),
            {"q": REFLECTED},
        ),
        ("lead", reverse("workflow:my_updates"), {"q": REFLECTED}),
        ("lead", reverse("workflow:cycle_list"), {"q": REFLECTED}),
        ("anonymous", "/accounts/login/", {"next": REFLECTED, "username": REFLECTED}),
        ("superuser", _admin(Action, query=False), {"q": REFLECTED}),
    ]


def test_query_strings_are_never_reflected_raw(world):
    checked = 0
    for who, path, params in reflected_urls(world):
        url = f"{path}?{urlencode(params)}"
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = world.client(who).get(url, **headers)
            assert response.status_code in (200, 302), (url, response.status_code)
            assert_safe(response.content.decode(), f"{url} {headers}")
            checked += 1
    # The search box and the summary show the query back, escaped.
    page = Document(
        world.get(
            "viewer", "/search/?" + urlencode({"q": f"{MARKER} {REFLECTED}"[:100]})
        )
    )
    assert page.shows(f"{MARKER} {REFLECTED}"[:100])
    assert checked >= 30


def test_a_path_is_never_reflected_raw(world):
    """Pages that print request.path (the filter form's action) get only routed paths;
    an odd path is a 404 that does not echo it."""
    response = world.client("viewer").get(
        "/scorecard/plymouth/" + quote(REFLECTED, safe="") + "/"
    )
    assert response.status_code == 404
    assert_safe(response.content.decode(), "404")


# --- Guards: every form field and every staff admin text field is covered ----------------

PROJECT_PACKAGES = ("actions", "indicators", "scorecard", "strategies", "commissioning")


def project_form_classes() -> dict[str, type[forms.BaseForm]]:
    """Every Form or ModelForm class the project's apps define, found by reading the
    source (so a form no page imports yet is found too) and importing its module."""
    found = {}
    for package in PROJECT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts or "." in relative.name:
                continue
            tree = ast.parse(path.read_text())
            if not any(isinstance(node, ast.ClassDef) for node in ast.walk(tree)):
                continue
            module = importlib.import_module(".".join(relative.parts))
            for node in ast.walk(tree):
                if not isinstance(node, ast.ClassDef):
                    continue
                cls = getattr(module, node.name, None)
                if (
                    isinstance(cls, type)
                    and issubclass(cls, forms.BaseForm)
                    and cls.__module__ == module.__name__
                ):
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def uncovered_fields(classes: dict[str, type[forms.BaseForm]]) -> list[str]:
    covered = {(c.form, c.field) for c in CASES} | set(EXEMPT)
    return sorted(
        f"{path}.{name}"
        for path, cls in classes.items()
        for name in cls.base_fields
        if (path, name) not in covered
    )


def test_every_field_of_every_project_form_is_covered():
    classes = project_form_classes()
    assert len(classes) >= 10, f"the scan found too few forms: {sorted(classes)}"
    assert uncovered_fields(classes) == []
    # And no case names a form or field that no longer exists.
    known = {(path, name) for path, cls in classes.items() for name in cls.base_fields}
    stale = [
        (c.form, c.field)
        for c in CASES
        if not c.form.startswith("django.") and (c.form, c.field) not in known
    ]
    assert stale == []


def test_the_guard_would_catch_a_new_form_field():
    class NewForm(forms.Form):
        remarks = forms.CharField()

    assert uncovered_fields({"actions.forms.NewForm": NewForm}) == [
        "actions.forms.NewForm.remarks"
    ]


# Text fields of the staff admins that are not shown anywhere a payload could run.
ADMIN_EXEMPT: dict[tuple[type[models.Model], str], str] = {}


def staff_admin_text_fields() -> set[tuple[type[models.Model], str]]:
    """(model, field) for each free-text field a non-superuser can edit in the admin: the
    admins scoped to a system, and their inlines."""
    found = set()
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, SystemScopedAdminMixin):
            continue
        if (
            type(model_admin).has_change_permission
            is not SystemScopedAdminMixin.has_change_permission
        ):
            continue  # read-only in the admin
        parts = [(model, model_admin.fields, model_admin.readonly_fields)]
        parts += [(i.model, i.fields, i.readonly_fields) for i in model_admin.inlines]
        for part, shown_fields, readonly in parts:
            for f in part._meta.get_fields():
                if (
                    isinstance(f, models.CharField | models.TextField)
                    and f.editable
                    and not f.choices
                    and (not shown_fields or f.name in shown_fields)
                    and f.name not in (readonly or ())
                ):
                    found.add((part, f.name))
    return found


def test_every_text_field_of_the_staff_admin_is_covered():
    covered = {(c.model, c.field) for c in ADMIN_CASES}
    missing = staff_admin_text_fields() - covered - set(ADMIN_EXEMPT)
    assert sorted(f"{m.__name__}.{f}" for m, f in missing) == []
