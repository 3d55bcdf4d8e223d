"""The failure model of ml-connector: one exception tree, classified once at the edge.

Every failure that crosses a module boundary is one of these, so the loader can decide
what to do from the class alone (DESIGN.md, "The exactly-once protocol", step 5)::

    ConnectorError                      base; never raised itself
     ├── RetryableError                 try again later, same request, with backoff
     │    ├── RateLimitedError          429 / throttled; carries Retry-After
     │    ├── UnavailableError          5xx, connection refused/reset
     │    └── TimeoutError_             no answer in time (for a read: safe to retry)
     ├── AuthError                      token rejected: refresh once, retry once, then stop
     ├── ConflictError                  412 / stale version: re-read, re-apply
     ├── PermanentError                 retrying the same request cannot help: dead letter
     │    ├── RejectedError             the target refused the record (4xx, business error)
     │    └── SourceDataError           the source record itself is unusable
     ├── MappingError                   no mapping for a code: review queue, not dead letter
     ├── InDoubtError                   a write was sent and its outcome is unknown
     ├── DeferredError                  waits on another record (in doubt, or being written
     │                                  by another writer): next cycle, stream goes on
     └── ConfigurationError             the operator must fix config/credentials; stop the flow

Messages are written for the person who reads them: what happened, to which record, and what
to do next. No exception here ever carries a secret: callers pass record ids and field names,
never tokens or payload credentials.
"""

from __future__ import annotations


def clause(text: object) -> str:
    """``text`` (often another system's own sentence, or an exception's) made ready for our
    punctuation after it: trailing spaces and full stops removed, so ``f"{clause(x)}. Fix…"``
    never reads "…occurred.. Fix…"."""
    return str(text).rstrip().rstrip(".").rstrip()


class ConnectorError(Exception):
    """Base of every error ml-connector raises on purpose.

    ``system`` names the external system involved (``"servicetitan"``, ``"infor"``…) when
    there is one; ``record`` names the record (``"invoice 88812"``) when there is one.
    """

    #: Short class name stored in dead letters and audit rows (stable across renames).
    kind: str = "error"

    def __init__(self, message: str, *, system: str | None = None, record: str | None = None):
        super().__init__(message)
        self.message = message
        self.system = system
        self.record = record

    def __str__(self) -> str:
        parts = []
        if self.system:
            parts.append(self.system)
        if self.record:
            parts.append(self.record)
        prefix = f"[{' · '.join(parts)}] " if parts else ""
        return f"{prefix}{self.message}"


class RetryableError(ConnectorError):
    """The same request may succeed later; back off with full jitter and try again."""

    kind = "retryable"

    def __init__(
        self,
        message: str,
        *,
        system: str | None = None,
        record: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, system=system, record=record)
        #: Seconds the server asked us to wait (``Retry-After``), if it said.
        self.retry_after = retry_after


class RateLimitedError(RetryableError):
    """The system throttled us (HTTP 429 or an equivalent)."""

    kind = "rate_limited"


class UnavailableError(RetryableError):
    """The system is down or overloaded (5xx, connection refused or reset)."""

    kind = "unavailable"


class TimeoutError_(RetryableError):  # noqa: N801 - avoid shadowing the builtin TimeoutError
    """No answer in time. For a write this is *not* enough to retry: see InDoubtError."""

    kind = "timeout"


class AuthError(ConnectorError):
    """Credentials or token rejected after one refresh: check the credential in the vault."""

    kind = "auth"


class ConflictError(ConnectorError):
    """A precondition failed (HTTP 412, stale ETag): re-read the record and re-apply."""

    kind = "conflict"


class PermanentError(ConnectorError):
    """Retrying the same request cannot help. The record goes to the dead-letter table."""

    kind = "permanent"

    def __init__(
        self,
        message: str,
        *,
        system: str | None = None,
        record: str | None = None,
        field: str | None = None,
        code: str | None = None,
    ):
        super().__init__(message, system=system, record=record)
        #: The field the target (or validation) blamed, when known.
        self.field = field
        #: The target's own error code (e.g. an M3 ``errorCode``), when known.
        self.code = code


class RejectedError(PermanentError):
    """The target refused the record: a 4xx or a business error such as M3's HTTP-200 NOK."""

    kind = "rejected"


class SourceDataError(PermanentError):
    """The source record is unusable as it stands (missing vendor id, bad date, …)."""

    kind = "bad_source_data"


class MappingError(ConnectorError):
    """A code has no mapping (business unit → cost center, …). Goes to the review queue."""

    kind = "mapping"

    def __init__(
        self,
        message: str,
        *,
        system: str | None = None,
        record: str | None = None,
        mapping_kind: str,
        mapping_key: str,
    ):
        super().__init__(message, system=system, record=record)
        #: Which mapping table is missing a row (``"business_unit_cost_center"``).
        self.mapping_kind = mapping_kind
        #: The source code that has no row (``"12"``), so `review resolve` can add it.
        self.mapping_key = mapping_key


class InDoubtError(ConnectorError):
    """A write was sent and we do not know whether it landed.

    The record is marked ``in_doubt`` and settled by querying the target by natural key
    before anything is written again: never by a blind retry.
    """

    kind = "in_doubt"


class DeferredError(ConnectorError):
    """The record depends on another one that is not finished yet — in doubt, or being
    written by another writer right now. Nothing was written for it; it stays pending and
    the next cycle takes it again. The rest of the stream goes on."""

    kind = "deferred"


class ConfigurationError(ConnectorError):
    """Configuration or credentials are wrong; the operator has to act. Stops the flow."""

    kind = "configuration"
