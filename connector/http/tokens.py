"""Access tokens: fetched once, shared by every caller, renewed before they expire.

A :class:`TokenCache` holds the current :class:`Token` of one credential. The system's own
code supplies ``fetch``, an async function that performs the grant (client credentials,
password, refresh token) and returns a new token; the cache decides *when* to call it:

- **single flight**: however many callers need a token at the same moment, ``fetch`` runs
  once and all of them receive its result, or all of them its error;
- **proactive refresh**: once ``clock() >= expires_at - refresh_margin_s`` the next
  :meth:`TokenCache.get` fetches a new token, so requests never go out with a token that
  is about to lapse in flight. A token that arrives with less than twice the margin to
  live is renewed halfway through its life instead, so a short lifetime (a sandbox knob)
  never makes every call fetch;
- **invalidation after a 401**: :meth:`TokenCache.invalidate` forgets a token the server
  rejected, but only if it is still the current one, so twenty callers that hit 401 with
  the same stale token cause one fetch, not twenty.

``fetch`` receives the previous token (also after an invalidation, or None the very first
time) so a system with refresh tokens can use a refresh-token grant; when that grant fails
it is up to ``fetch`` to fall back to its primary grant. Errors raised by ``fetch`` reach the
callers of :meth:`TokenCache.get` unchanged, so ``fetch`` should raise the classified errors
of :mod:`connector.errors` (a bad client secret is a ``ConfigurationError``, an unreachable
identity provider an ``UnavailableError``).

Times are on the monotonic clock: ``expires_at`` is ``clock() + expires_in`` at the moment
the token arrived (:meth:`Token.expiring_in` does the sum). Neither ``Token.__repr__`` nor
any message here ever shows the access or refresh token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

import anyio
import msgspec

from connector.errors import ConnectorError

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Token:
    """One access token, with the moment (monotonic clock) it stops being accepted."""

    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)

    @classmethod
    def expiring_in(
        cls,
        access_token: str,
        expires_in_s: float,
        refresh_token: str | None = None,
        *,
        clock: Clock = time.monotonic,
    ) -> Token:
        """A token that the server said lives ``expires_in_s`` seconds from now."""
        return cls(access_token, clock() + expires_in_s, refresh_token)

    def __repr__(self) -> str:
        refresh = "<hidden>" if self.refresh_token is not None else "None"
        return (
            f"Token(access_token=<hidden>, expires_at={self.expires_at:.1f}, "
            f"refresh_token={refresh})"
        )


class TokenState(msgspec.Struct, frozen=True):
    """What ``/healthz`` reports about a token: no secret, only its status and time left."""

    #: ``valid`` (usable, not yet due for refresh), ``expiring`` (within the refresh margin;
    #: the next request refreshes it) or ``none`` (no token, or an expired one).
    status: Literal["valid", "expiring", "none"]
    seconds_left: float


class _Flight:
    """One fetch in progress, awaited by every caller that needs its result."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.token: Token | None = None
        self.error: BaseException | None = None


class TokenCache:
    """The current token of one credential; see the module docstring for the contract.

    ``refresh_margin_s`` is how long before expiry a token is renewed (the Infor sheet asks
    for 60–300 s). ``name`` appears in logs. ``revoke``, if given, is called with the current
    token by :meth:`close` (Infor revokes its tokens on shutdown).
    """

    def __init__(
        self,
        fetch: Callable[[Token | None], Awaitable[Token]],
        *,
        refresh_margin_s: float,
        name: str,
        clock: Clock = time.monotonic,
        revoke: Callable[[Token], Awaitable[None]] | None = None,
    ) -> None:
        if refresh_margin_s < 0:
            raise ValueError(f"token cache {name}: refresh_margin_s must be >= 0")
        self.name = name
        self.refresh_margin_s = refresh_margin_s
        self._fetch = fetch
        self._revoke = revoke
        self._clock = clock
        self._current: Token | None = None
        self._refresh_at = 0.0
        self._previous: Token | None = None
        self._flight: _Flight | None = None
        #: Fetches completed successfully (the first one included).
        self.refresh_total = 0

    def __repr__(self) -> str:
        state = self.state()
        return f"TokenCache(name={self.name!r}, status={state.status!r})"

    async def get(self) -> Token:
        """A token fit to send now, fetching one (once, for everybody) if needed."""
        while True:
            token = self._current
            if token is not None and self._clock() < self._refresh_at:
                return token
            flight = self._flight
            if flight is None:
                return await self._run_fetch()
            await flight.done.wait()
            if flight.error is not None:
                raise flight.error
            if flight.token is not None:
                return flight.token
            # The fetching caller was cancelled before it finished; one of us fetches anew.

    async def invalidate(self, token: Token) -> None:
        """Forget ``token`` after the server rejected it, unless it was already replaced."""
        if self._current is not None and self._current.access_token == token.access_token:
            self._current = None

    def state(self) -> TokenState:
        """Status and seconds left of the current token, for ``/healthz``."""
        token = self._current
        if token is None:
            return TokenState("none", 0.0)
        now = self._clock()
        left = token.expires_at - now
        if left <= 0:
            return TokenState("none", 0.0)
        if now >= self._refresh_at:
            return TokenState("expiring", left)
        return TokenState("valid", left)

    async def close(self) -> None:
        """Revoke the current token (if a ``revoke`` hook was given) and forget it.

        A revocation that fails is logged and otherwise ignored: the token lapses on its own
        at expiry, and shutting down must not hang on an identity provider.
        """
        token, self._current, self._previous = self._current, None, None
        if token is None or self._revoke is None:
            return
        try:
            await self._revoke(token)
        except ConnectorError as exc:
            log.warning("token cache %s: revoking the token on shutdown failed: %s", self.name, exc)

    async def _run_fetch(self) -> Token:
        flight = self._flight = _Flight()
        try:
            token = await self._fetch(self._current or self._previous)
        except BaseException as exc:
            # Cancellation is not handed to the waiters: they loop and one of them fetches.
            if not isinstance(exc, anyio.get_cancelled_exc_class()):
                flight.error = exc
            raise
        else:
            flight.token = token
            self._current = self._previous = token
            now = self._clock()
            lifetime = token.expires_at - now
            self._refresh_at = now + max(lifetime - self.refresh_margin_s, lifetime / 2)
            self.refresh_total += 1
            return token
        finally:
            self._flight = None
            flight.done.set()
