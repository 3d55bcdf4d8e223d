"""The tenant's SSO (PingFederate paths under ``/{ti}/as/``): credentials, tokens, revocation.

Tokens are opaque to clients (the access token merely looks like a JWT). Each password
grant starts a *family*; a refresh grant rotates the family's refresh token (the old one
dies at once) and issues a new access token in the same family. Revoking a refresh token
kills its whole family, access tokens included; revoking an access token kills only it.
Nothing here logs or reprs a secret.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

from aiohttp import web

from connector.sandbox.base import monotonic
from connector.sandbox.infor.knobs import InforKnobs


@dataclass(frozen=True)
class TenantCredentials:
    """What the ``.ionapi`` file of the test tenant carries; secrets stay out of ``repr``."""

    tenant: str
    client_id: str
    client_secret: str = field(repr=False)
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)

    @classmethod
    def generate(cls, tenant: str) -> TenantCredentials:
        return cls(
            tenant=tenant,
            client_id=f"{tenant}~{secrets.token_urlsafe(24)}",
            client_secret=secrets.token_urlsafe(32),
            access_key=f"{tenant}#{secrets.token_urlsafe(48)}",
            secret_key=secrets.token_urlsafe(32),
        )

    def ionapi(self, base_url: str) -> dict[str, str]:
        """The ``.ionapi`` JSON as downloaded for a Backend Service app with a service
        account; SSO and gateway share the simulator's one base URL."""
        root = base_url.rstrip("/")
        return {
            "ti": self.tenant,
            "cn": "ml-connector sandbox",
            "dt": "12",
            "ci": self.client_id,
            "cs": self.client_secret,
            "iu": root,
            "pu": f"{root}/{self.tenant}/as/",
            "oa": "authorization.oauth2",
            "ot": "token.oauth2",
            "or": "revoke_token.oauth2",
            "ev": "U1469125421",
            "v": "1.0",
            "saak": self.access_key,
            "sask": self.secret_key,
        }


@dataclass
class IssuedToken:
    """One token the SSO handed out (the token string itself is the store's key)."""

    kind: Literal["access", "refresh"]
    client_id: str
    family: int
    expires_at: float | None
    revoked: bool = False

    def alive(self, now: float) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


class TokenStore:
    """Every token issued, with the grant family it belongs to."""

    def __init__(self, tenant: str) -> None:
        self._tenant = tenant
        self._tokens: dict[str, IssuedToken] = {}
        self._families = 0

    def issue(self, client_id: str, knobs: InforKnobs, family: int | None = None) -> dict[str, Any]:
        """Mint an access token (and a refresh token if the app issues them); the body of
        a successful token response."""
        now = monotonic()
        if family is None:
            self._families += 1
            family = self._families
        access = self._jwt_lookalike(family)
        self._tokens[access] = IssuedToken(
            "access", client_id, family, now + max(0.0, knobs.token_lifetime_s)
        )
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(max(0.0, knobs.token_lifetime_s)),
        }
        if knobs.issue_refresh_tokens:
            refresh = secrets.token_urlsafe(32)
            lifetime = knobs.refresh_token_lifetime_s
            self._tokens[refresh] = IssuedToken(
                "refresh", client_id, family, now + lifetime if lifetime > 0 else None
            )
            body["refresh_token"] = refresh
        return body

    def _jwt_lookalike(self, family: int) -> str:
        def part(data: dict[str, Any]) -> str:
            raw = json.dumps(data, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        header = part({"kid": "sandbox", "alg": "RS256"})
        payload = part({"Tenant": self._tenant, "family": family, "jti": secrets.token_hex(8)})
        return f"{header}.{payload}.{secrets.token_urlsafe(32)}"

    def access(self, token: str) -> IssuedToken | None:
        """The live access token behind a bearer value, or None (unknown/expired/revoked)."""
        issued = self._tokens.get(token)
        if issued is None or issued.kind != "access" or not issued.alive(monotonic()):
            return None
        return issued

    def use_refresh(self, token: str, client_id: str) -> IssuedToken | None:
        """Consume a live refresh token of this client (rotation: it dies now)."""
        issued = self._tokens.get(token)
        if (
            issued is None
            or issued.kind != "refresh"
            or issued.client_id != client_id
            or not issued.alive(monotonic())
        ):
            return None
        issued.revoked = True
        return issued

    def revoke(self, token: str) -> None:
        issued = self._tokens.get(token)
        if issued is None:
            return
        issued.revoked = True
        if issued.kind == "refresh":
            for other in self._tokens.values():
                if other.family == issued.family:
                    other.revoked = True


def oauth_error(status: int, error: str, description: str) -> web.Response:
    """An RFC 6749 error body, as PingFederate sends it."""
    return web.json_response(
        {"error": error, "error_description": description},
        status=status,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def client_from_request(request: web.Request, form: dict[str, str]) -> tuple[str, str] | None:
    """The client id and secret from HTTP Basic, else from the form; None if neither."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        return (unquote(client_id), unquote(secret)) if sep else None
    if "client_id" in form:
        return form["client_id"], form.get("client_secret", "")
    return None


def client_is_valid(creds: TenantCredentials, client: tuple[str, str] | None) -> bool:
    return client is not None and (
        hmac.compare_digest(client[0], creds.client_id)
        and hmac.compare_digest(client[1], creds.client_secret)
    )


def password_grant_error(creds: TenantCredentials, form: dict[str, str]) -> web.Response | None:
    """Why a password grant is refused (None when saak/sask are right)."""
    username, password = form.get("username", ""), form.get("password", "")
    if not username or not password:
        return oauth_error(
            400,
            "invalid_request",
            "username (saak) and password (sask) are required for grant_type=password",
        )
    doubled = f"{creds.tenant}#{creds.tenant}#"
    if username.startswith(doubled):
        return oauth_error(
            400,
            "invalid_grant",
            "The service account access key carries the tenant prefix twice: saak in the "
            ".ionapi file already starts with 'TENANT#'; send it unchanged",
        )
    if not (
        hmac.compare_digest(username, creds.access_key)
        and hmac.compare_digest(password, creds.secret_key)
    ):
        return oauth_error(
            400,
            "invalid_grant",
            "Invalid service account credentials (saak/sask); download a fresh .ionapi file",
        )
    return None
