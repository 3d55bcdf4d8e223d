"""One HTTP request to an external system, classified into the failure model and retried.

:class:`HttpClient` is what every system client (ServiceTitan, Infor, Acumatica, …) sends
through. It owns no connection: it borrows the system's ``aiohttp.ClientSession``,
:class:`~connector.http.limiter.RateLimiter` and :class:`~connector.http.tokens.TokenCache`
(all three owned by the SystemSupervisor) and adds the rules of DESIGN.md, "The exactly-once
protocol", step 5. :meth:`HttpClient.request` returns an :class:`HttpResponse` whose status
is in ``ok_statuses``, or raises a :mod:`connector.errors` exception; nothing else escapes
(cancellation aside).

The client switches off aiohttp's own resend-after-disconnect on the session it is given
(:func:`~connector.http.session.forbid_hidden_retries`): it alone decides what is resent.

Each attempt takes a token first (outside the limiter, so an identity-provider round trip
never holds a rate-limit slot), then a limiter slot, then sends with ``allow_redirects=False``
and reads the whole body. The answer is classified (by :mod:`connector.http.classify`):

=====================================  ==========================================================
429, or 503 with ``Retry-After``       throttled: the limiter pauses *all* its callers for
                                       ``Retry-After`` (else a backoff draw), then retry. The
                                       request was not processed, so writes retry too.
401 with a token                       the token is invalidated and the request retried once
                                       with a fresh one; a second 401 raises ``AuthError``.
3xx                                    ``ConfigurationError`` naming the Location: a bearer is
                                       never sent after a redirect.
408                                    ``TimeoutError_``, retried: the server gave up waiting
                                       for our request and processed nothing.
403                                    ``ConfigurationError``: a missing scope or role is the
                                       operator's to grant, not a fault of the record.
409 / 412                              ``RejectedError`` (code ``conflict``) / ``ConflictError``.
other 4xx                              ``RejectedError`` with the status and a body excerpt.
501 / 505                              ``RejectedError``: retrying cannot help.
any other 5xx (500, 502, 503 without   the server or a gateway failed after it may have
``Retry-After``, 504, 520, 524 …)       committed: ``InDoubtError`` for a write, retried
                                       (``UnavailableError``) for a read. Only a throttling
                                       answer promises that nothing was processed.
timeout or lost connection after send  retried for a read (``TimeoutError_`` /
                                       ``UnavailableError``); ``InDoubtError`` at once for a
                                       write. A write is never blindly sent twice.
nothing sent (refused, DNS, connect    ``UnavailableError`` / ``TimeoutError_``, retried for
timeout)                               reads and writes alike.
=====================================  ==========================================================

"Read" and "write" here mean ``idempotent=True`` / ``False``, which every call must state.

Retries wait ``backoff_delay`` (full jitter), or longer if ``Retry-After`` asks. The loop
stops after ``RetryPolicy.max_attempts`` attempts, or when the next wait would bring the
total past ``max_total_wait_s``, and raises the last retryable error with the attempt count
in its message. The retry after a 401 is made even when that budget is spent.

Messages name the method and the URL *path* only (the error's ``system`` and ``record``
prefix them): never the query string, the host's credentials or a header. Counters for
``/metrics``: ``requests_total`` (requests sent), ``retries_total``, ``status_429_total``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Collection, Mapping
from types import MappingProxyType

import aiohttp
import anyio
from multidict import CIMultiDict
from yarl import URL

from connector.errors import RateLimitedError, RetryableError, TimeoutError_
from connector.http.classify import after_send, give_up, status_error, transport_error
from connector.http.limiter import RateLimiter
from connector.http.messages import Call, HttpResponse, Params, QueryValue
from connector.http.retry import RetryPolicy, backoff_delay
from connector.http.session import forbid_hidden_retries
from connector.http.tokens import Token, TokenCache

# HttpResponse, Params and QueryValue live in .messages so the classifier can read them
# without importing this loop; callers keep importing them from here.
__all__ = [
    "DEFAULT_RETRY_POLICY",
    "SUCCESS_STATUSES",
    "HttpClient",
    "HttpResponse",
    "Params",
    "QueryValue",
    "Sleep",
]

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

#: The default ``ok_statuses``: any 2xx.
SUCCESS_STATUSES: Collection[int] = range(200, 300)
DEFAULT_RETRY_POLICY = RetryPolicy()
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class HttpClient:
    """Sends requests to one external system; see the module docstring for the contract.

    ``system`` names the system in errors and logs. ``tokens`` and ``auth_headers`` go
    together: ``auth_headers(token)`` turns the current token into headers (a bearer, plus
    whatever else must ride with it). ``static_headers`` are sent on every request
    (ServiceTitan's ``ST-App-Key``). ``rng`` seeds the backoff jitter and ``sleep`` waits
    between retries; tests pass a seeded generator and a fake sleep.
    """

    def __init__(
        self,
        system: str,
        session: aiohttp.ClientSession,
        *,
        limiter: RateLimiter,
        tokens: TokenCache | None,
        auth_headers: Callable[[Token], Mapping[str, str]] | None,
        static_headers: Mapping[str, str] = _NO_HEADERS,
        retry: RetryPolicy = DEFAULT_RETRY_POLICY,
        rng: random.Random | None = None,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        if (tokens is None) != (auth_headers is None):
            raise ValueError(f"{system}: pass tokens and auth_headers together, or neither")
        self.system = system
        # Only this class may decide to resend, since only it knows what is idempotent.
        forbid_hidden_retries(session)
        self._session = session
        self._limiter = limiter
        self._tokens = tokens
        self._auth_headers = auth_headers
        self._static_headers = dict(static_headers)
        self._retry = retry
        # Jitter only spreads retries out; it needs no cryptographic strength.
        self._rng = rng if rng is not None else random.Random()  # noqa: S311
        self._sleep = sleep
        #: Requests sent (every attempt counts).
        self.requests_total = 0
        #: Attempts made after the first one of a request (401 refreshes included).
        self.retries_total = 0
        #: 429 answers received.
        self.status_429_total = 0

    def __repr__(self) -> str:
        return f"HttpClient(system={self.system!r}, limiter={self._limiter.name!r})"

    async def request(
        self,
        method: str,
        url: str | URL,
        *,
        params: Params | None = None,
        json: bytes | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool,
        record: str | None = None,
        ok_statuses: Collection[int] = SUCCESS_STATUSES,
    ) -> HttpResponse:
        """Send one request, retrying as the module docstring describes.

        ``json`` is a body already encoded by msgspec (sent as ``application/json`` unless
        ``headers`` say otherwise); ``data`` is sent form-encoded; give at most one.
        ``idempotent`` says whether sending the request twice is harmless: say False for
        every write that could create or change something twice. ``record`` names the
        record concerned in every error. A status in ``ok_statuses`` is returned as is,
        without classification, so a caller that expects a 404 or 409 can list it.
        """
        if json is not None and data is not None:
            raise ValueError("give the body as json or as data, not both")
        call = Call(
            system=self.system,
            method=method.upper(),
            url=URL(url) if isinstance(url, str) else url,
            params=params,
            body=json if json is not None else (dict(data) if data is not None else None),
            headers=_request_headers(self._static_headers, headers, json is not None),
            idempotent=idempotent,
            record=record,
        )
        attempts = 0
        waited = 0.0
        refreshed = False
        while True:
            attempts += 1
            token = await self._tokens.get() if self._tokens is not None else None
            try:
                response = await self._send(call, token)
                if response.status == 429:
                    self.status_429_total += 1
                if response.status in ok_statuses:
                    return response
                if response.status == 401 and token is not None and not refreshed:
                    refreshed = True
                    await self._reject_token(call, token)
                    continue
                raise status_error(call, response, refreshed)
            except RetryableError as error:
                delay = self._retry_delay(error, attempts - 1)
                if attempts >= self._retry.max_attempts:
                    raise give_up(call, error, self._retry, attempts, waited) from error
                if waited + delay > self._retry.max_total_wait_s:
                    raise give_up(
                        call, error, self._retry, attempts, waited, next_wait=delay
                    ) from error
                waited += delay
                self.retries_total += 1
                log.info(
                    "%s %s%s: %s; retry %d of %d in %.2fs",
                    self.system,
                    call.where,
                    f" ({call.record})" if call.record else "",
                    error.message,
                    attempts,
                    self._retry.max_attempts - 1,
                    delay,
                )
                if not isinstance(error, RateLimitedError):
                    # A throttle's wait happens in the next limiter slot, shared by everyone.
                    await self._sleep(delay)

    async def _reject_token(self, call: Call, token: Token) -> None:
        self.retries_total += 1
        log.info(
            "%s %s: token rejected (401); refreshing it and retrying once", self.system, call.where
        )
        if self._tokens is not None:
            await self._tokens.invalidate(token)

    def _retry_delay(self, error: RetryableError, retry_index: int) -> float:
        backoff = backoff_delay(retry_index, self._retry, self._rng)
        if isinstance(error, RateLimitedError):
            delay = error.retry_after if error.retry_after is not None else backoff
            # Pause before deciding whether to give up: the throttle binds every caller.
            self._limiter.pause_for(delay)
            return delay
        return max(backoff, error.retry_after or 0.0)

    async def _send(self, call: Call, token: Token | None) -> HttpResponse:
        headers = CIMultiDict(call.headers)
        if token is not None and self._auth_headers is not None:
            headers.update(self._auth_headers(token))
        try:
            async with self._limiter.slot():
                self.requests_total += 1
                async with self._session.request(
                    call.method,
                    call.url,
                    params=call.params,
                    data=call.body,
                    headers=headers,
                    allow_redirects=False,
                ) as raw:
                    body = await raw.read()
                    return HttpResponse(
                        raw.status, raw.headers, body, self.system, call.method, call.path
                    )
        except aiohttp.ClientError as exc:
            raise transport_error(call, exc) from exc
        except TimeoutError as exc:
            raise after_send(call, TimeoutError_, "no answer in time") from exc


def _request_headers(
    static: Mapping[str, str], extra: Mapping[str, str] | None, json_body: bool
) -> Mapping[str, str]:
    headers = CIMultiDict(static)
    if json_body:
        headers["Content-Type"] = "application/json"
    if extra:
        headers.update(extra)
    return headers
