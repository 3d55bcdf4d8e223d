"""The demo's IFS side: config lines, vault fields, simulator knobs, the implementer's tables.

:mod:`connector.demo` calls these for the ``ifs-servicetitan`` flow, so the demo, the
end-to-end tests and the benchmark set IFS up the way an implementer would: the IAM client
goes into the vault as kind ``ifs``, the environment and company into ``[systems.ifs]``, and
the mapping tables are filled by reading both systems (IFS suppliers, parts and tax codes
onto ServiceTitan vendors, materials and tax zones; ServiceTitan business units onto IFS
cost centers; ServiceTitan GL accounts onto IFS accounts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connector.flows.ifs_servicetitan import NAME, mapping
from connector.systems.ifs import IfsClient
from connector.systems.ifs import models as ifs
from connector.systems.servicetitan import ServiceTitanClient
from connector.systems.servicetitan.resources import RESOURCES

#: Vault credential name of the demo environment.
CREDENTIAL = "ifs"
_VAULT_FIELDS = ("client_id", "client_secret", "url", "realm")
#: IFS account for ServiceTitan GL accounts whose number IFS does not have, by type.
_ACCOUNT_BY_TYPE = {"Income": "4000", "Cost of Goods Sold": "5000", "Expense": "6100"}


def config_lines(credentials: Mapping[str, Any]) -> list[str]:
    """``[systems.ifs]`` and the whole ``[flows.ifs-servicetitan]`` section for the
    simulator whose ``/_sandbox/credentials`` are ``credentials``."""
    options = mapping.Options()
    return [
        "[systems.ifs]",
        'kind = "ifs"',
        f'credential = "{CREDENTIAL}"',
        f'company = "{credentials["company"]}"',
        "# The simulator does not throttle here; a real environment's capacity is its own.",
        "requests_per_minute = 60000",
        "",
        f"[flows.{NAME}]",
        'source = "ifs"',
        'target = "servicetitan"',
        'schedule = "every 5m"',
        "",
        f"[flows.{NAME}.options]",
        f'voucher_type = "{options.voucher_type}"',
        f'receivable_account = "{options.receivable_account}"',
        f'sales_tax_account = "{options.sales_tax_account}"',
        'default_revenue_account = "4000"',
        "",
    ]


def vault_fields(credentials: Mapping[str, Any]) -> dict[str, str]:
    """The simulator's credentials as the fields of a vault credential of kind ``ifs``."""
    return {key: str(credentials[key]) for key in _VAULT_FIELDS if credentials.get(key)}


def knobs() -> dict[str, Any]:
    """The demo tenant creates an external load with its first row (how loads come to be
    through the API is open, sheet §9) and does not throttle."""
    return {"create_unknown_loads": True, "requests_per_minute": 0}


async def setup(servicetitan: ServiceTitanClient, client: IfsClient) -> dict[str, dict[str, str]]:
    """The mapping tables an implementer fills once, by reading both systems (round-robin
    where a person would choose: the demo has no real correspondence to follow)."""
    vendors = sorted([v.id async for v in servicetitan.records(RESOURCES["vendors"])])
    materials = sorted([m.id async for m in servicetitan.records(RESOURCES["materials"])])
    zones = sorted([z.id async for z in servicetitan.records(RESOURCES["tax_zones"])])
    units = sorted([u.id async for u in servicetitan.records(RESOURCES["business_units"])])
    gl_accounts = [a async for a in servicetitan.records(RESOURCES["gl_accounts"])]
    suppliers = sorted(s.supplier_id for s in await client.list(ifs.Supplier))
    orders = await client.list(ifs.PurchaseOrder)
    parts = sorted(
        {line.part_no for line in await client.list(ifs.PurchaseOrderLine) if line.part_no}
    )
    centers = [c.value for c in await client.code_part_values("B") if c.value]
    accounts = {a.account for a in await client.list(ifs.Account)}
    return {
        mapping.SUPPLIER_VENDOR: _round_robin(suppliers, vendors),
        mapping.PART_SKU: _round_robin(parts, materials),
        mapping.TAX_ZONE: {
            code: str(zones[0])
            for code in sorted({o.tax_liability for o in orders if o.tax_liability})
        },
        mapping.BU_COST_CENTER: _round_robin([str(u) for u in units], centers),
        mapping.GL_ACCOUNT: {
            a.number: a.number
            if a.number in accounts
            else _ACCOUNT_BY_TYPE.get(a.type or "", "4000")
            for a in gl_accounts
            if a.number
        },
    }


def _round_robin(keys: Sequence[str], values: Sequence[object]) -> dict[str, str]:
    return {key: str(values[i % len(values)]) for i, key in enumerate(keys)} if values else {}
