"""The two ways in: OAuth 2.0 bearer tokens and cookie sessions that hold an API login.

Both stores take the current time as an argument (the simulator passes ``monotonic()``) so
lifetimes are knobs, not sleeps. Token and session values are random and never logged.
"""

from __future__ import annotations

import secrets

import msgspec


class TokenGrant:
    """What the token endpoint hands out for one successful grant (its repr hides tokens)."""

    __slots__ = ("access_token", "expires_in", "refresh_token")

    def __init__(self, access_token: str, expires_in: int, refresh_token: str | None) -> None:
        self.access_token = access_token
        self.expires_in = expires_in
        self.refresh_token = refresh_token

    def __repr__(self) -> str:
        return (
            f"TokenGrant(expires_in={self.expires_in}, "
            f"refresh_token={'<set>' if self.refresh_token else None})"
        )


class OAuthTokens:
    """Issued access and refresh tokens with their expiry instants.

    Refresh tokens are one-time: redeeming one invalidates it and issues a new pair, the
    IdentityServer default a client must cope with (keep the newest refresh token).
    """

    def __init__(self) -> None:
        self._access: dict[str, float] = {}
        self._refresh: dict[str, float] = {}

    def issue(
        self, now: float, lifetime_s: float, refresh_lifetime_s: float, offline: bool
    ) -> TokenGrant:
        access = secrets.token_urlsafe(32)
        self._access[access] = now + lifetime_s
        refresh = None
        if offline:
            refresh = secrets.token_urlsafe(32)
            self._refresh[refresh] = now + refresh_lifetime_s
        return TokenGrant(access, max(0, round(lifetime_s)), refresh)

    def is_valid(self, token: str, now: float) -> bool:
        expiry = self._access.get(token)
        if expiry is None:
            return False
        if now >= expiry:
            del self._access[token]
            return False
        return True

    def redeem_refresh(self, token: str, now: float) -> bool:
        """Whether ``token`` is a live refresh token; it is used up either way."""
        expiry = self._refresh.pop(token, None)
        return expiry is not None and now < expiry

    def active(self, now: float) -> int:
        return sum(1 for expiry in self._access.values() if now < expiry)


class Session(msgspec.Struct):
    """One cookie session: the branch it signed in to and when it was last used."""

    branch: str
    last_seen: float


class CookieSessions:
    """Open ``/entity/auth/login`` sessions; each holds one API login until logout or timeout.

    The timeout is sliding, like an ASP.NET session: every request made with the cookie
    pushes it back.
    """

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def open_count(self, now: float, timeout_s: float) -> int:
        """Sessions still alive at ``now``; expired ones are dropped."""
        expired = [sid for sid, s in self._sessions.items() if now >= s.last_seen + timeout_s]
        for sid in expired:
            del self._sessions[sid]
        return len(self._sessions)

    def open(self, now: float, branch: str) -> str:
        session_id = secrets.token_hex(12)
        self._sessions[session_id] = Session(branch=branch, last_seen=now)
        return session_id

    def close(self, session_id: str) -> bool:
        return self._sessions.pop(session_id, None) is not None

    def touch(self, session_id: str, now: float, timeout_s: float) -> Session | None:
        """The live session for a cookie value (its timeout pushed back), or None."""
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if now >= session.last_seen + timeout_s:
            del self._sessions[session_id]
            return None
        session.last_seen = now
        return session
