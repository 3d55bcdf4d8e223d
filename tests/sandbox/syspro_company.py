"""A raw-HTTP handle on a running SYSPRO simulator, shared by the tests/sandbox/test_syspro_*
modules: no client code, only aiohttp and the standard library's XML parser."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from typing import Any

import aiohttp

from connector.safexml import parse_xml
from connector.sandbox.base import Simulator
from tests.conftest import StartSimulator


class SysproCompany:
    """Admin calls, e.net calls and OData calls against one simulator."""

    def __init__(self, sim: Simulator, session: aiohttp.ClientSession, creds: dict[str, Any]):
        self.sim = sim
        self.session = session
        self.creds = creds

    async def admin(self, method: str, name: str, body: Any = None) -> Any:
        async with self.session.request(
            method, f"{self.sim.base_url}/_sandbox/{name}", json=body
        ) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def knobs(self, **values: Any) -> None:
        await self.admin("POST", "faults", values)

    async def rows(self, table: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (await self.admin("GET", "state"))["entities"][table]
        return rows

    async def enet(self, operation: str, **params: str) -> tuple[int, str, str]:
        """Status, content type and body text of one e.net GET."""
        async with self.session.get(f"{self.creds['enet_url']}/{operation}", params=params) as r:
            return r.status, r.content_type, (await r.read()).decode("cp1252")

    async def logon(self, password: str | None = None) -> str:
        _, _, body = await self.enet(
            "Logon",
            Operator=self.creds["operator"],
            OperatorPassword=self.creds["operator_password"] if password is None else password,
            CompanyId=self.creds["company"],
            CompanyPassword=self.creds["company_password"],
        )
        return body

    async def post(
        self, user_id: str, business_object: str, xml_in: str, parameters: str = ""
    ) -> str:
        _, _, body = await self.enet(
            "Transaction/Post", UserId=user_id, BusinessObject=business_object,
            XmlParameters=parameters, XmlIn=xml_in,
        )
        return body

    async def setup(
        self, action: str, user_id: str, xml_in: str, parameters: str = ""
    ) -> str:
        _, _, body = await self.enet(
            f"Setup/{action}", UserId=user_id, BusinessObject="APSSSP",
            XmlParameters=parameters, XmlIn=xml_in,
        )
        return body

    async def query(self, user_id: str, xml_in: str) -> str:
        _, _, body = await self.enet(
            "Query/Query", UserId=user_id, BusinessObject="COMFND", XmlIn=xml_in
        )
        return body

    def basic_auth(self, password: str | None = None) -> dict[str, str]:
        secret = self.creds["operator_password"] if password is None else password
        token = base64.b64encode(f"{self.creds['operator']}:{secret}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def odata(
        self, method: str, tail: str, headers: dict[str, str] | None = None, **params: str
    ) -> tuple[int, Any, dict[str, str]]:
        """Status, body (JSON or text) and headers of one OData request."""
        async with self.session.request(
            method, f"{self.creds['odata_url']}/{tail}", params=params,
            headers=self.basic_auth() if headers is None else headers,
        ) as resp:
            body: Any = await resp.json() if resp.content_type == "application/json" else (
                await resp.text()
            )
            return resp.status, body, dict(resp.headers)


async def open_company(
    start_simulator: StartSimulator, session: aiohttp.ClientSession
) -> SysproCompany:
    """Start a SYSPRO simulator (reference data only) and return a handle on it."""
    sim = await start_simulator("syspro")
    async with session.get(f"{sim.base_url}/_sandbox/credentials") as resp:
        creds = await resp.json()
    return SysproCompany(sim, session, creds)


def xml(body: str) -> ET.Element:
    """An XMLOUT body parsed (the prolog names Windows-1252; the text is already decoded)."""
    return parse_xml(body)


def invoice_doc(
    invoice: str = "INV-1",
    supplier: str = "0001",
    ledger: str = "60-3000",
    tax: str = "10.00",
    **extra: str,
) -> str:
    fields = "".join(f"<{name}>{value}</{name}>" for name, value in extra.items())
    return (
        f"<PostApInvoice><Item><Supplier>{supplier}</Supplier><Invoice>{invoice}</Invoice>"
        "<TransactionCode>I</TransactionCode><InvoiceDate>2024-06-12</InvoiceDate>"
        f"<TransactionValue>110.00</TransactionValue><TaxValue>{tax}</TaxValue>{fields}"
        f"<LedgerDistribution><LedgerCode>{ledger}</LedgerCode><LedgerValue>100.00</LedgerValue>"
        "</LedgerDistribution></Item></PostApInvoice>"
    )


def ap_parameters(**flags: str) -> str:
    values = {"PostingPeriod": "C", "IgnoreWarnings": "N"} | flags
    inner = "".join(f"<{name}>{value}</{name}>" for name, value in values.items())
    return f"<PostApInvoice><Parameters>{inner}</Parameters></PostApInvoice>"
