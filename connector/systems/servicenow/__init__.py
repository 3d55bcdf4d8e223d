"""ServiceNow Source-to-Pay: OAuth or Basic auth, the Table API and the Import Set API.

:func:`open_connection` builds what a SystemSupervisor owns for one instance (session, token
cache, rate limiter, client). Call ``await connection.client.check_plugin()`` once at startup:
it fails with a ConfigurationError when the Source-to-Pay plugin is not active or the user
may not read its tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from yarl import URL

from connector.errors import ConfigurationError
from connector.http.client import HttpClient
from connector.http.limiter import LimiterRegistry, RateLimiter, secret_fingerprint
from connector.http.retry import RetryPolicy
from connector.http.session import make_session
from connector.http.tokens import TokenCache
from connector.registry import CredentialKind, SystemSpec, register_system
from connector.systems.servicenow.auth import (
    BASIC_KIND,
    KINDS,
    OAUTH_KIND,
    REFRESH_KIND,
    OAuthClient,
    TokenGrants,
    basic_header,
)
from connector.systems.servicenow.client import Imported, ServiceNowClient
from connector.systems.servicenow.config import ServiceNowSystem
from connector.systems.servicenow.models import Watermark
from connector.systems.servicenow.problems import SYSTEM
from connector.vault import Credential

__all__ = [
    "KINDS",
    "Imported",
    "ServiceNowClient",
    "ServiceNowConnection",
    "ServiceNowSystem",
    "Watermark",
    "open_connection",
]

#: The budget used when no hourly rule is known: never the bottleneck, but finite so a
#: runaway loop cannot hammer the instance.
UNBUDGETED_REQUESTS_PER_SECOND = 50
#: Token requests per second allowed to one instance's token endpoint.
TOKEN_REQUESTS_PER_SECOND = 5


@dataclass
class ServiceNowConnection:
    """The session, token cache (None for Basic auth), limiter and client of one instance."""

    client: ServiceNowClient
    session: aiohttp.ClientSession
    tokens: TokenCache | None
    limiter: RateLimiter
    config: ServiceNowSystem

    async def aclose(self) -> None:
        """Forget the token and close the session."""
        try:
            if self.tokens is not None:
                await self.tokens.close()
        finally:
            await self.session.close()


def open_connection(
    config: ServiceNowSystem,
    credential: Credential,
    limiters: LimiterRegistry,
    *,
    retry: RetryPolicy | None = None,
) -> ServiceNowConnection:
    """Wire a client for ``config`` with a credential of one of :data:`KINDS`.

    The instance URL is the config's, else the credential's. Rate-limit rules count per user
    and hour, so the limiter is shared per instance and credential: ``requests_per_hour``
    paces under the rule (0 = :data:`UNBUDGETED_REQUESTS_PER_SECOND`); a 429 pauses every
    caller for its ``Retry-After``.
    """
    if credential.kind not in KINDS:
        raise ConfigurationError(
            f"credential {credential.name!r} is of kind {credential.kind!r}; a ServiceNow "
            f"system needs one of {', '.join(KINDS)}",
            system=SYSTEM,
        )
    instance_url = _instance_url(config, credential)
    host = URL(instance_url).host or instance_url
    session = make_session(timeout_s=config.timeout_s)
    who = secret_fingerprint(
        credential.fields.get("client_id") or credential.fields.get("username", credential.name)
    )
    if config.requests_per_hour:
        rate, period = float(config.requests_per_hour), 3600.0
    else:
        rate, period = float(UNBUDGETED_REQUESTS_PER_SECOND), 1.0
    limiter = limiters.get(
        f"servicenow:{instance_url}:{who}",
        lambda: RateLimiter(
            rate, period, max_concurrent=config.max_concurrent, name=f"servicenow {host}"
        ),
    )
    policy = retry if retry is not None else RetryPolicy()
    tokens: TokenCache | None = None
    if credential.kind == BASIC_KIND:
        http = HttpClient(
            SYSTEM,
            session,
            limiter=limiter,
            tokens=None,
            auth_headers=None,
            static_headers=basic_header(credential),
            retry=policy,
        )
    else:
        token_http = HttpClient(
            f"{SYSTEM} oauth",
            session,
            limiter=limiters.get(
                f"servicenow-oauth:{instance_url}",
                lambda: RateLimiter(
                    TOKEN_REQUESTS_PER_SECOND, 1.0, name=f"servicenow oauth {host}"
                ),
            ),
            tokens=None,
            auth_headers=None,
            retry=policy,
        )
        tokens = TokenCache(
            TokenGrants(token_http, instance_url, OAuthClient.of(credential)),
            refresh_margin_s=config.token_refresh_margin_s,
            name=f"servicenow {host}",
        )
        http = HttpClient(
            SYSTEM,
            session,
            limiter=limiter,
            tokens=tokens,
            auth_headers=lambda token: {"Authorization": f"Bearer {token.access_token}"},
            retry=policy,
        )
    client = ServiceNowClient(
        http,
        instance_url=instance_url,
        erp_source=config.erp_source,
        page_size=config.page_size,
        credential_name=credential.name,
        basic=credential.kind == BASIC_KIND,
        requests_per_hour=config.requests_per_hour,
    )
    return ServiceNowConnection(client, session, tokens, limiter, config)


def _instance_url(config: ServiceNowSystem, credential: Credential) -> str:
    url = (config.instance_url or credential.fields.get("instance_url") or "").strip()
    if not url:
        raise ConfigurationError(
            f"no ServiceNow instance URL: set `instance_url` in the config or store it in "
            f"credential {credential.name!r} (e.g. https://acme.service-now.com)",
            system=SYSTEM,
        )
    parsed = URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"the ServiceNow instance URL of credential {credential.name!r} or the config is "
            "not an absolute http(s) URL; set it like https://acme.service-now.com",
            system=SYSTEM,
        )
    return url.rstrip("/")


async def check(connection: ServiceNowConnection) -> str:
    """``ml-connector check``: a token (unless Basic auth), then one Source-to-Pay row."""
    if connection.tokens is not None:
        await connection.tokens.get()
    await connection.client.check_plugin()
    auth = "basic auth ok" if connection.tokens is None else "token ok"
    return f"{auth}; {connection.client.instance_url}: Source-to-Pay tables readable"


# OAuth client credentials (recommended, so first), a refresh token from a person's
# authorization-code consent, or Basic auth of a web-service-only user.
SPEC = register_system(
    SystemSpec(
        kind="servicenow",
        config=ServiceNowSystem,
        credential_kinds=(
            CredentialKind(
                OAUTH_KIND,
                required=("client_id", "client_secret"),
                optional=("instance_url",),
                secret=frozenset({"client_secret"}),
            ),
            CredentialKind(
                REFRESH_KIND,
                required=("client_id", "client_secret", "refresh_token"),
                optional=("instance_url",),
                secret=frozenset({"client_secret", "refresh_token"}),
            ),
            CredentialKind(
                BASIC_KIND,
                required=("username", "password"),
                optional=("instance_url",),
                secret=frozenset({"password"}),
            ),
        ),
        open_connection=open_connection,
        check=check,
    )
)
