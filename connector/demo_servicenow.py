"""The demo's ServiceNow side: config lines, vault fields, and M3 invoices to carry over.

:mod:`connector.demo` calls these for the ``infor-servicenow`` flow, so the demo, the tests
and the benchmark set ServiceNow up the way an implementer would: an OAuth client credential
in the vault (kind ``servicenow-oauth``), the instance in ``[systems.servicenow]``, and the
flow's section with every option. M3's seed holds suppliers and orders but no supplier
invoices, so :func:`post_invoices` enters some the way AP clerks do (APS450MI batches
validated with APS455MI), through the M3 client.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connector.flows.infor_servicenow import NAME, mapping
from connector.systems.infor import M3Client

#: Vault credential name of the demo instance.
CREDENTIAL = "servicenow"
#: Credential fields of kind ``servicenow-oauth`` (client credentials grant).
_VAULT_FIELDS = ("client_id", "client_secret", "instance_url")
#: Supplier invoices entered per demo M3 tenant.
DEMO_INVOICES = 12


def config_lines(credentials: Mapping[str, Any], *, infor: str = "infor") -> list[str]:
    """``[systems.servicenow]`` and the complete ``[flows.infor-servicenow]`` section."""
    options = mapping.Options()
    return [
        "[systems.servicenow]",
        'kind = "servicenow"',
        f'credential = "{CREDENTIAL}"',
        f'instance_url = "{credentials["instance_url"]}"',
        'erp_source = "M3"',
        "# The simulator has no hourly rule; a real instance's rule (sys_rate_limit_rules) goes",
        "# here, and the connector paces under it.",
        "requests_per_hour = 3600000",
        "",
        f"[flows.{NAME}]",
        f'source = "{infor}"',
        'target = "servicenow"',
        'schedule = "every 5m"',
        "",
        f"[flows.{NAME}.options]",
        f'legal_entity = "{options.legal_entity}"',
        f'gl_account_type = "{options.gl_account_type}"',
        f'cost_center_ait = "{options.cost_center_ait}"',
        f'supplier_template = "{options.supplier_template}"',
        f'supplier_coalesce = "{options.supplier_coalesce}"',
        "",
    ]


def vault_fields(credentials: Mapping[str, Any]) -> dict[str, str]:
    """The simulator's credentials as the fields of a ``servicenow-oauth`` credential."""
    return {key: str(credentials[key]) for key in _VAULT_FIELDS if credentials.get(key)}


async def post_invoices(
    m3: M3Client, count: int = DEMO_INVOICES, *, seed: int = 7, prefix: str = "SN"
) -> list[tuple[str, str]]:
    """Enter and validate ``count`` supplier invoices in M3 (APS450MI AddHead + AddLine,
    APS455MI ValidByBatchNo); the (SUNO, SINO) of each. Invoices already posted under the
    same number are left alone, so a second call adds nothing."""
    rng = random.Random(seed)  # noqa: S311 - sample data, deterministic by seed
    suppliers = [s.SUNO async for s in m3.suppliers() if s.STAT == "20"]
    posted: list[tuple[str, str]] = []
    for n in range(count):
        suno = suppliers[rng.randrange(len(suppliers))]
        sino = f"{prefix}-{seed}-{n + 1:04d}"
        amounts = [Decimal(rng.randint(2_000, 90_000)) / 100 for _ in range(rng.randint(1, 3))]
        posted.append((suno, sino))
        if any(b.validated for b in await m3.find_invoice(suno, sino)):
            continue
        record = f"demo invoice {sino}"
        invoice_date = f"2025{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        inbn = await m3.add_head(
            {"SUNO": suno, "SINO": sino, "IVDT": invoice_date, "CUAM": str(sum(amounts))},
            record=record,
        )
        for amount in amounts:
            await m3.add_line(inbn, {"RDTP": "8", "NLAM": str(amount)}, record=record)
        await m3.validate_batch(inbn, record=record)
    return posted
