"""Who may use the console: a login with the admin bearer token, a session cookie, and a
CSRF token on every form.

A browser cannot send the admin API's ``Authorization: Bearer`` header by itself, so the
login page takes the same token once and answers with a session cookie (HttpOnly,
SameSite=Strict, lost when the service restarts). Every session carries a random CSRF
token: each form holds it in a hidden field and every POST must return it, so another
site open in the same browser cannot submit the console's forms. The login form is a form
too: a visitor gets an anonymous session, with its CSRF token, before logging in.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Middleware

COOKIE = "mlc_session"
#: A session ends after this long without a request.
IDLE_S = 8 * 3600.0
#: Sessions kept at most (the oldest go first): a flood of anonymous visits stays bounded.
MAX_SESSIONS = 1000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Session:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    authenticated: bool = False
    seen_at: float = field(default_factory=time.monotonic)
    #: Messages for the next page shown (what an action did), then cleared.
    flash: list[str] = field(default_factory=list)


class Sessions:
    """The console's sessions, in memory. ``token`` None: no admin token is configured,
    so (as for /healthz and /metrics) every visitor is let in; CSRF still applies."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self._sessions: dict[str, Session] = {}

    def get(self, request: web.Request) -> Session | None:
        session = self._sessions.get(request.cookies.get(COOKIE, ""))
        if session is None:
            return None
        now = time.monotonic()
        if now - session.seen_at > IDLE_S:
            self._sessions.pop(request.cookies.get(COOKIE, ""), None)
            return None
        session.seen_at = now
        return session

    def start(self, response: web.StreamResponse, *, authenticated: bool) -> Session:
        """A new session, its cookie set on ``response`` (a new id, so a login never reuses
        an id seen before it)."""
        key, session = self.create(authenticated=authenticated)
        self.set_cookie(response, key)
        return session

    def create(self, *, authenticated: bool) -> tuple[str, Session]:
        while len(self._sessions) >= MAX_SESSIONS:
            oldest = min(self._sessions, key=lambda k: self._sessions[k].seen_at)
            del self._sessions[oldest]
        key = secrets.token_urlsafe(32)
        session = Session(authenticated=authenticated or self.token is None)
        self._sessions[key] = session
        return key, session

    @staticmethod
    def set_cookie(response: web.StreamResponse, key: str) -> None:
        response.set_cookie(COOKIE, key, httponly=True, samesite="Strict", path="/console")

    def end(self, request: web.Request, response: web.StreamResponse) -> None:
        self._sessions.pop(request.cookies.get(COOKIE, ""), None)
        response.del_cookie(COOKIE, path="/console")

    def token_matches(self, given: str) -> bool:
        if self.token is None:
            return True
        return hmac.compare_digest(given.encode(), self.token.encode())


def csrf_ok(session: Session, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), session.csrf.encode())


def guard(sessions: Sessions) -> Middleware:
    """Middleware for /console: pages need a logged-in session, POSTs also a valid CSRF
    token. The login page itself only needs the CSRF token of its anonymous session."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/console"):
            return await handler(request)
        if request.path.startswith("/console/static/"):
            return await handler(request)
        session = sessions.get(request)
        if request.method == "POST":
            form = await request.post()
            if session is None or not csrf_ok(session, form.get("csrf")):
                raise web.HTTPForbidden(
                    text="This form has expired or did not come from the console (CSRF "
                    "check failed). Reload the page and submit it again."
                )
        if request.path == "/console/login":
            return await handler(request)
        if session is None or not session.authenticated:
            if sessions.token is None:
                response = web.HTTPFound(request.path_qs)
                sessions.start(response, authenticated=True)
                raise response
            raise web.HTTPFound("/console/login")
        request["session"] = session
        return await handler(request)

    return middleware
