"""Which :mod:`connector.errors` exception an answer or a transport failure becomes.

The table in :mod:`connector.http.client`'s docstring is the contract; these functions are
its "what is raised" column, kept apart from the request loop so the loop reads as a loop
and the classification as a table. They are pure: no I/O and no state, so the loop alone
decides what happens next (retry, refresh the token, or raise).

Messages name the method and the URL *path* only (:attr:`Call.where`), never the query
string, the host's credentials or a header; the error's ``system`` and ``record`` prefix them.
"""

from __future__ import annotations

import aiohttp
from yarl import URL

from connector.errors import (
    AuthError,
    ConfigurationError,
    ConflictError,
    ConnectorError,
    InDoubtError,
    RateLimitedError,
    RejectedError,
    RetryableError,
    TimeoutError_,
    UnavailableError,
)
from connector.http.messages import Call, HttpResponse
from connector.http.retry import RetryPolicy, parse_retry_after

_EXCERPT_CHARS = 300


def transport_error(call: Call, exc: aiohttp.ClientError) -> ConnectorError:
    """The error for a request that got no answer: ``exc`` says how far it got."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return ConfigurationError(
            f"{call.where}: the server's TLS certificate was refused "
            f"({exc.certificate_error}); check the base URL and the host's CA certificates",
            system=call.system,
            record=call.record,
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return ConfigurationError(
            f"{call.method}: invalid URL ({type(exc).__name__}); check the base URL in the config",
            system=call.system,
            record=call.record,
        )
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return TimeoutError_(
            f"{call.where}: could not connect in time; nothing was sent",
            system=call.system,
            record=call.record,
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UnavailableError(
            f"{call.where}: could not connect ({_os_reason(exc)}); nothing was sent",
            system=call.system,
            record=call.record,
        )
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return after_send(call, TimeoutError_, "no answer in time")
    return after_send(call, UnavailableError, f"connection lost ({_os_reason(exc)})")


def after_send(call: Call, retryable: type[RetryableError], what: str) -> ConnectorError:
    """The error for an answer lost after the request went out: ``retryable`` for a read,
    ``InDoubtError`` for a write, which may have been applied."""
    if call.idempotent:
        return retryable(f"{call.where}: {what}", system=call.system, record=call.record)
    return InDoubtError(
        f"{call.where}: {what} after the request was sent, so it may have been applied; "
        "look the record up on the target by its natural key before writing it again",
        system=call.system,
        record=call.record,
    )


def status_error(call: Call, response: HttpResponse, refreshed: bool) -> ConnectorError:
    """The error for an answer whose status the caller did not list as OK.

    ``refreshed`` says whether the token was already renewed once for this request, which
    turns a 401 from "check the credentials" into "the fresh token was refused too".
    """
    status = response.status
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    excerpt = _excerpt(response.body)
    said = f"{call.where} → HTTP {status}" + (f": {excerpt}" if excerpt else "")
    system, record = call.system, call.record
    if status == 429 or (status == 503 and retry_after is not None):
        return RateLimitedError(
            f"{call.where} → HTTP {status}: throttled",
            system=system,
            record=record,
            retry_after=retry_after,
        )
    if status == 401:
        advice = (
            "token rejected after a refresh: check the credential"
            if refreshed
            else "credentials rejected: check them"
        )
        return AuthError(
            f"{said}; {advice} of {system} in the vault (client id, secret, "
            "app key, tenant) and the permissions granted to it",
            system=system,
            record=record,
        )
    if 300 <= status < 400:
        location = _strip_query(response.headers.get("Location"))
        return ConfigurationError(
            f"{call.where} → HTTP {status} redirecting to {location}; redirects are never "
            "followed with credentials: check the base URL in the config",
            system=system,
            record=record,
        )
    if status == 408:
        return TimeoutError_(
            f"{said}; the server timed out reading the request",
            system=system,
            record=record,
            retry_after=retry_after,
        )
    if status == 403:
        return ConfigurationError(
            f"{said}; the credential lacks a permission this call needs (a missing scope "
            f"or role, or another tenant's id): grant it to the {system} credential, then "
            "run the flow again",
            system=system,
            record=record,
        )
    if status == 412:
        return ConflictError(
            f"{said}; the record changed on the target since it was read: "
            "re-read it and apply the change again",
            system=system,
            record=record,
        )
    if status == 409:
        return RejectedError(
            f"{said}; the target holds a conflicting record: look it up by "
            "its natural key and adopt it",
            system=system,
            record=record,
            code="conflict",
        )
    if 400 <= status < 500 or status in (501, 505):
        return RejectedError(
            f"{said}; the target refused the request: fix the record or "
            "its mapping, then replay it",
            system=system,
            record=record,
            code=f"http_{status}",
        )
    # Any other 5xx on a write: the server (or a gateway, e.g. Cloudflare's 520/524) may
    # have committed before it failed, so the outcome is unknown. Only a throttling
    # answer (429, 503 with Retry-After: handled above) promises nothing was processed.
    if status >= 500 and not call.idempotent:
        return InDoubtError(
            f"{said}; a gateway gave up and the write may have been applied: "
            "look the record up by its natural key before writing it again",
            system=system,
            record=record,
        )
    if status >= 500:
        return UnavailableError(said, system=system, record=record, retry_after=retry_after)
    return RejectedError(
        f"{said}; the connector did not expect this status here: report it with this message",
        system=system,
        record=record,
        code="unexpected_status",
    )


def give_up(
    call: Call,
    error: RetryableError,
    policy: RetryPolicy,
    attempts: int,
    waited: float,
    next_wait: float | None = None,
) -> RetryableError:
    """``error`` once more, saying why the loop stopped retrying it: out of attempts, or
    (``next_wait`` given) the next wait would pass ``policy``'s budget."""
    why = (
        f"the next wait ({next_wait:.1f}s) would pass the retry budget of "
        f"{policy.max_total_wait_s:.0f}s"
        if next_wait is not None
        else "no attempts left"
    )
    return type(error)(
        f"{error.message}; gave up after {attempts} attempt(s) and {waited:.1f}s of "
        f"waiting ({why}). The record stays pending and is tried again later; if this "
        f"persists, check that {call.system} is up and not throttling us",
        system=error.system,
        record=error.record,
        retry_after=error.retry_after,
    )


def _excerpt(body: bytes) -> str:
    text = " ".join(body[: _EXCERPT_CHARS * 4].decode("utf-8", errors="replace").split())
    if len(text) > _EXCERPT_CHARS:
        return text[: _EXCERPT_CHARS - 1] + "…"
    return text


def _strip_query(location: str | None) -> str:
    if not location:
        return "(no Location header)"
    try:
        url = URL(location)
        if url.absolute:
            url = url.with_user(None)
        return str(url.with_query(None).with_fragment(None))
    except ValueError:
        return "(an unreadable Location)"


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__
