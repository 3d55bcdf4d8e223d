"""Acumatica ERP: OAuth tokens, value-object models, the contract-based REST client.

:func:`open_connection` builds what a SystemSupervisor owns for one instance (session,
token cache, rate limiter, client). Call ``await connection.client.check_endpoint()`` once at
startup. :meth:`AcumaticaConnection.cookie_session` is the fallback for instances without
OAuth: a client signed in with a cookie session that is always logged out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from yarl import URL

from connector.errors import ConfigurationError
from connector.http.client import HttpClient
from connector.http.limiter import LimiterRegistry, RateLimiter
from connector.http.retry import RetryPolicy
from connector.http.session import make_session
from connector.http.tokens import TokenCache
from connector.registry import CredentialKind, SystemSpec, register_system
from connector.systems.acumatica.auth import ApiUser, TokenGrants, session_login
from connector.systems.acumatica.client import AcumaticaClient
from connector.systems.acumatica.config import AcumaticaSystem
from connector.systems.acumatica.numbering import DocumentNumbering, document_numbering
from connector.systems.acumatica.problems import SYSTEM
from connector.vault import Credential

__all__ = ["AcumaticaClient", "AcumaticaConnection", "AcumaticaSystem", "open_connection"]

#: The budget used when the licence publishes none (``requests_per_minute = 0``): high
#: enough never to be the bottleneck, finite so a runaway loop cannot hammer the instance.
UNBUDGETED_REQUESTS_PER_MINUTE = 6000
#: Token requests per second allowed to one identity endpoint.
IDENTITY_REQUESTS_PER_SECOND = 5


@dataclass
class AcumaticaConnection:
    """The session, token cache, limiter and client of one instance; close it once."""

    client: AcumaticaClient
    session: aiohttp.ClientSession
    tokens: TokenCache
    limiter: RateLimiter
    config: AcumaticaSystem
    user: ApiUser = field(repr=False)

    async def document_numbering(self) -> list[DocumentNumbering]:
        """How AR invoices, AR payments and AP bills are numbered (:mod:`.numbering`). The
        tenant is the credential's ``company``, else the one its client id names."""
        tenant = self.user.company or self.user.client_id.partition("@")[2]
        return await document_numbering(self.client.http, self.client.instance_url, tenant)

    async def aclose(self) -> None:
        """Forget the token and close the session."""
        try:
            await self.tokens.close()
        finally:
            await self.session.close()

    @asynccontextmanager
    async def cookie_session(self, *, branch: str | None = None) -> AsyncIterator[AcumaticaClient]:
        """A client signed in with ``/entity/auth/login`` for the block, logged out after it
        whatever happens (see :func:`.auth.session_login`). It shares this connection's
        limiter, so its calls count against the same licence budget."""
        session = make_session(
            timeout_s=self.config.timeout_s,
            # unsafe=True keeps cookies of hosts given as IP addresses (loopback, intranet).
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        )
        try:
            http = HttpClient(
                f"{SYSTEM} session", session, limiter=self.limiter, tokens=None, auth_headers=None
            )
            client = self.client
            async with session_login(http, client.instance_url, self.user, branch=branch):
                yield AcumaticaClient(
                    http,
                    instance_url=client.instance_url,
                    endpoint=client.endpoint,
                    version=client.version,
                    page_size=client.page_size,
                )
        finally:
            await session.close()


def open_connection(
    config: AcumaticaSystem,
    credential: Credential,
    limiters: LimiterRegistry,
    *,
    retry: RetryPolicy | None = None,
) -> AcumaticaConnection:
    """Wire a client for ``config`` with ``credential`` (kind ``acumatica``).

    The instance URL is the config's, else the credential's. One limiter per instance is
    shared through ``limiters``, since the licence counts requests per instance:
    ``requests_per_minute`` (0 = :data:`UNBUDGETED_REQUESTS_PER_MINUTE`) and
    ``max_concurrent`` requests in flight. ``retry`` overrides the HTTP kit's retry policy.
    """
    instance_url = _instance_url(config, credential)
    user = ApiUser(
        credential_name=credential.name,
        client_id=credential.secret("client_id"),
        client_secret=credential.secret("client_secret"),
        username=credential.secret("username"),
        password=credential.secret("password"),
        company=credential.fields.get("company") or None,
    )
    host = URL(instance_url).host or instance_url
    session = make_session(timeout_s=config.timeout_s)
    budget = config.requests_per_minute or UNBUDGETED_REQUESTS_PER_MINUTE
    limiter = limiters.get(
        f"acumatica:{instance_url}",
        lambda: RateLimiter(
            budget, 60.0, max_concurrent=config.max_concurrent, name=f"acumatica {host}"
        ),
    )
    identity_http = HttpClient(
        f"{SYSTEM} identity",
        session,
        limiter=limiters.get(
            f"acumatica-identity:{instance_url}",
            lambda: RateLimiter(
                IDENTITY_REQUESTS_PER_SECOND, 1.0, name=f"acumatica identity {host}"
            ),
        ),
        tokens=None,
        auth_headers=None,
    )
    tokens = TokenCache(
        TokenGrants(identity_http, instance_url, user),
        refresh_margin_s=config.token_refresh_margin_s,
        name=f"acumatica {host}",
    )
    http = HttpClient(
        SYSTEM,
        session,
        limiter=limiter,
        tokens=tokens,
        auth_headers=lambda token: {"Authorization": f"Bearer {token.access_token}"},
        retry=retry if retry is not None else RetryPolicy(),
    )
    client = AcumaticaClient(
        http, instance_url=instance_url, endpoint=config.endpoint, version=config.version
    )
    return AcumaticaConnection(client, session, tokens, limiter, config, user)


def _instance_url(config: AcumaticaSystem, credential: Credential) -> str:
    url = (config.instance_url or credential.fields.get("instance_url") or "").strip()
    if not url:
        raise ConfigurationError(
            f"no Acumatica instance URL: set `instance_url` in the config or store it in "
            f"credential {credential.name!r} (e.g. https://acme.acumatica.com or "
            "https://erp.acme.com/AcumaticaERP)",
            system=SYSTEM,
        )
    parsed = URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"the Acumatica instance URL of credential {credential.name!r} or the config is not "
            "an absolute http(s) URL; set it like https://acme.acumatica.com",
            system=SYSTEM,
        )
    return url.rstrip("/")


async def check(connection: AcumaticaConnection) -> str:
    """``ml-connector check``: a token, then the pinned endpoint version."""
    await connection.tokens.get()
    await connection.client.check_endpoint()
    return "token ok; endpoint version available"


SPEC = register_system(
    SystemSpec(
        kind="acumatica",
        config=AcumaticaSystem,
        credential_kinds=(
            CredentialKind(
                "acumatica",
                required=("client_id", "client_secret", "username", "password"),
                optional=("instance_url", "company"),
                secret=frozenset({"client_secret", "password"}),
            ),
        ),
        open_connection=open_connection,
        check=check,
    )
)
