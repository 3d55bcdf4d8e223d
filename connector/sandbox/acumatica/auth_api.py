"""Sign-in endpoints: OAuth 2.0 token + discovery, cookie login/logout, and the caller check.

``POST /identity/connect/token`` takes a form: the password grant (``client_id`` shaped
``<GUID>@<Company>``, ``client_secret``, ``username``, ``password``, ``scope=api`` plus
``offline_access`` for a refresh token) or the refresh grant. ``api:concurrent_access`` in
the scope is refused with ``invalid_scope`` (the known failure of real instances).
``/entity/auth/login`` opens a cookie session that holds one of the licence's API logins
until ``/entity/auth/logout`` or the idle timeout; past the limit it answers 429 with
"API Login Limit" in the body, which is what the official client looks for.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from aiohttp import web

from connector.sandbox.acumatica.auth import CookieSessions, OAuthTokens
from connector.sandbox.acumatica.knobs import (
    CLIENT_ID,
    CLIENT_SECRET,
    COMPANY,
    PASSWORD,
    SESSION_COOKIE,
    USERNAME,
    AcumaticaKnobs,
)
from connector.sandbox.acumatica.responses import bad_request, http_error, oauth_error, unauthorized
from connector.sandbox.acumatica.tenant import Tenant
from connector.sandbox.base import json_response, monotonic, read_json

_SCOPES = frozenset({"api", "offline_access"})


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


class AuthRoutes:
    """Mixin of the simulator: the sign-in handlers and :meth:`caller_branch`."""

    knobs: AcumaticaKnobs
    counters: dict[str, int]
    tenant: Tenant
    tokens: OAuthTokens
    sessions: CookieSessions

    def instance_url(self) -> str:
        raise NotImplementedError

    async def token(self, request: web.Request) -> web.Response:
        self.counters["token_requests"] = self.counters.get("token_requests", 0) + 1
        if request.content_type != "application/x-www-form-urlencoded":
            return oauth_error("invalid_request", "The token request must be form-encoded.")
        form = await request.post()
        fields = {key: str(value) for key, value in form.items()}
        client_id, client_secret = _client_credentials(request, fields)
        if not (_same(client_id, CLIENT_ID) and _same(client_secret, CLIENT_SECRET)):
            return oauth_error(
                "invalid_client",
                "Unknown client or wrong client secret; the "
                "client id must be <GUID>@<Company> of this tenant.",
            )
        grant = fields.get("grant_type", "")
        now = monotonic()
        if grant == "password":
            if not (
                _same(fields.get("username", ""), USERNAME)
                and _same(fields.get("password", ""), PASSWORD)
            ):
                return oauth_error("invalid_grant", "Wrong user name or password.")
            scopes = set(fields.get("scope", "").split())
            if "api:concurrent_access" in scopes:
                return oauth_error(
                    "invalid_scope",
                    "The scope api:concurrent_access is "
                    "refused; request 'api' (and 'offline_access').",
                )
            if "api" not in scopes or scopes - _SCOPES:
                return oauth_error(
                    "invalid_scope", "The scope must be 'api', optionally with 'offline_access'."
                )
            offline = "offline_access" in scopes
        elif grant == "refresh_token":
            if not self.tokens.redeem_refresh(fields.get("refresh_token", ""), now):
                return oauth_error(
                    "invalid_grant",
                    "The refresh token is unknown, used or "
                    "expired; sign in again with the password grant.",
                )
            scopes, offline = {"api", "offline_access"}, True
        else:
            return oauth_error(
                "unsupported_grant_type", "Use grant_type=password or grant_type=refresh_token."
            )
        issued = self.tokens.issue(
            now, self.knobs.token_lifetime_s, self.knobs.refresh_token_lifetime_s, offline
        )
        body: dict[str, Any] = {
            "access_token": issued.access_token,
            "expires_in": issued.expires_in,
            "token_type": "Bearer",
            "scope": " ".join(sorted(scopes)),
        }
        if issued.refresh_token is not None:
            body["refresh_token"] = issued.refresh_token
        return json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def discovery(self, request: web.Request) -> web.Response:
        identity = f"{self.instance_url()}/identity"
        return json_response(
            {
                "issuer": identity,
                "authorization_endpoint": f"{identity}/connect/authorize",
                "token_endpoint": f"{identity}/connect/token",
                "userinfo_endpoint": f"{identity}/connect/userinfo",
                "end_session_endpoint": f"{identity}/connect/endsession",
                "scopes_supported": [
                    "openid",
                    "profile",
                    "api",
                    "offline_access",
                    "api:concurrent_access",
                ],
                "grant_types_supported": [
                    "authorization_code",
                    "implicit",
                    "password",
                    "refresh_token",
                ],
                "response_types_supported": ["code", "token", "id_token", "code id_token"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
            }
        )

    async def login(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            return bad_request(
                "The login body must be a JSON object with name, password, "
                "company and optionally branch."
            )
        name, password = str(body.get("name", "")), str(body.get("password", ""))
        company = str(body.get("company", "") or COMPANY)
        branch = str(body.get("branch", "") or self.tenant.default_branch())
        if not (_same(name, USERNAME) and _same(password, PASSWORD)) or (
            company.casefold() != COMPANY.casefold()
        ):
            return http_error(
                500, "An error has occurred.", "Invalid credentials. Please try again."
            )
        if not self.tenant.is_branch(branch):
            return http_error(
                500,
                "An error has occurred.",
                f"The branch {branch!r} does not exist in company {COMPANY}.",
            )
        now = monotonic()
        limit = self.knobs.api_login_limit
        open_now = self.sessions.open_count(now, self.knobs.session_timeout_s)
        if limit and open_now >= limit:
            return http_error(
                429,
                "API Login Limit",
                f"API Login Limit: the licence allows {limit} concurrent API logins and "
                f"{open_now} are open. Log out with /entity/auth/logout when done, or wait "
                "for idle sessions to time out.",
            )
        session_id = self.sessions.open(now, branch)
        response = web.Response(status=204)
        path = f"{self.knobs.instance_path()}/"
        response.set_cookie(SESSION_COOKIE, session_id, path=path, httponly=True)
        response.set_cookie(".ASPXAUTH", secrets.token_hex(16), path=path, httponly=True)
        response.set_cookie("UserBranch", branch, path=path)
        return response

    async def logout(self, request: web.Request) -> web.Response:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id is not None:
            self.sessions.close(session_id)
        response = web.Response(status=204)
        path = f"{self.knobs.instance_path()}/"
        response.del_cookie(SESSION_COOKIE, path=path)
        response.del_cookie(".ASPXAUTH", path=path)
        return response

    def caller_branch(self, request: web.Request) -> str | web.Response:
        """The branch the caller works in, or the 401 for a caller who is not signed in.

        A bearer token wins over a cookie; ``PX-CbApiBranch`` overrides the branch.
        """
        authorization = request.headers.get("Authorization", "")
        now = monotonic()
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not self.tokens.is_valid(token.strip(), now):
                return unauthorized(
                    "The bearer token is unknown or expired; request a new "
                    "one from /identity/connect/token."
                )
            branch = self.tenant.default_branch()
        else:
            session_id = request.cookies.get(SESSION_COOKIE)
            session = (
                None
                if session_id is None
                else self.sessions.touch(session_id, now, self.knobs.session_timeout_s)
            )
            if session is None:
                return unauthorized(
                    "Send a bearer token, or sign in with /entity/auth/login "
                    "and send its session cookie."
                )
            branch = session.branch
        override = request.headers.get("PX-CbApiBranch")
        if override:
            if not self.tenant.is_branch(override):
                return bad_request(
                    f"PX-CbApiBranch names branch {override!r}, which does not exist."
                )
            branch = override
        return branch


def _client_credentials(request: web.Request, fields: dict[str, str]) -> tuple[str, str]:
    """Client id and secret from the form, or from HTTP Basic as IdentityServer allows."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return fields.get("client_id", ""), fields.get("client_secret", "")
