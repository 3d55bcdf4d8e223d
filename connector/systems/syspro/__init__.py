"""SYSPRO 8: e.net Solutions business objects (post, set up, find) and OData polling.

:func:`open_connection` builds what a SystemSupervisor owns for one SYSPRO company: the HTTP
session, the rate limiter shared by every flow on that e.net server, and the OData reader.
Business calls need an e.net session, opened per polling cycle (the product's promise: a fresh
logon each cycle, a logoff always)::

    async with connection.session() as syspro:          # Logon … Logoff, whatever happens
        if await syspro.find_ap_invoice(supplier, invoice) is None:
            await syspro.post_ap_invoice(document)
    async for row in connection.odata.changed_since(ApInvoiceRecord, "PostDate", cursor):
        ...

A session runs one call at a time; give each concurrent worker its own ``session()``.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from yarl import URL

from connector.errors import ConfigurationError
from connector.http.client import HttpClient
from connector.http.limiter import LimiterRegistry, RateLimiter
from connector.http.session import make_session
from connector.registry import CredentialKind, SystemSpec, register_system
from connector.systems.syspro.client import SysproClient
from connector.systems.syspro.config import SysproSystem
from connector.systems.syspro.enet import Enet, EnetSession, Operator
from connector.systems.syspro.odata import SysproOData
from connector.systems.syspro.xmlout import SYSTEM
from connector.vault import Credential

__all__ = ["SysproClient", "SysproConnection", "SysproOData", "SysproSystem", "open_connection"]


@dataclass
class SysproConnection:
    """The session, limiter, e.net transport and OData reader of one company; close once."""

    enet: Enet
    odata_reader: SysproOData | None
    http_session: aiohttp.ClientSession
    limiter: RateLimiter

    @asynccontextmanager
    async def session(self) -> AsyncIterator[SysproClient]:
        """Log on for the block and yield a client on that UserId; log off after it, whatever
        the block did (the logoff is shielded from cancellation and never raises)."""
        enet_session = EnetSession(self.enet)
        await enet_session.logon()
        try:
            yield SysproClient(enet_session)
        finally:
            await enet_session.logoff()

    @property
    def odata(self) -> SysproOData:
        """The OData reader; ConfigurationError when ``odata_url`` is not configured."""
        if self.odata_reader is None:
            raise ConfigurationError(
                "SYSPRO OData polling needs `odata_url` in this system's config "
                "(e.g. https://erp.example.com/SYSPRO8Odata/SYSPROOData)",
                system=SYSTEM,
            )
        return self.odata_reader

    async def aclose(self) -> None:
        """Close the HTTP session (open e.net sessions log off when their block ends)."""
        await self.http_session.close()


def open_connection(
    config: SysproSystem, credential: Credential, limiters: LimiterRegistry
) -> SysproConnection:
    """Wire e.net and OData clients for ``config`` with ``credential`` (kind ``syspro``)."""
    operator = Operator(
        credential_name=credential.name,
        operator=credential.secret("operator"),
        operator_password=credential.secret("operator_password"),
        company=credential.secret("company"),
        company_password=credential.fields.get("company_password", ""),
    )
    enet_url = _absolute(config.enet_url, "enet_url")
    session = make_session(timeout_s=config.timeout_s)
    limiter = limiters.get(
        f"syspro:{enet_url}",
        lambda: RateLimiter(config.requests_per_second, 1.0, name=f"syspro {URL(enet_url).host}"),
    )
    http = HttpClient(SYSTEM, session, limiter=limiter, tokens=None, auth_headers=None)
    enet = Enet(http, enet_url, operator, max_url_bytes=config.max_url_bytes)
    odata = None
    if config.odata_url is not None:
        odata_url = _absolute(config.odata_url, "odata_url")
        basic = base64.b64encode(
            f"{operator.operator}:{operator.operator_password}".encode()
        ).decode("ascii")
        odata_http = HttpClient(
            f"{SYSTEM} odata",
            session,
            limiter=limiter,
            tokens=None,
            auth_headers=None,
            static_headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
        )
        odata = SysproOData(odata_http, odata_url, page_size=config.page_size)
    return SysproConnection(enet, odata, session, limiter)


def _absolute(url: str, key: str) -> str:
    parsed = URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"SYSPRO `{key}` is not an absolute http(s) URL; set it like "
            "http://erp.example.com:20000/SYSPROWCFService/Rest (e.net) or "
            "https://erp.example.com/SYSPRO8Odata/SYSPROOData (OData)",
            system=SYSTEM,
        )
    return url.rstrip("/")


async def check(connection: SysproConnection) -> str:
    """``ml-connector check``: SYSPRO has no token, so a logon, GetLogonProfile and the
    logoff prove the same."""
    async with connection.session() as syspro:
        profile = await syspro.logon_profile()
    return (
        f"logon ok; company {profile.company_name}, operator {profile.operator_code}, "
        f"company date {profile.company_date}"
    )


SPEC = register_system(
    SystemSpec(
        kind="syspro",
        config=SysproSystem,
        credential_kinds=(
            CredentialKind(
                "syspro",
                required=("operator", "operator_password", "company"),
                # Many companies have no company password; e.net then expects it sent empty.
                optional=("company_password",),
                secret=frozenset({"operator_password", "company_password"}),
            ),
        ),
        open_connection=open_connection,
        check=check,
    )
)
