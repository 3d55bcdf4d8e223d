"""Signing in to IFS Cloud: IFS IAM (Keycloak) client-credentials tokens.

``POST {url}/auth/realms/{realm}/protocol/openid-connect/token``, form-encoded, grant
``client_credentials`` with the IAM client's id and secret and ``scope=openid
microprofile-jwt`` (sheet §1). Access tokens live 180 s by default (IAM administrators may
lengthen them), so a long run spans many: the connection's TokenCache renews each one
``token_refresh_margin_s`` before it ends. When Keycloak hands out a refresh token the next
token is fetched with it; a refresh token that is no longer active falls back to the client
credentials grant.

Refusals become the error tree: a wrong client id or secret is an ``AuthError`` naming the
credential; an unknown realm (404) a ``ConfigurationError`` naming the URL to fix. Nothing
here ever puts a secret, a token or a form body into a message or a log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from connector.errors import AuthError, ConfigurationError, ConnectorError, RejectedError
from connector.http.client import HttpClient, HttpResponse
from connector.http.oauth import OAuthError, token_grant
from connector.http.tokens import Token
from connector.systems.ifs.problems import SYSTEM

log = logging.getLogger(__name__)

SCOPE = "openid microprofile-jwt"
#: Lifetime assumed when the token answer leaves ``expires_in`` out (the 24R2 default).
DEFAULT_EXPIRES_IN_S = 180.0


@dataclass(frozen=True)
class IamClient:
    """The IAM client the connector signs in as (its secret hidden from ``repr``)."""

    credential_name: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)


class TokenGrants:
    """The ``fetch`` of the connection's TokenCache: client credentials and refresh grants."""

    def __init__(self, http: HttpClient, client: IamClient) -> None:
        self._http = http
        self._client = client

    def __repr__(self) -> str:
        return f"TokenGrants(client={self._client!r})"

    async def __call__(self, previous: Token | None) -> Token:
        if previous is not None and previous.refresh_token:
            answer = await self._grant(
                {"grant_type": "refresh_token", "refresh_token": previous.refresh_token}
            )
            if isinstance(answer, Token):
                return answer
            if answer.error != "invalid_grant":
                raise self._refusal("refresh_token", answer)
            log.info(
                "ifs %s: refresh token no longer active; using client credentials",
                self._client.token_url,
            )
        answer = await self._grant({"grant_type": "client_credentials", "scope": SCOPE})
        if isinstance(answer, OAuthError):
            raise self._refusal("client_credentials", answer)
        return answer

    async def _grant(self, form: dict[str, str]) -> Token | OAuthError:
        client = self._client

        def not_found(response: HttpResponse) -> ConnectorError:
            return ConfigurationError(
                f"IFS IAM has no token endpoint at {response.path} (HTTP 404): check `url` and "
                f"`realm` of the IFS system in the config or credential {client.credential_name!r}"
                " (the realm is the IFS namespace, as in /auth/realms/<namespace>/…)",
                system=SYSTEM,
            )

        return await token_grant(
            self._http,
            client.token_url,
            client_id=client.client_id,
            client_secret=client.client_secret,
            form=form,
            default_expires_in=DEFAULT_EXPIRES_IN_S,
            not_found=not_found,
        )

    def _refusal(self, grant: str, answer: OAuthError) -> ConnectorError:
        said = answer.error or "an unexplained refusal"
        if answer.error_description:
            said += f" ({' '.join(answer.error_description.split())})"
        name = self._client.credential_name
        where = f"IFS IAM refused the {grant} grant: {said}"
        if answer.error in ("unauthorized_client", "invalid_client", "invalid_grant"):
            return AuthError(
                f"{where}. Check client_id and client_secret of credential {name!r} against the "
                "IAM client in IFS (it must be confidential with 'Service Accounts' enabled and "
                f"a service user), then store them again with `ml-connector creds set {name} "
                "--kind ifs`.",
                system=SYSTEM,
            )
        return RejectedError(
            f"{where}. IFS IAM answered in a way the connector does not expect; report it with "
            "this message.",
            system=SYSTEM,
            code=answer.error or "oauth_error",
        )
