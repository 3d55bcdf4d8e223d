"""ServiceTitan: client, models, webhooks. :func:`open_connection` builds everything a
SystemSupervisor owns for one tenant (session, token cache, rate limiter, client)."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from connector.http.client import HttpClient
from connector.http.limiter import LimiterRegistry, RateLimiter, secret_fingerprint
from connector.http.session import make_session
from connector.http.tokens import Token, TokenCache
from connector.registry import CredentialKind, SystemSpec, register_system
from connector.systems.servicetitan.client import SYSTEM, ServiceTitanClient, fetch_token
from connector.systems.servicetitan.config import ServiceTitanSystem
from connector.systems.servicetitan.resources import RESOURCES
from connector.systems.servicetitan.webhooks import receiver
from connector.vault import Credential

PRODUCTION = ("https://api.servicetitan.io", "https://auth.servicetitan.io")
INTEGRATION = (
    "https://api-integration.servicetitan.io",
    "https://auth-integration.servicetitan.io",
)

__all__ = ["ServiceTitanClient", "ServiceTitanConnection", "ServiceTitanSystem", "open_connection"]


@dataclass
class ServiceTitanConnection:
    """The session, token cache, limiter and client of one tenant; close it once."""

    client: ServiceTitanClient
    session: aiohttp.ClientSession
    tokens: TokenCache
    limiter: RateLimiter

    async def aclose(self) -> None:
        await self.tokens.close()
        await self.session.close()


def open_connection(
    config: ServiceTitanSystem, credential: Credential, limiters: LimiterRegistry
) -> ServiceTitanConnection:
    """Wire a client for ``config`` with ``credential`` (kind ``servicetitan``).

    The limiter is shared through ``limiters`` by (app key, tenant): two flows on one tenant
    get one 60 requests/s budget, as ServiceTitan counts it.
    """
    default_api, default_auth = INTEGRATION if config.environment == "integration" else PRODUCTION
    api_url = config.api_url or default_api
    auth_url = config.auth_url or default_auth
    app_key = credential.secret("app_key")
    session = make_session(timeout_s=config.timeout_s)
    limiter = limiters.get(
        f"servicetitan:{secret_fingerprint(app_key)}:{config.tenant}",
        lambda: RateLimiter(
            config.rate_per_second, 1.0, name=f"servicetitan tenant {config.tenant}"
        ),
    )
    auth_http = HttpClient(
        f"{SYSTEM} auth",
        session,
        limiter=limiters.get(
            f"servicetitan-auth:{auth_url}", lambda: RateLimiter(5, 1.0, name="servicetitan auth")
        ),
        tokens=None,
        auth_headers=None,
    )

    async def fetch(previous: Token | None) -> Token:
        return await fetch_token(
            auth_http,
            auth_url,
            credential.secret("client_id"),
            credential.secret("client_secret"),
            config.token_refresh_after_s,
        )

    tokens = TokenCache(fetch, refresh_margin_s=0.0, name=f"servicetitan tenant {config.tenant}")
    http = HttpClient(
        SYSTEM,
        session,
        limiter=limiter,
        tokens=tokens,
        auth_headers=lambda token: {"Authorization": f"Bearer {token.access_token}"},
        static_headers={"ST-App-Key": app_key},
    )
    client = ServiceTitanClient(
        http, api_url=api_url, tenant=config.tenant, page_size=config.page_size
    )
    return ServiceTitanConnection(client, session, tokens, limiter)


async def check(connection: ServiceTitanConnection) -> str:
    """``ml-connector check``: a token, then the tenant's business units."""
    await connection.tokens.get()
    units = [u async for u in connection.client.records(RESOURCES["business_units"])]
    return f"token ok; tenant {connection.client.tenant}: {len(units)} business unit(s)"


SPEC = register_system(
    SystemSpec(
        kind="servicetitan",
        config=ServiceTitanSystem,
        credential_kinds=(
            CredentialKind(
                "servicetitan",
                required=("client_id", "client_secret", "app_key"),
                optional=("tenant",),
                secret=frozenset({"client_secret", "app_key"}),
            ),
        ),
        open_connection=open_connection,
        check=check,
        # ServiceTitan sends the events, whichever side of a flow it is on.
        webhook_receiver=receiver,
    )
)
