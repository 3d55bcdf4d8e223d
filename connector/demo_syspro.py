"""The demo's SYSPRO side: config lines, vault fields, knobs, the implementer's setup.

:mod:`connector.demo` calls these for the ``servicetitan-syspro`` flow, so the demo, the
end-to-end tests and the reliability scenarios set SYSPRO up the way an implementer would: the
operator goes into the vault as kind ``syspro``, the e.net and OData URLs into
``[systems.syspro]``, and the mapping tables are filled by reading both systems; the clearing
supplier that job invoices are posted against is created through e.net.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.flows.servicetitan_syspro import NAME, mapping
from connector.systems.servicetitan import ServiceTitanClient
from connector.systems.servicetitan.resources import RESOURCES
from connector.systems.syspro import SysproConnection
from connector.systems.syspro.models import StockItemRecord, Supplier

#: Vault credential name of the demo company.
CREDENTIAL = "syspro"
_VAULT_FIELDS = ("operator", "operator_password", "company", "company_password")
#: SYSPRO seed counts of the demo company.
COUNTS = {"suppliers": 6, "stock": 8, "invoices": 4, "purchase_orders": 4}
#: The demo company's ledger code for each ServiceTitan GL account type (a chart review).
_LEDGER_BY_TYPE = {
    "Income": "40-1100",
    "Cost of Goods Sold": "50-2000",
    "Expense": "60-3000",
    "Bank": "10-1000",
    "Accounts Payable": "20-1000",
}
#: The demo company's AP branch for every business unit.
_BRANCH = "10"


def config_lines(credentials: Mapping[str, Any]) -> list[str]:
    """``[systems.syspro]`` and the ``[flows.servicetitan-syspro]`` section with its options."""
    options = mapping.Options()
    return [
        "[systems.syspro]",
        'kind = "syspro"',
        f'credential = "{CREDENTIAL}"',
        f'enet_url = "{credentials["enet_url"]}"',
        f'odata_url = "{credentials["odata_url"]}"',
        "# The simulator does not throttle; a real e.net server is sized per site.",
        "requests_per_second = 1000",
        "",
        f"[flows.{NAME}]",
        'source = "servicetitan"',
        'target = "syspro"',
        'schedule = "every 15m"',
        "",
        f"[flows.{NAME}.options]",
        f'invoice_supplier = "{options.invoice_supplier}"',
        f'default_warehouse = "{options.default_warehouse}"',
        "",
    ]


def vault_fields(credentials: Mapping[str, Any]) -> dict[str, str]:
    """The simulator's credentials as the fields of a vault credential of kind ``syspro``."""
    return {key: str(credentials[key]) for key in _VAULT_FIELDS if credentials.get(key)}


def knobs() -> dict[str, Any]:
    """The demo company allows negative stock (a site setting), so ServiceTitan's shrinkage
    adjustments post whatever SYSPRO thinks is on hand."""
    return {"allow_negative_stock": True}


async def setup(
    servicetitan: ServiceTitanClient, syspro: SysproConnection
) -> dict[str, dict[str, str]]:
    """The mapping tables an implementer fills once, and the clearing supplier.

    Every ServiceTitan pricebook code gets a SYSPRO stock code (round-robin over the
    company's stock), every SYSPRO stock code the first ServiceTitan material; GL accounts go
    to the ledger code their type calls for; every business unit to branch 10.
    """
    options = mapping.Options()
    codes = sorted(
        {
            (item.code or "").strip()
            for resource in ("services", "materials", "equipment")
            async for item in servicetitan.records(RESOURCES[resource])
            if (item.code or "").strip()
        }
    )
    materials = sorted(
        [
            (m.code or "").strip()
            async for m in servicetitan.records(RESOURCES["materials"])
            if (m.code or "").strip()
        ]
    )
    units = [u async for u in servicetitan.records(RESOURCES["business_units"])]
    accounts = [a async for a in servicetitan.records(RESOURCES["gl_accounts"])]
    stock = sorted([row.stock_code async for row in syspro.odata.rows(StockItemRecord)])
    async with syspro.session() as client:
        if await client.find_supplier(options.invoice_supplier) is None:
            await client.add_supplier(
                Supplier(code=options.invoice_supplier, name="ServiceTitan job invoices")
            )
    return {
        mapping.STOCK_CODE: {code: stock[i % len(stock)] for i, code in enumerate(codes)},
        mapping.STOCK_TO_ST: {
            code: materials[i % len(materials)] for i, code in enumerate(stock) if materials
        },
        mapping.GL_ACCOUNT: {
            a.number: _LEDGER_BY_TYPE.get(a.type or "", "60-3000") for a in accounts if a.number
        },
        mapping.BRANCH: {str(u.id): _BRANCH for u in units},
    }
