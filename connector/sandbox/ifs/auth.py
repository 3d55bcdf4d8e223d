"""IFS IAM: a Keycloak realm's token endpoint, discovery document and revocation.

``POST /auth/realms/{realm}/protocol/openid-connect/token`` (form-encoded) grants
``client_credentials``, ``password`` and ``refresh_token`` (sheet §1). Refusals follow
Keycloak: a wrong client is 401 ``unauthorized_client``, a wrong user 401 ``invalid_grant``,
a dead refresh token 400 ``invalid_grant`` "Token is not active". Lifetimes are knobs and
tokens are random strings that are never logged.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from aiohttp import web

from connector.sandbox.base import json_response, monotonic
from connector.sandbox.ifs.knobs import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    REALM,
    USERNAME,
    IfsKnobs,
)
from connector.sandbox.ifs.responses import oauth_error

SCOPE = "openid audience microprofile-jwt email profile"


class Iam:
    """Issued access and refresh tokens with their expiry instants (monotonic clock)."""

    def __init__(self) -> None:
        self.access: dict[str, float] = {}
        self.refresh: dict[str, float] = {}
        self.requests = 0

    def is_valid(self, token: str) -> bool:
        expiry = self.access.get(token)
        if expiry is None:
            return False
        if monotonic() >= expiry:
            del self.access[token]
            return False
        return True

    def active(self) -> int:
        now = monotonic()
        return sum(1 for expiry in self.access.values() if now < expiry)

    async def token(self, request: web.Request, knobs: IfsKnobs) -> web.Response:
        self.requests += 1
        form = await request.post()
        fields = {name: str(value) for name, value in form.items()}
        if fields.get("client_id") != CLIENT_ID or fields.get("client_secret") != CLIENT_SECRET:
            return oauth_error(
                401, "unauthorized_client", "Invalid client or Invalid client credentials"
            )
        grant = fields.get("grant_type")
        if grant == "client_credentials":
            return self._grant(knobs, knobs.refresh_token_on_client_credentials)
        if grant == "password":
            if fields.get("username") != USERNAME or fields.get("password") != PASSWORD:
                return oauth_error(401, "invalid_grant", "Invalid user credentials")
            return self._grant(knobs, True)
        if grant == "refresh_token":
            expiry = self.refresh.pop(fields.get("refresh_token", ""), None)
            if expiry is None or monotonic() >= expiry:
                return oauth_error(400, "invalid_grant", "Token is not active")
            return self._grant(knobs, True)
        return oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type {grant!r}")

    def _grant(self, knobs: IfsKnobs, with_refresh: bool) -> web.Response:
        now = monotonic()
        access = f"eyJhbGciOiJSUzI1NiJ9.{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(16)}"
        self.access[access] = now + knobs.token_lifetime_s
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": max(0, round(knobs.token_lifetime_s)),
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "id_token": f"eyJhbGciOiJSUzI1NiJ9.{secrets.token_urlsafe(16)}.c2ln",
            "not-before-policy": 0,
            "session_state": str(uuid.uuid4()),
            "scope": SCOPE,
        }
        if with_refresh:
            refresh = f"eyJhbGciOiJIUzI1NiJ9.{secrets.token_urlsafe(24)}.c2ln"
            self.refresh[refresh] = now + knobs.refresh_token_lifetime_s
            body["refresh_token"] = refresh
            body["refresh_expires_in"] = max(0, round(knobs.refresh_token_lifetime_s))
        return json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def revoke(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return oauth_error(
                401, "unauthorized_client", "Invalid client or Invalid client credentials"
            )
        token = str(form.get("token", ""))
        self.access.pop(token, None)
        self.refresh.pop(token, None)
        return web.Response(status=200)


def discovery(base_url: str) -> web.Response:
    issuer = f"{base_url}/auth/realms/{REALM}"
    oidc = f"{issuer}/protocol/openid-connect"
    return json_response(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{oidc}/auth",
            "token_endpoint": f"{oidc}/token",
            "revocation_endpoint": f"{oidc}/revoke",
            "end_session_endpoint": f"{oidc}/logout",
            "grant_types_supported": ["client_credentials", "password", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "scopes_supported": ["openid", "microprofile-jwt", "email", "profile", "audience"],
        }
    )
