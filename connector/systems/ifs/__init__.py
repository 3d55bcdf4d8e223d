"""IFS Cloud: IFS IAM tokens, projection models, the OData client with ETag-guarded writes.

:func:`open_connection` builds what a SystemSupervisor owns for one environment (session,
token cache, rate limiter, client). Call ``await connection.client.check()`` once at startup.
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
from connector.systems.ifs.auth import IamClient, TokenGrants
from connector.systems.ifs.client import IfsClient
from connector.systems.ifs.config import IfsSystem
from connector.systems.ifs.problems import SYSTEM
from connector.vault import Credential

__all__ = ["IfsClient", "IfsConnection", "IfsSystem", "open_connection"]

#: Token requests per second allowed to IFS IAM.
IAM_REQUESTS_PER_SECOND = 5


@dataclass
class IfsConnection:
    """The session, token cache, limiter and client of one environment; close it once."""

    client: IfsClient
    session: aiohttp.ClientSession
    tokens: TokenCache
    limiter: RateLimiter
    config: IfsSystem

    async def aclose(self) -> None:
        """Forget the token and close the session."""
        try:
            await self.tokens.close()
        finally:
            await self.session.close()


def open_connection(
    config: IfsSystem,
    credential: Credential,
    limiters: LimiterRegistry,
    *,
    retry: RetryPolicy | None = None,
) -> IfsConnection:
    """Wire a client for ``config`` with ``credential`` (kind ``ifs``).

    The base URL and realm are the config's, else the credential's; the credential's
    ``token_url`` wins over both for the IAM endpoint. Flows sharing the environment and IAM
    client share one limiter of ``requests_per_minute`` through ``limiters``.
    """
    url = _base_url(config, credential)
    client = IamClient(
        credential_name=credential.name,
        token_url=_token_url(config, credential, url),
        client_id=credential.secret("client_id"),
        client_secret=credential.secret("client_secret"),
    )
    host = URL(url).host or url
    session = make_session(timeout_s=config.timeout_s)
    key = f"ifs:{url}:{secret_fingerprint(client.client_id)}"
    limiter = limiters.get(
        key, lambda: RateLimiter(config.requests_per_minute, 60.0, name=f"ifs {host}")
    )
    iam_http = HttpClient(
        f"{SYSTEM} iam",
        session,
        limiter=limiters.get(
            f"ifs-iam:{client.token_url}",
            lambda: RateLimiter(IAM_REQUESTS_PER_SECOND, 1.0, name=f"ifs iam {host}"),
        ),
        tokens=None,
        auth_headers=None,
    )
    tokens = TokenCache(
        TokenGrants(iam_http, client),
        refresh_margin_s=config.token_refresh_margin_s,
        name=f"ifs {host}",
    )
    http = HttpClient(
        SYSTEM,
        session,
        limiter=limiter,
        tokens=tokens,
        auth_headers=lambda token: {"Authorization": f"Bearer {token.access_token}"},
        static_headers={"Accept": "application/json"},
        retry=retry if retry is not None else RetryPolicy(),
    )
    ifs = IfsClient(http, url=url, company=config.company, tokens=tokens)
    return IfsConnection(ifs, session, tokens, limiter, config)


def _base_url(config: IfsSystem, credential: Credential) -> str:
    url = (config.url or credential.fields.get("url") or "").strip()
    parsed = URL(url) if url else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"no usable IFS URL: set `url` in the config or store it in credential "
            f"{credential.name!r}, as an absolute URL such as https://acme.ifs.cloud",
            system=SYSTEM,
        )
    return url.rstrip("/")


def _token_url(config: IfsSystem, credential: Credential, url: str) -> str:
    explicit = (credential.fields.get("token_url") or "").strip()
    if explicit:
        return explicit
    realm = config.realm or credential.fields.get("realm")
    if not realm:
        raise ConfigurationError(
            f"no IFS IAM realm: set `realm` in the config or store `realm` (or `token_url`) in "
            f"credential {credential.name!r}; the realm is the IFS namespace, as in "
            "https://acme.ifs.cloud/auth/realms/<namespace>/",
            system=SYSTEM,
        )
    return f"{url}/auth/realms/{realm}/protocol/openid-connect/token"


async def check(connection: IfsConnection) -> str:
    """``ml-connector check``: a token, then the company's accounts."""
    await connection.tokens.get()
    await connection.client.check()
    return f"token ok; company {connection.client.company} has accounts"


SPEC = register_system(
    SystemSpec(
        kind="ifs",
        config=IfsSystem,
        credential_kinds=(
            CredentialKind(
                "ifs",
                required=("client_id", "client_secret"),
                # token_url wins over url + realm, for set-ups whose IAM lives elsewhere.
                optional=("url", "realm", "token_url"),
                secret=frozenset({"client_secret"}),
            ),
        ),
        open_connection=open_connection,
        check=check,
    )
)
