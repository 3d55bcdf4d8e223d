"""Logging for the service: one JSON object per line on stdout, secrets redacted.

Every line carries ``ts`` (ISO-8601, UTC), ``level``, ``logger`` and ``msg``; then the
context fields ``flow``, ``stream``, ``run_id``, ``source_id`` and ``system`` when known;
then ``exc`` (the formatted traceback) when the record has one. Context comes from
:func:`log_context`, which follows the code through awaits and into tasks started inside
it, or from ``extra={"flow": …}`` on a single call (``extra`` wins).

Redaction is the last step before a line is written and covers every field, the traceback
included, of every logger in the process (aiohttp's too). It has two parts: a
:class:`Redactor` that knows the secret *values* the vault has decrypted (registered at
runtime, so a token echoed in an error body is caught even with no tell-tale key), and
patterns for the shapes secrets travel in (``Bearer …``, ``password=…``, ``"sask": "…"``,
``Authorization:`` headers). Either way the secret becomes ``***``.
"""

from __future__ import annotations

import json as jsonlib
import logging
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import quote, quote_plus

REDACTED = "***"

#: The context fields, in the order they appear on a line.
CONTEXT_FIELDS = ("flow", "stream", "run_id", "source_id", "system")

ContextValue = str | int

# Pairs rather than a dict: a contextvar's default must be immutable, as it is shared.
_context: ContextVar[tuple[tuple[str, ContextValue], ...]] = ContextVar(
    "ml_connector_log_context", default=()
)

# Key names whose value is a secret wherever they appear as key=value or "key": "value".
_SENSITIVE_NAMES = r"access_token|refresh_token|id_token|client_secret|password|passwd|sask|cs"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Header form, also inside a dict's repr ('Authorization': 'Basic …'); the value ends
    # at a quote, comma, brace or line end, which no token contains.
    (
        re.compile(r"""(authorization["']?\s*[:=]\s*["']?)[^"'\r\n,}]+""", re.IGNORECASE),
        r"\1" + REDACTED,
    ),
    # Eight characters at least: real tokens are longer, and prose ("the bearer token
    # expired") stays readable.
    (re.compile(r"\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*", re.IGNORECASE), r"\1" + REDACTED),
    # Form bodies and query strings; \b keeps "cs" from matching inside "docs=…".
    (
        re.compile(rf"\b((?:{_SENSITIVE_NAMES})=)[^&\s\"',;]+", re.IGNORECASE),
        r"\1" + REDACTED,
    ),
    # JSON and Python reprs: "sask": "…" or 'password': '…' (escaped quotes stay inside).
    (
        re.compile(
            rf"""((["'])(?:{_SENSITIVE_NAMES})\2\s*:\s*)(["'])(?:\\.|(?!\3).)*\3""", re.IGNORECASE
        ),
        r"\1\3" + REDACTED + r"\3",
    ),
)


class Redactor:
    """Replaces registered secret values, and secret-shaped text, with ``***``.

    Register every secret the process holds in clear (decrypted vault fields, fresh access
    tokens) with :meth:`register`; besides the value itself the forms it takes when
    URL-encoded, JSON-escaped or ``repr``'d are caught. Registration lasts for the life of
    the redactor: a rotated-out token stays redacted. Any non-empty value is honoured, so
    registering a short non-secret (a tenant id) blanks it everywhere: register secrets only.
    Safe to use from several threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._compiled: re.Pattern[str] | None = None

    def register(self, secret: str) -> None:
        """Redact ``secret`` (and its encoded forms) from now on; empty strings are ignored."""
        if not secret:
            return
        forms = {
            secret,
            quote(secret, safe=""),
            quote_plus(secret, safe=""),
            jsonlib.dumps(secret)[1:-1],
            repr(secret)[1:-1],
        }
        with self._lock:
            if forms <= self._values:
                return
            self._values |= forms
            # Longest first, so a secret containing another is replaced whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._compiled = re.compile("|".join(re.escape(v) for v in ordered))

    def redact(self, text: str) -> str:
        """``text`` with every registered value and secret-shaped span replaced by ``***``."""
        compiled = self._compiled
        if compiled is not None:
            text = compiled.sub(REDACTED, text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


#: The process-wide redactor :func:`configure_logging` uses unless given another.
redactor = Redactor()


@contextmanager
def log_context(
    *,
    flow: str | None = None,
    stream: str | None = None,
    run_id: int | str | None = None,
    source_id: str | None = None,
    system: str | None = None,
) -> Iterator[None]:
    """Add context fields to every line logged inside the block (nested blocks merge).

    Fields left None keep the outer block's value. Being a contextvar, the context follows
    ``await`` and is copied into tasks started inside the block, never leaking to others.
    """
    given = {
        "flow": flow,
        "stream": stream,
        "run_id": run_id,
        "source_id": source_id,
        "system": system,
    }
    merged = {**dict(_context.get()), **{k: v for k, v in given.items() if v is not None}}
    token = _context.set(tuple(merged.items()))
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> Mapping[str, ContextValue]:
    """The context fields in force here (what the next log line would carry)."""
    return dict(_context.get())


class _Formatter(logging.Formatter):
    """Turns a record into redacted fields; subclasses choose the line format."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def fields(self, record: logging.LogRecord) -> dict[str, str | int]:
        moment = datetime.fromtimestamp(record.created, UTC)
        out: dict[str, str | int] = {
            "ts": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        context = dict(_context.get())
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is None:
                value = context.get(name)
            if value is not None:
                out[name] = value if isinstance(value, int | str) else str(value)
        if record.exc_info:
            # Not record.exc_text: that cache would hand other handlers our text, and us theirs.
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return {k: self.redactor.redact(v) if isinstance(v, str) else v for k, v in out.items()}


class JsonFormatter(_Formatter):
    """One JSON object per line (newlines inside values are escaped by JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        return jsonlib.dumps(self.fields(record), ensure_ascii=False)


class TextFormatter(_Formatter):
    """``ts level logger: msg key=value…`` for a person at a terminal; redacted the same."""

    def format(self, record: logging.LogRecord) -> str:
        fields = self.fields(record)
        head = f"{fields.pop('ts')} {fields.pop('level'):<7} {fields.pop('logger')}: "
        line = head + str(fields.pop("msg"))
        exc = fields.pop("exc", None)
        stack = fields.pop("stack", None)
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        for block in (exc, stack):
            if block is not None:
                line += "\n" + str(block)
        return line


class _ServiceHandler(logging.StreamHandler[TextIO]):
    """Marks the handler configure_logging installed, so a second call replaces it."""


def configure_logging(
    level: str,
    stream: TextIO | None = None,
    json: bool = True,
    *,
    redactor: Redactor = redactor,
) -> logging.Handler:
    """Send every log record at ``level`` or above to ``stream`` (default stdout), redacted.

    ``level`` is a name (``debug``, ``info``, ``warning``, ``error``; any case). ``json``
    chooses JSON lines (for journald and log shippers) or text. Calling again replaces the
    handler an earlier call installed and leaves other handlers alone. Returns the handler,
    so a caller that must undo the setup (a test) can remove it from the root logger.
    Raises ValueError for an unknown level name.
    """
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ValueError(
            f"log level {level!r} is not one of debug, info, warning, error; fix "
            "service.log_level in the config"
        )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ServiceHandler)]:
        root.removeHandler(old)
    handler = _ServiceHandler(sys.stdout if stream is None else stream)
    handler.setFormatter(JsonFormatter(redactor) if json else TextFormatter(redactor))
    root.addHandler(handler)
    root.setLevel(numeric)
    return handler
