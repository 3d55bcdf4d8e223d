"""JSON log lines: shape, context fields, and secrets that never reach the output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import quote

import anyio
import pytest

from connector.logs import Redactor, configure_logging, current_context, log_context

SECRET = 'tok-9f8e"7d\\6c5b/4a3+9=='


@pytest.fixture
def setup() -> Iterator[tuple[io.StringIO, Redactor]]:
    """configure_logging onto a buffer with a fresh redactor; undone after the test."""
    buffer = io.StringIO()
    redactor = Redactor()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("debug", stream=buffer, redactor=redactor)
    yield buffer, redactor
    root.removeHandler(handler)
    root.setLevel(level)


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    """Every line written so far, each parsed as one JSON object."""
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_one_json_object_per_line(setup: tuple[io.StringIO, Redactor]) -> None:
    """Each record is one line of JSON with ts (UTC), level, logger and msg."""
    buffer, _ = setup
    logging.getLogger("connector.test").info("loaded %d records\nsecond line", 3)
    logging.getLogger("other").warning("done")
    first, second = lines(buffer)
    assert first["level"] == "info"
    assert first["logger"] == "connector.test"
    assert first["msg"] == "loaded 3 records\nsecond line"
    stamp = datetime.fromisoformat(str(first["ts"]))
    assert stamp.utcoffset() == timedelta(0)
    assert second["level"] == "warning" and second["msg"] == "done"


def test_level_filters(setup: tuple[io.StringIO, Redactor]) -> None:
    """Records below the configured level are not written."""
    buffer, redactor = setup
    handler = configure_logging("warning", stream=buffer, redactor=redactor)
    try:
        logging.getLogger("connector.test").info("quiet")
        logging.getLogger("connector.test").error("loud")
        assert [line["msg"] for line in lines(buffer)] == ["loud"]
    finally:
        logging.getLogger().removeHandler(handler)


def test_reconfiguring_replaces_the_handler(setup: tuple[io.StringIO, Redactor]) -> None:
    """A second configure_logging call does not duplicate lines."""
    buffer, redactor = setup
    handler = configure_logging("info", stream=buffer, redactor=redactor)
    try:
        logging.getLogger("connector.test").info("once")
        assert len(lines(buffer)) == 1
    finally:
        logging.getLogger().removeHandler(handler)


def test_unknown_level_is_refused() -> None:
    """A misspelt level name raises ValueError naming the config key."""
    with pytest.raises(ValueError, match="service.log_level"):
        configure_logging("verbose", stream=io.StringIO())


def test_context_fields_appear_and_nest(setup: tuple[io.StringIO, Redactor]) -> None:
    """log_context fields are on every line inside the block, merged when nested."""
    buffer, _ = setup
    log = logging.getLogger("connector.test")
    with log_context(flow="servicetitan-infor", run_id=17):
        with log_context(stream="invoices", source_id="88812", system="infor"):
            log.info("inner")
        log.info("outer")
    log.info("outside")
    inner, outer, outside = lines(buffer)
    assert {k: inner[k] for k in ("flow", "stream", "run_id", "source_id", "system")} == {
        "flow": "servicetitan-infor",
        "stream": "invoices",
        "run_id": 17,
        "source_id": "88812",
        "system": "infor",
    }
    assert outer["flow"] == "servicetitan-infor" and "stream" not in outer
    assert "flow" not in outside and "run_id" not in outside


def test_extra_overrides_context(setup: tuple[io.StringIO, Redactor]) -> None:
    """extra= fields land on the line and win over the surrounding context."""
    buffer, _ = setup
    with log_context(flow="a", stream="vendors"):
        logging.getLogger("x").info("m", extra={"flow": "b", "source_id": "V1"})
    (line,) = lines(buffer)
    assert (line["flow"], line["stream"], line["source_id"]) == ("b", "vendors", "V1")


async def test_context_stays_inside_its_task() -> None:
    """A task's log_context is seen by that task only, not by a sibling."""
    seen: dict[str, dict[str, object]] = {}

    async def worker(name: str) -> None:
        with log_context(flow=name):
            await anyio.sleep(0)
            seen[name] = dict(current_context())

    async with anyio.create_task_group() as group:
        group.start_soon(worker, "one")
        group.start_soon(worker, "two")
    assert seen == {"one": {"flow": "one"}, "two": {"flow": "two"}}
    assert dict(current_context()) == {}


def test_registered_secret_never_appears(setup: tuple[io.StringIO, Redactor]) -> None:
    """A registered secret is *** in msg, context, and an exception's text and repr."""
    buffer, redactor = setup
    redactor.register(SECRET)
    log = logging.getLogger("connector.test")
    try:
        raise RuntimeError(f"token {SECRET} was refused; body={ {'t': SECRET}!r}")
    except RuntimeError:
        with log_context(source_id=SECRET):
            log.exception("login failed with %s", SECRET)
    log.info("json body %s", json.dumps({"note": SECRET}))
    log.info("url https://x/?t=%s", quote(SECRET, safe=""))
    text = buffer.getvalue()
    assert "tok-9f8e" not in text
    error, body, url = lines(buffer)
    assert error["msg"] == "login failed with ***"
    assert error["source_id"] == "***"
    assert "RuntimeError: token *** was refused" in str(error["exc"])
    assert "Traceback" in str(error["exc"])
    assert body["msg"] == 'json body {"note": "***"}'
    assert url["msg"] == "url https://x/?t=***"


def test_secret_registered_later_is_redacted_from_then_on(
    setup: tuple[io.StringIO, Redactor],
) -> None:
    """Registration applies to lines written after it."""
    buffer, redactor = setup
    log = logging.getLogger("connector.test")
    log.info("value plain-value-123")
    redactor.register("plain-value-123")
    log.info("value plain-value-123")
    assert [line["msg"] for line in lines(buffer)] == ["value plain-value-123", "value ***"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("sent Bearer eyJhbGciOi.J9.abc-_", "sent Bearer ***"),
        ("the bearer token expired", "the bearer token expired"),
        (
            "grant_type=password&password=hunter2&client_id=ci",
            "grant_type=password&password=***&client_id=ci",
        ),
        ("form access_token=abc.def&x=1", "form access_token=***&x=1"),
        ("client_secret=s3cr3t refresh_token=r1", "client_secret=*** refresh_token=***"),
        (
            'ionapi {"ci": "ACME~x", "cs": "c-s", "saak": "A#b", "sask": "p\\"w"}',
            'ionapi {"ci": "ACME~x", "cs": "***", "saak": "A#b", "sask": "***"}',
        ),
        (
            "headers {'Authorization': 'Basic YWJjOmRlZg==', 'Accept': 'json'}",
            "headers {'Authorization': '***', 'Accept': 'json'}",
        ),
        ("Authorization: Basic YWJjOmRlZg==\r\nHost: x", "Authorization: ***\r\nHost: x"),
        ("see docs=cs and cs=5", "see docs=cs and cs=***"),
    ],
)
def test_secret_shaped_text_is_redacted(message: str, expected: str) -> None:
    """Tokens, passwords, .ionapi secrets and Authorization headers match the patterns."""
    assert Redactor().redact(message) == expected


def test_text_mode_is_redacted_too() -> None:
    """json=False writes human lines with the same context and redaction."""
    buffer, redactor = io.StringIO(), Redactor()
    redactor.register("pw-123456")
    handler = configure_logging("info", stream=buffer, json=False, redactor=redactor)
    try:
        with log_context(flow="f1"):
            logging.getLogger("connector.test").warning("pw-123456 rejected")
    finally:
        logging.getLogger().removeHandler(handler)
    line = buffer.getvalue()
    assert "warning connector.test: *** rejected flow=f1" in line
    assert "pw-123456" not in line
