"""Who is calling: OAuth tokens (``/oauth_token.do``), revocation, and Basic auth.

Grants (form bodies only; any failure is the same opaque 401, the cause only "logged"):
``password`` → access + refresh token; ``refresh_token`` → access token only, the refresh
token unchanged; ``client_credentials`` (a knob, as instances ship it off) → access token for
the OAuth application user, no refresh token; ``authorization_code`` with a one-time code
handed out by ``/_sandbox/credentials`` (standing in for a person's browser consent) → access
+ refresh token. Asking again while the user's access token is valid returns the same token.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass

from aiohttp import web

from connector.sandbox.base import json_response, monotonic
from connector.sandbox.servicenow.knobs import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEFAULT_ROLES,
    INTERACTIVE_PASSWORD,
    INTERACTIVE_USER,
    SERVICE_PASSWORD,
    SERVICE_USER,
    ServiceNowKnobs,
)
from connector.sandbox.servicenow.responses import not_authenticated, token_refused

PASSWORDS = {SERVICE_USER: SERVICE_PASSWORD, INTERACTIVE_USER: INTERACTIVE_PASSWORD}
INTERACTIVE = frozenset({INTERACTIVE_USER})


@dataclass
class Issued:
    user: str
    expires_at: float
    revoked: bool = False

    def alive(self, now: float) -> bool:
        return not self.revoked and now < self.expires_at


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


class OAuth:
    """Issued tokens and one-time authorization codes."""

    def __init__(self) -> None:
        self.access: dict[str, Issued] = {}
        self.refresh: dict[str, Issued] = {}
        self.codes: dict[str, str] = {}
        self._current: dict[str, str] = {}
        self.refused = 0
        self.log: list[str] = []

    def issue_code(self, user: str = SERVICE_USER) -> str:
        code = secrets.token_urlsafe(12)
        self.codes[code] = user
        return code

    def issue_refresh(self, user: str, knobs: ServiceNowKnobs) -> str:
        token = secrets.token_urlsafe(32)
        self.refresh[token] = Issued(user, monotonic() + knobs.refresh_token_lifetime_s)
        return token

    def _access_for(self, user: str, knobs: ServiceNowKnobs) -> tuple[str, int]:
        now = monotonic()
        current = self._current.get(user)
        issued = self.access.get(current) if current else None
        if current is not None and issued is not None and issued.alive(now):
            return current, int(issued.expires_at - now)
        token = secrets.token_urlsafe(32)
        self.access[token] = Issued(user, now + knobs.access_token_lifetime_s)
        self._current[user] = token
        return token, int(knobs.access_token_lifetime_s) - 1

    def _refuse(self, why: str) -> web.Response:
        self.refused += 1
        self.log.append(why)
        return token_refused()

    async def token(self, request: web.Request, knobs: ServiceNowKnobs) -> web.Response:
        if request.content_type != "application/x-www-form-urlencoded":
            return self._refuse("token request body is not form-encoded")
        form = {key: str(value) for key, value in (await request.post()).items()}
        if not (
            _same(form.get("client_id", ""), CLIENT_ID)
            and _same(form.get("client_secret", ""), CLIENT_SECRET)
        ):
            return self._refuse("unknown client_id or wrong client_secret")
        grant = form.get("grant_type", "")
        refresh: str | None = None
        if grant == "password":
            user = form.get("username", "")
            if user not in PASSWORDS or not _same(form.get("password", ""), PASSWORDS[user]):
                return self._refuse("wrong username or password")
            refresh = self.issue_refresh(user, knobs)
        elif grant == "refresh_token":
            issued = self.refresh.get(form.get("refresh_token", ""))
            if issued is None or not issued.alive(monotonic()):
                return self._refuse("refresh token unknown, revoked or expired")
            user = issued.user
        elif grant == "client_credentials":
            if not knobs.client_credentials_enabled:
                return self._refuse("client_credentials grant is not enabled")
            user = SERVICE_USER
        elif grant == "authorization_code":
            code_user = self.codes.pop(form.get("code", ""), None)
            if code_user is None:
                return self._refuse("authorization code unknown or used")
            user = code_user
            refresh = self.issue_refresh(user, knobs)
        else:
            return self._refuse(f"unsupported grant_type {grant!r}")
        access, expires_in = self._access_for(user, knobs)
        body: dict[str, object] = {
            "access_token": access,
            "scope": "useraccount",
            "token_type": "Bearer",
            "expires_in": expires_in,
        }
        if refresh is not None:
            body["refresh_token"] = refresh
        return json_response(body)

    async def revoke(self, request: web.Request) -> web.Response:
        token = request.query.get("token", "")
        for store in (self.access, self.refresh):
            if token in store:
                store[token].revoked = True
        return web.Response(status=200)

    def active(self) -> int:
        now = monotonic()
        return sum(1 for issued in self.access.values() if issued.alive(now))


def caller(request: web.Request, oauth: OAuth, knobs: ServiceNowKnobs) -> str | web.Response:
    """The user name behind a request, or the 401 to answer."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        issued = oauth.access.get(value.strip())
        if issued is None or not issued.alive(monotonic()):
            return not_authenticated()
        return issued.user
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return not_authenticated()
        if user not in PASSWORDS or not _same(password, PASSWORDS[user]):
            return not_authenticated()
        if user in knobs.basic_mfa_users:
            response = not_authenticated()
            response.headers["X-MFA_TOKEN"] = "invalid"
            return response
        if knobs.refuse_basic_for_interactive and user in INTERACTIVE:
            return not_authenticated()
        return user
    return not_authenticated()


def roles_of(user: str, knobs: ServiceNowKnobs) -> frozenset[str]:
    return frozenset(knobs.user_roles.get(user, DEFAULT_ROLES.get(user, [])))
