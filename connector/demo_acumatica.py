"""The demo's Acumatica side: config lines, vault fields, the implementer's mapping tables.

:mod:`connector.demo` calls these for the ``servicetitan-acumatica`` flow, so the demo, the
end-to-end tests and the benchmark set Acumatica up the way an implementer would: the
credential goes into the vault as kind ``acumatica``, the instance and endpoint version into
``[systems.acumatica]``, and the mapping tables are filled by reading both systems
(ServiceTitan has no chart of accounts to map from, Acumatica has no business units).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from connector.flows.servicetitan_acumatica import NAME, mapping
from connector.systems.acumatica import AcumaticaClient
from connector.systems.acumatica import models as acu
from connector.systems.servicetitan import ServiceTitanClient
from connector.systems.servicetitan.resources import RESOURCES

#: Vault credential name of the demo instance.
CREDENTIAL = "acumatica"
#: Credential fields of kind ``acumatica`` (the simulator's credentials carry more).
_VAULT_FIELDS = ("client_id", "client_secret", "username", "password", "instance_url", "company")
#: Where a chart-of-accounts review would put each ServiceTitan GL account type, as an
#: Acumatica account type and the account of the demo chart preferred for it.
_ACCOUNT_TYPES: dict[str, tuple[str, str]] = {
    "Income": ("Income", "40000"),
    "Cost of Goods Sold": ("Expense", "50000"),
    "Expense": ("Expense", "60000"),
    "Bank": ("Asset", "10100"),
    "Accounts Receivable": ("Asset", "11000"),
    "Other Current Asset": ("Asset", "12000"),
    "Fixed Asset": ("Asset", "15000"),
    "Accounts Payable": ("Liability", "20000"),
    "Other Current Liability": ("Liability", "21000"),
    "Credit Card": ("Liability", "21000"),
    "Long Term Liability": ("Liability", "21000"),
    "Equity": ("Liability", "30000"),
}


def config_lines(sim_base_url: str, credentials: Mapping[str, Any]) -> list[str]:
    """``[systems.acumatica]`` and the complete ``[flows.servicetitan-acumatica]`` section
    (with its options) for the simulator at ``sim_base_url``."""
    instance = str(credentials.get("instance_url") or sim_base_url)
    version = str(credentials.get("version") or "24.200.001")
    options = mapping.Options()
    return [
        "[systems.acumatica]",
        'kind = "acumatica"',
        f'credential = "{CREDENTIAL}"',
        f'instance_url = "{instance}"',
        'endpoint = "Default"',
        f'version = "{version}"',
        "# The simulated licence sets no limits; a real licence states its requests per",
        "# minute and concurrent requests, and these two lines must match it.",
        "requests_per_minute = 60000",
        "max_concurrent = 4",
        "",
        f"[flows.{NAME}]",
        'source = "servicetitan"',
        'target = "acumatica"',
        'schedule = "every 5m"',
        "",
        f"[flows.{NAME}.options]",
        f'customer_class = "{options.customer_class}"',
        f'vendor_class = "{options.vendor_class}"',
        f'payment_method = "{options.payment_method}"',
        f'cash_account = "{options.cash_account}"',
        f'sales_tax_account = "{options.sales_tax_account}"',
        f'release_invoices = "{options.release_invoices}"',
        "",
    ]


def vault_fields(credentials: Mapping[str, Any]) -> dict[str, str]:
    """The simulator's credentials as the fields of a vault credential of kind ``acumatica``."""
    return {key: str(credentials[key]) for key in _VAULT_FIELDS if credentials.get(key)}


def knobs() -> dict[str, Any]:
    """Settings of the Acumatica simulator the demo needs: none beyond its defaults (the
    flow releases the invoices it saves, so payments apply as in a real company)."""
    return {}


async def setup(
    servicetitan: ServiceTitanClient, acumatica: AcumaticaClient
) -> dict[str, dict[str, str]]:
    """The mapping tables an implementer fills once, by reading both systems.

    Business units go round-robin over the company's branches, each onto the least used
    subaccount of its branch (``HVAC-NORTH``), or of the whole chart when the branch has none;
    ServiceTitan GL accounts go to the Acumatica account their type calls for.
    """
    units = sorted(
        [u async for u in servicetitan.records(RESOURCES["business_units"])], key=lambda u: u.id
    )
    gl_accounts = [a async for a in servicetitan.records(RESOURCES["gl_accounts"])]
    branches = [b.branch_id for b in await acumatica.branches() if b.branch_id]
    subaccounts = [
        s.subaccount_cd
        for s in await acumatica.list(acu.Subaccount, expand=())
        if s.subaccount_cd and s.active is not False
    ]
    accounts = await acumatica.list(acu.Account, expand=())
    branch_of: dict[str, str] = {}
    subaccount_of: dict[str, str] = {}
    used: Counter[str] = Counter()
    for index, unit in enumerate(units):
        branch = branches[index % len(branches)]
        own = [code for code in subaccounts if code.upper().endswith(f"-{branch.upper()}")]
        pool = own or subaccounts
        # The least used subaccount of the pool, so units spread over the chart.
        chosen = min(pool, key=lambda code: (used[code], pool.index(code)))
        used[chosen] += 1
        branch_of[str(unit.id)] = branch
        subaccount_of[str(unit.id)] = chosen
    return {
        mapping.BU_BRANCH: branch_of,
        mapping.BU_SUBACCOUNT: subaccount_of,
        mapping.GL_ACCOUNT: {
            a.number: _account_for(a.type, accounts) for a in gl_accounts if a.number
        },
    }


def _account_for(kind: str | None, accounts: Sequence[acu.Account]) -> str:
    """An Acumatica account for a ServiceTitan GL account type (see :data:`_ACCOUNT_TYPES`)."""
    wanted_type, preferred = _ACCOUNT_TYPES.get(kind or "", ("Expense", "60000"))
    codes = {a.account_cd for a in accounts if a.account_cd}
    if preferred in codes:
        return preferred
    same_type = [
        a.account_cd
        for a in accounts
        if a.account_cd and a.type == wanted_type and not a.cash_account
    ]
    return same_type[0] if same_type else sorted(codes)[0]
