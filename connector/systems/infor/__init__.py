"""Infor CloudSuite: ``.ionapi`` credentials, ION API tokens, M3 MI client, list readers.

:func:`open_connection` builds what a SystemSupervisor owns for one tenant and company.
Everything comes from the ``.ionapi`` file — there is no shared Infor hostname.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from connector.errors import ConfigurationError
from connector.http.client import HttpClient
from connector.http.limiter import LimiterRegistry, RateLimiter, secret_fingerprint
from connector.http.session import make_session
from connector.http.tokens import Token, TokenCache
from connector.registry import CredentialKind, SystemSpec, register_system
from connector.systems.infor.auth import SYSTEM, fetch_token, revoke_token
from connector.systems.infor.client import M3Client
from connector.systems.infor.config import InforSystem
from connector.systems.infor.ionapi import IonApi, parse_ionapi
from connector.systems.infor.lines import InforLine, open_line
from connector.systems.infor.mi import MIClient
from connector.vault import Credential

__all__ = ["InforConnection", "InforSystem", "M3Client", "open_connection"]


@dataclass
class InforConnection:
    client: M3Client
    ionapi: IonApi
    session: aiohttp.ClientSession
    tokens: TokenCache
    limiter: RateLimiter
    #: The product line's client when ``product`` is not m3 (then ``client`` is unused).
    line: InforLine | None = None

    async def aclose(self) -> None:
        """Revoke the token (best effort) and close the session."""
        try:
            await self.tokens.close()
        finally:
            await self.session.close()


def open_connection(
    config: InforSystem, credential: Credential, limiters: LimiterRegistry
) -> InforConnection:
    """Wire an M3 client (or the configured product line's) from an ``.ionapi`` credential."""
    if config.product == "m3" and not config.division:
        raise ConfigurationError(
            f"the Infor system logging in with credential {config.credential!r} is M3 but "
            'has no division: add division = "<DIVI>" to its [systems.…] table (M3 '
            "needs it on every call)"
        )
    if config.product == "syteline" and not config.mongoose_config:
        # Checked before the session exists: raising after would leak it.
        raise ConfigurationError(
            f"the Infor system logging in with credential {config.credential!r} is SyteLine "
            'but has no mongoose_config: add mongoose_config = "<configuration>" (the '
            "X-Infor-MongooseConfig of the site) to its [systems.…] table"
        )
    ionapi = parse_ionapi(credential.secret("ionapi"), f"credential {credential.name}")
    session = make_session(timeout_s=config.timeout_s)
    limiter = limiters.get(
        f"infor:{secret_fingerprint(ionapi.ci)}",
        lambda: RateLimiter(config.requests_per_minute, 60.0, name=f"infor {ionapi.ti}"),
    )
    auth_http = HttpClient(
        f"{SYSTEM} sso",
        session,
        limiter=limiters.get(
            f"infor-sso:{ionapi.ti}", lambda: RateLimiter(10, 1.0, name="infor sso")
        ),
        tokens=None,
        auth_headers=None,
    )

    async def fetch(previous: Token | None) -> Token:
        return await fetch_token(auth_http, ionapi, previous)

    async def revoke(token: Token) -> None:
        await revoke_token(auth_http, ionapi, token)

    tokens = TokenCache(
        fetch,
        refresh_margin_s=config.token_refresh_margin_s,
        name=f"infor {ionapi.ti}",
        revoke=revoke,
    )
    http = HttpClient(
        SYSTEM,
        session,
        limiter=limiter,
        tokens=tokens,
        auth_headers=lambda token: {"Authorization": f"Bearer {token.access_token}"},
    )
    mi = MIClient(
        http,
        ionapi.gateway_base,
        company=config.company,
        division=config.division,
        linger_s=config.coalesce_ms / 1000,
    )
    line = open_line(http, ionapi.gateway_base, config) if config.product != "m3" else None
    return InforConnection(
        M3Client(mi, page_size=config.page_size), ionapi, session, tokens, limiter, line
    )


def _validate_ionapi(fields: Mapping[str, str], credential: str) -> None:
    """``creds set --kind ionapi``: the field must hold a whole, usable .ionapi file."""
    if "ionapi" in fields:
        parse_ionapi(fields["ionapi"], source=f"{credential} (field ionapi)")


async def check(connection: InforConnection) -> str:
    """``ml-connector check``: a token, then the configured company and division."""
    await connection.tokens.get()
    if connection.line is not None:
        await connection.line.validate()
        return f"token ok; {connection.line.product} company/site reachable"
    m3 = connection.client
    await m3.validate_company()
    return f"token ok; company {m3.company} division {m3.division} valid"


SPEC = register_system(
    SystemSpec(
        kind="infor",
        config=InforSystem,
        credential_kinds=(
            CredentialKind(
                "ionapi",
                required=("ionapi",),
                secret=frozenset({"ionapi"}),
                validate=_validate_ionapi,
                not_typed="an .ionapi file cannot be typed in; run `ml-connector creds "
                "import-ionapi {name} FILE`",
            ),
        ),
        open_connection=open_connection,
        check=check,
    )
)
