"""Signing in to a ServiceNow instance: three credential kinds, one token endpoint.

- ``servicenow-oauth`` (recommended): the ``client_credentials`` grant of an OAuth
  application registry whose "OAuth Application User" is the integration user. Instances
  ship this grant off: an admin sets
  ``glide.oauth.inbound.client.credential.grant_type.enabled=true``.
- ``servicenow-refresh-token``: a refresh token a person obtained once through the
  authorization-code flow; every access token comes from the ``refresh_token`` grant, which
  leaves the refresh token unchanged (100 days by default). When it dies, a person consents
  again.
- ``servicenow-basic``: Basic auth of a web-service-only user; no token endpoint.

``POST {instance}/oauth_token.do`` takes form bodies only. Every refusal is the same 401
``access_denied`` (the cause is only in the instance log), so the errors here list what to
check rather than what went wrong. Access tokens live 1800 s; the TokenCache renews them
``token_refresh_margin_s`` early, and after a 401 once. No message ever holds a secret.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import msgspec

from connector.errors import AuthError
from connector.http.client import HttpClient
from connector.http.tokens import Token
from connector.systems.servicenow.problems import SYSTEM, said
from connector.vault import Credential

OAUTH_KIND = "servicenow-oauth"
REFRESH_KIND = "servicenow-refresh-token"
BASIC_KIND = "servicenow-basic"
KINDS = (OAUTH_KIND, REFRESH_KIND, BASIC_KIND)
#: Lifetime assumed when the answer leaves ``expires_in`` out (the instance default).
DEFAULT_EXPIRES_IN_S = 1800.0


class TokenResponse(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: float = DEFAULT_EXPIRES_IN_S
    token_type: str = "Bearer"  # noqa: S105 - a token type, not a secret
    refresh_token: str | None = None


@dataclass(frozen=True)
class OAuthClient:
    """The application registry's client and, for the refresh kind, the person's token."""

    credential_name: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, credential: Credential) -> OAuthClient:
        refresh = credential.secret("refresh_token") if credential.kind == REFRESH_KIND else None
        return cls(
            credential.name,
            credential.secret("client_id"),
            credential.secret("client_secret"),
            refresh,
        )


def basic_header(credential: Credential) -> dict[str, str]:
    pair = f"{credential.secret('username')}:{credential.secret('password')}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")}


class TokenGrants:
    """The ``fetch`` of the connection's TokenCache: client-credentials or refresh grant."""

    def __init__(self, http: HttpClient, instance_url: str, client: OAuthClient) -> None:
        self._http = http
        self._instance_url = instance_url
        self._client = client

    def __repr__(self) -> str:
        return f"TokenGrants(instance={self._instance_url!r}, client={self._client!r})"

    async def __call__(self, previous: Token | None) -> Token:
        client = self._client
        form = {"client_id": client.client_id, "client_secret": client.client_secret}
        if client.refresh_token is not None:
            form |= {"grant_type": "refresh_token", "refresh_token": client.refresh_token}
        else:
            form |= {"grant_type": "client_credentials"}
        response = await self._http.request(
            "POST",
            f"{self._instance_url}/oauth_token.do",
            data=form,
            headers={"Accept": "application/json"},
            idempotent=True,
            record=f"{form['grant_type']} grant",
            ok_statuses=(200, 400, 401),
        )
        if response.status != 200:
            raise self._refusal(form["grant_type"], said(response))
        body = response.json(TokenResponse)
        return Token.expiring_in(body.access_token, body.expires_in, client.refresh_token)

    def _refusal(self, grant: str, answer: str) -> AuthError:
        name = self._client.credential_name
        where = (
            f"ServiceNow at {self._instance_url} refused the {grant} grant of credential "
            f"{name!r} ({answer}; the instance logs the cause in its system log)"
        )
        if grant == "refresh_token":
            advice = (
                "Check client_id and client_secret against the OAuth application "
                "registry; the refresh token may have expired (100 days by default) or "
                "been revoked: sign in through the authorization-code flow again and "
                f"store the new one with `ml-connector creds set {name} --kind "
                f"{REFRESH_KIND}`."
            )
        else:
            advice = (
                "Check client_id and client_secret against the OAuth application "
                "registry, that the instance allows the grant "
                "(glide.oauth.inbound.client.credential.grant_type.enabled=true) and "
                "that the registry names an OAuth Application User."
            )
        return AuthError(f"{where}. {advice}", system=SYSTEM)
