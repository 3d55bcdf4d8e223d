"""Signing in to an Acumatica instance: OAuth 2.0 tokens, and cookie sessions that always end.

**OAuth 2.0** (preferred): ``POST {instance}/identity/connect/token``, form-encoded, resource
owner password grant with the app's ``client_id`` (``<GUID>@<Company>``) and secret and an
API user's name and password. The scope is ``api offline_access``: ``api`` is the API itself,
``offline_access`` asks for a refresh token so the password is not sent every hour. Never
``api:concurrent_access``: instances refuse token requests that ask for it. An app that may
not have refresh tokens answers ``invalid_scope``; :class:`TokenGrants` then asks for ``api``
alone from then on. When a token carries a refresh token the next one is fetched with the
refresh grant (refresh tokens are one-time: the newest is kept); a refresh token that is
refused (expired, used) falls back to the password grant once.

Refusals become the error tree: a wrong client id or secret, or a wrong user name or
password, is an ``AuthError`` naming the credential to fix; a scope or grant the app does not
allow is a ``ConfigurationError`` naming the app setting. Nothing here ever puts a secret, a
token or a form body into a message or a log.

**Cookie sessions** (``POST /entity/auth/login`` … ``/entity/auth/logout``), for instances
where OAuth is not set up: every open session holds one of the licence's *API logins* until it
is logged out or times out, and when they run out every new login fails. That is a real
outage, so :func:`session_login` logs out in a ``finally``, whatever the body of the ``async
with`` did.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import msgspec

from connector.errors import (
    AuthError,
    ConfigurationError,
    ConnectorError,
    RateLimitedError,
    RejectedError,
)
from connector.http.client import HttpClient, HttpResponse
from connector.http.oauth import OAuthError, token_grant
from connector.http.tokens import Token
from connector.systems.acumatica.problems import SYSTEM, http_error

log = logging.getLogger(__name__)

SCOPE_WITH_REFRESH = "api offline_access"
SCOPE_WITHOUT_REFRESH = "api"
#: Lifetime assumed when the token answer leaves ``expires_in`` out.
DEFAULT_EXPIRES_IN_S = 3600.0


@dataclass(frozen=True)
class ApiUser:
    """Who signs in: the connected app and the API user (secrets hidden from ``repr``)."""

    credential_name: str
    client_id: str
    client_secret: str = field(repr=False)
    username: str
    password: str = field(repr=False)
    company: str | None = None

    @property
    def company_name(self) -> str | None:
        """The company (tenant) to sign in to: configured, else the client id's suffix."""
        if self.company:
            return self.company
        _, at, suffix = self.client_id.partition("@")
        return suffix if at and suffix else None


class TokenGrants:
    """The ``fetch`` of the connection's TokenCache: password and refresh-token grants."""

    def __init__(self, http: HttpClient, instance_url: str, user: ApiUser) -> None:
        self._http = http
        self._instance_url = instance_url
        self._token_url = f"{instance_url}/identity/connect/token"
        self._user = user
        self._scope = SCOPE_WITH_REFRESH

    def __repr__(self) -> str:
        return f"TokenGrants(instance={self._instance_url!r}, user={self._user!r})"

    async def __call__(self, previous: Token | None) -> Token:
        """A new token: by refresh grant when ``previous`` carries a refresh token, else (or
        when the refresh token is refused) by password grant."""
        if previous is not None and previous.refresh_token:
            token = await self.refresh(previous.refresh_token)
            if token is not None:
                return token
            log.info(
                "acumatica %s: refresh token refused; signing in with the password grant",
                self._instance_url,
            )
        return await self.password()

    async def password(self) -> Token:
        """The resource owner password grant (falls back to scope ``api`` if refused)."""
        form = {
            "grant_type": "password",
            "username": self._user.username,
            "password": self._user.password,
            "scope": self._scope,
        }
        answer = await self._grant(form)
        if isinstance(answer, OAuthError):
            if answer.error == "invalid_scope" and self._scope == SCOPE_WITH_REFRESH:
                log.info(
                    "acumatica %s: the app may not issue refresh tokens; asking for scope "
                    "'api' alone from now on",
                    self._instance_url,
                )
                self._scope = SCOPE_WITHOUT_REFRESH
                return await self.password()
            raise self._refusal("password", answer)
        return answer

    async def refresh(self, refresh_token: str) -> Token | None:
        """The refresh-token grant; None when the refresh token is refused (sign in again)."""
        answer = await self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token})
        if isinstance(answer, OAuthError):
            if answer.error == "invalid_grant":
                return None
            raise self._refusal("refresh_token", answer)
        return answer

    async def _grant(self, form: dict[str, str]) -> Token | OAuthError:
        def not_found(response: HttpResponse) -> ConnectorError:
            return ConfigurationError(
                f"Acumatica at {self._instance_url} has no identity endpoint "
                f"(POST {response.path} → HTTP 404): check `instance_url` (including any site "
                "path such as /AcumaticaERP) in the config or the credential",
                system=SYSTEM,
            )

        return await token_grant(
            self._http,
            self._token_url,
            client_id=self._user.client_id,
            client_secret=self._user.client_secret,
            form=form,
            default_expires_in=DEFAULT_EXPIRES_IN_S,
            not_found=not_found,
        )

    def _refusal(self, grant: str, answer: OAuthError) -> ConnectorError:
        said = answer.error or "an unexplained refusal"
        if answer.error_description:
            said += f" ({' '.join(answer.error_description.split())})"
        where = f"Acumatica at {self._instance_url} refused the {grant} grant: {said}"
        name = self._user.credential_name
        if answer.error == "invalid_client":
            return AuthError(
                f"{where}. Check client_id (shaped <GUID>@<Company>, for the company the "
                f"connector writes to) and client_secret of credential {name!r} against the "
                "connected application (screen SM303010), then store them again with "
                f"`ml-connector creds set {name} --kind acumatica`.",
                system=SYSTEM,
            )
        if answer.error == "invalid_grant":
            return AuthError(
                f"{where}. Check username and password of credential {name!r}: the API user "
                "must exist, be active and not be locked out.",
                system=SYSTEM,
            )
        if answer.error in ("invalid_scope", "unauthorized_client", "unsupported_grant_type"):
            return ConfigurationError(
                f"{where}. The connected application must allow the Resource Owner Password "
                "Credentials flow and the scope 'api' (screen SM303010).",
                system=SYSTEM,
            )
        return RejectedError(
            f"{where}. The identity server answered in a way the connector does not expect; "
            "report it with this message.",
            system=SYSTEM,
            code=answer.error or "oauth_error",
        )


# -- cookie sessions ----------------------------------------------------------------------
class LoginBody(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    password: str
    company: str | None = None
    branch: str | None = None


_LOGIN_ANSWERS = frozenset({200, 204, 429, 500})
#: How long a logout may take before the session is left to time out.
LOGOUT_TIMEOUT_S = 15.0


@asynccontextmanager
async def session_login(
    http: HttpClient, instance_url: str, user: ApiUser, *, branch: str | None = None
) -> AsyncIterator[None]:
    """Sign in with a cookie session for the ``async with`` block, and always log out.

    ``http`` must send through a session whose cookie jar keeps cookies (the login's session
    cookie is what authenticates the calls made inside the block). The logout runs in a
    ``finally``: after the block succeeds, raises or is cancelled. A logout that fails is
    logged, not raised, so it never hides the block's own error; the session then ends at its
    idle timeout. The logout is shielded from cancellation and bounded by
    ``LOGOUT_TIMEOUT_S``.
    """
    await _login(http, instance_url, user, branch)
    try:
        yield
    finally:
        # Shielded: a cancelled caller must still give its API login back.
        with anyio.move_on_after(LOGOUT_TIMEOUT_S, shield=True):
            await _logout(http, instance_url)


async def _login(http: HttpClient, instance_url: str, user: ApiUser, branch: str | None) -> None:
    body = LoginBody(user.username, user.password, user.company_name, branch)
    response = await http.request(
        "POST",
        f"{instance_url}/entity/auth/login",
        json=msgspec.json.encode(body),
        idempotent=False,
        record="login",
        ok_statuses=_LOGIN_ANSWERS,
    )
    if response.status in (200, 204):
        return
    error = http_error(response)
    text = (error.exception_message or error.message or "") if error is not None else ""
    said = " ".join(text.split())
    if response.status == 429 or "API Login Limit" in said:
        raise RateLimitedError(
            f"Acumatica at {instance_url} refused a login: the licence's API login limit is "
            f"reached ({said or 'no detail'}). Sessions that were never logged out hold their "
            "login until they time out; find what leaves sessions open, or use OAuth.",
            system=SYSTEM,
            record="login",
        )
    raise AuthError(
        f"Acumatica at {instance_url} refused the login of user {user.username!r}"
        f"{f' to company {user.company_name}' if user.company_name else ''}: "
        f"{said or f'HTTP {response.status}'}. Check username, password and company of "
        f"credential {user.credential_name!r}.",
        system=SYSTEM,
        record="login",
    )


async def _logout(http: HttpClient, instance_url: str) -> None:
    try:
        await http.request(
            "POST", f"{instance_url}/entity/auth/logout", idempotent=True, record="logout"
        )
    except ConnectorError as exc:
        log.warning(
            "acumatica %s: logout failed (%s); the session holds an API login until it times out",
            instance_url,
            exc,
        )
