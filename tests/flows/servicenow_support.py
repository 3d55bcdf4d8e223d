"""What the infor-servicenow tests share: a small seeded tenant pair, and the target's view.

A record is *lost* when ServiceNow holds no document under its M3 identity (invoices:
``DIVI/SUNO/SINO``; orders: ``PUNO``) and *duplicated* when it holds more than one, or a
document with more lines than M3 has (a line staged twice). The simulators run in the
test's event loop, so their state is read in-process.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from connector import demo
from connector.flows.infor_servicenow import NAME
from connector.sandbox.infor import InforSimulator
from connector.sandbox.servicenow.simulator import ServiceNowSimulator

COUNTS = {
    "infor": {"suppliers": 8, "items": 10, "purchase_orders": 6, "accounts": 8,
              "cost_centers": 6},
    "servicenow": {"suppliers": 2, "gl_accounts": 2, "cost_centers": 2, "purchase_orders": 2,
                   "invoices": 2, "outbound_invoices": 0},
}
#: M3 company and division of the demo config.
CONO, DIVI = "100", "AAA"
#: GL transaction codes of the lines of an invoice voucher that are not cost lines.
_NOT_COST = ("AP liability", "VAT line")


async def start(state_dir: Path) -> demo.DemoEnvironment:
    """M3 and ServiceNow seeded small, the demo's vault and config, 12 posted M3 invoices."""
    return await demo.start(state_dir, counts=COUNTS, flows=[NAME])


def infor(env: demo.DemoEnvironment) -> InforSimulator:
    sim = env.simulators["infor"]
    assert isinstance(sim, InforSimulator)
    return sim


def servicenow(env: demo.DemoEnvironment) -> ServiceNowSimulator:
    sim = env.simulators["servicenow"]
    assert isinstance(sim, ServiceNowSimulator)
    return sim


def rows(sn: ServiceNowSimulator, table: str) -> list[dict[str, str]]:
    return list(sn.instance.rows[table].values())


def m3_invoices(m3: InforSimulator) -> dict[str, list[dict[str, str]]]:
    """Posted M3 invoices of the configured division: key → their voucher's cost lines."""
    found: dict[str, list[dict[str, str]]] = {}
    for voucher in m3.db.vouchers:
        head = voucher.head
        if voucher.kind != "invoice" or (voucher.cono, voucher.divi) != (CONO, DIVI):
            continue
        cost = [ln for ln in voucher.lines if not ln.get("VTXT", "").startswith(_NOT_COST)]
        found[f"{DIVI}/{head['SUNO']}/{head['SINO']}"] = cost
    return found


def m3_orders(m3: InforSimulator) -> dict[str, int]:
    """M3 purchase orders of the company: PUNO → number of lines."""
    return {puno: len(order.lines) for puno, order in m3.db.book(CONO).purchase_orders.items()}


@dataclass
class Tally:
    """Lost and duplicated documents, by natural key."""

    records: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)


def tally(env: demo.DemoEnvironment) -> Tally:
    """Every posted M3 invoice and every M3 order against what ServiceNow holds."""
    m3, sn = infor(env), servicenow(env)
    result = Tally()
    invoices = Counter(r["external_invoice_number"] for r in rows(sn, "sn_shop_invoice"))
    invoice_ids = {r["sys_id"]: r["external_invoice_number"] for r in rows(sn, "sn_shop_invoice")}
    lines = Counter(invoice_ids.get(r["invoice"], "") for r in rows(sn, "sn_shop_invoice_line"))
    for key, cost in m3_invoices(m3).items():
        result.records += 1
        if invoices[key] == 0:
            result.lost.append(key)
        elif invoices[key] > 1 or lines[key] > len(cost):
            result.duplicated.append(key)
    orders = Counter(r["erp_po_number"] for r in rows(sn, "sn_shop_purchase_order"))
    order_ids = {r["sys_id"]: r["erp_po_number"] for r in rows(sn, "sn_shop_purchase_order")}
    order_lines = Counter(order_ids.get(r["purchase_order"], "")
                          for r in rows(sn, "sn_shop_purchase_order_line"))
    for puno, count in m3_orders(m3).items():
        result.records += 1
        if orders[puno] == 0:
            result.lost.append(puno)
        elif orders[puno] > 1 or order_lines[puno] > count:
            result.duplicated.append(puno)
    return result


def staged_rows(env: demo.DemoEnvironment) -> int:
    """Rows ever written to the S2P staging tables (each import adds one)."""
    sn = servicenow(env)
    return sum(len(sn.instance.rows[t]) for t in sn.instance.rows if "_imp_" in t
               or t.endswith("_stage"))


async def post_invoices(env: demo.DemoEnvironment, count: int, *, seed: int) -> None:
    """``count`` more posted supplier invoices in M3, entered through the M3 client."""
    from connector import demo_servicenow
    from connector.http.limiter import LimiterRegistry
    from connector.systems import open_connection
    from connector.vault import open_vault

    config = env.config
    connection = open_connection(config.systems["infor"], open_vault(config).get("infor"),
                                 LimiterRegistry())
    try:
        await demo_servicenow.post_invoices(connection.client, count, seed=seed, prefix="RL")
    finally:
        await connection.aclose()
