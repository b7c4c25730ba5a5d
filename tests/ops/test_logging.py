"""Structured logs: JSON lines carrying the request id, which is accepted from a sane
X-Request-ID, generated otherwise, echoed in the response and handed to Celery tasks."""

import json
import logging

import pytest
from celery import signals

from commissioning import logging as request_logging
from commissioning.logging import JsonFormatter, RequestIdFilter


def _json_lines(records):
    formatter = JsonFormatter()
    id_filter = RequestIdFilter()
    lines = []
    for record in records:
        id_filter.filter(record)
        lines.append(json.loads(formatter.format(record)))
    return lines


def test_a_sane_request_id_is_echoed_and_logged(client, db, caplog):
    caplog.set_level(logging.INFO, logger="commissioning.request")

    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="lb-1234.abc_DEF")

    assert response["X-Request-ID"] == "lb-1234.abc_DEF"
    (line,) = [
        entry
        for entry in _json_lines(caplog.records)
        if entry["logger"] == "commissioning.request"
    ]
    assert line["request_id"] == "lb-1234.abc_DEF"
    assert (line["method"], line["path"], line["status"]) == (
        "GET",
        "/accounts/login/",
        200,
    )
    assert line["level"] == "INFO"
    assert isinstance(line["duration_ms"], float)


@pytest.mark.parametrize(
    "given",
    ["", "has spaces", "line\nbreak", "x" * 65, '"quoted"', "ünïcode"],
)
def test_an_insane_request_id_is_replaced(client, db, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)

    generated = response["X-Request-ID"]
    assert generated != given
    assert request_logging.SANE_REQUEST_ID.match(generated)


def test_each_request_gets_its_own_id(client, db):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert first != second
    assert request_logging.current_request_id() == "-"  # unbound after the request


SEEN_INSIDE = []


def log_inside_the_stack(get_response):
    """A middleware below RequestIdMiddleware standing in for application code."""

    def middleware(request):
        logging.getLogger("tests.ops").info("inside the view stack")
        SEEN_INSIDE.append(request.request_id)
        return get_response(request)

    return middleware


def test_every_line_of_a_request_carries_its_id(client, viewer, caplog, settings):
    """Lines written by the application's own code during the request, not only the
    access log, carry the id (the filter reads the request's context)."""
    caplog.set_level(logging.INFO)
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "tests.ops.test_logging.log_inside_the_stack",
    ]
    SEEN_INSIDE.clear()
    client.force_login(viewer)

    response = client.get("/", HTTP_X_REQUEST_ID="trace-me")

    assert response.status_code == 200
    lines = _json_lines(caplog.records)
    inside = [entry for entry in lines if entry["message"] == "inside the view stack"]
    assert [entry["request_id"] for entry in inside] == ["trace-me"]
    assert SEEN_INSIDE == ["trace-me"]
    access = [entry for entry in lines if entry["logger"] == "commissioning.request"]
    assert [entry["request_id"] for entry in access] == ["trace-me"]


def test_json_lines_carry_the_exception():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed %s", ("here",), exc_info=True
        )
        import sys

        record.exc_info = sys.exc_info()
    (line,) = _json_lines([record])
    assert line["message"] == "failed here"
    assert "ValueError: boom" in line["exception"]
    assert line["request_id"] == "-"


def test_a_queued_task_carries_the_request_id_to_the_worker():
    """before_task_publish stamps the id on the message; task_prerun restores it in the
    worker and task_postrun unbinds it (signals sent as Celery sends them)."""
    token = request_logging.bind_request_id("web-req-1")
    try:
        headers = {}
        signals.before_task_publish.send(
            sender="scorecard.recompute_queued", headers=headers
        )
    finally:
        request_logging.unbind_request_id(token)
    assert headers[request_logging.CELERY_HEADER] == "web-req-1"

    class Request:
        pass

    class Task:
        request = Request()

    task = Task()
    setattr(task.request, request_logging.CELERY_HEADER, "web-req-1")
    signals.task_prerun.send(sender=task, task=task, task_id="t1")
    assert request_logging.current_request_id() == "web-req-1"
    signals.task_postrun.send(sender=task, task=task, task_id="t1")
    assert request_logging.current_request_id() == "-"
