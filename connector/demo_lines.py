"""The demo's servicetitan-infor flow on a CloudSuite line other than M3 (``--infor-product``).

The demo writes its Infor system for M3 and does the implementer's setup there (mapping
tables from M3's accounting dimensions, the clearing supplier). For another line this module
then seeds that line's site on the same Infor simulator, points the config at it (the line's
product keys in ``[systems.infor]``, cost centers in the line's own form — SyteLine unit
codes are 4 characters, M3's ``CC100`` is 5 — as an implementer mapping to that line would
have entered them) and creates the clearing supplier job invoices are booked to on the line,
through the line's client, as a person setting the line up would. Add a line here by adding
an entry to :data:`LINE_DEMOS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connector.demo import DemoEnvironment

Counts = Mapping[str, int]


def _nested(seed: int, counts: Counts) -> dict[str, object]:
    """SyteLine's seed body: record counts under ``counts``."""
    return {"seed": seed, "counts": dict(counts)}


def _flat(seed: int, counts: Counts) -> dict[str, object]:
    """LN's and FSM's seed body: record counts as top-level keys."""
    return {"seed": seed, **counts}


def _same(center: str) -> str:
    return center


@dataclass(frozen=True)
class LineDemo:
    #: The line's segment on the Infor simulator (``seed`` with ``{"line": segment}``).
    segment: str
    #: Keys of ``[systems.infor]`` for this line (``company`` replaces M3's).
    system: dict[str, str]
    #: An M3 cost center of the demo's mapping → the line's cost center.
    cost_center: Callable[[str], str]
    #: What the demo seeds on the line unless the caller passes counts (the simulator's own
    #: defaults are empty for LN and FSM, which would leave the line → ServiceTitan streams
    #: with nothing to carry).
    counts: Counts
    #: The seed request body (without ``line``) for a seed number and counts.
    seed_body: Callable[[int, Counts], dict[str, object]]


LINE_DEMOS: dict[str, LineDemo] = {
    "syteline": LineDemo(
        "CSI",
        {"company": "DALS", "product": "syteline", "mongoose_config": "ACME_DALS"},
        lambda center: center.removeprefix("CC"),
        {"vendors": 40, "items": 60, "vouchers": 20, "purchase_orders": 10},
        _nested,
    ),
    # LN company 100 and FSM company 100 are each simulator's seeded company; M3's cost
    # centers (CC100, 5 characters) fit LN's CostCenter (9) and FSM's AccountingUnit (15).
    "ln": LineDemo(
        "LN", {"company": "100", "product": "ln"}, _same, {"suppliers": 12, "items": 20}, _flat
    ),
    "fsm": LineDemo(
        "FSM", {"company": "100", "product": "fsm"}, _same, {"vendors": 12, "items": 20}, _flat
    ),
}


async def use_line(
    env: DemoEnvironment, product: str, seed: int, counts: dict[str, int] | None = None
) -> None:
    """Seed ``product``'s site (``counts`` per the line's seed, else the demo's), switch the
    written config to it and create the clearing supplier there."""
    from connector.demo import admin

    line = LINE_DEMOS[product]
    request = {"line": line.segment, **line.seed_body(seed, counts or line.counts)}
    await admin(env.simulators["infor"], "POST", "seed", request)
    text = env.config_path.read_text()
    keys = "".join(f'{name} = "{value}"\n' for name, value in line.system.items())
    text = text.replace("[systems.infor]\n", "[systems.infor]\n" + keys, 1)
    text = re.sub(r'(?m)^company = "100"\ndivision = "AAA"\n', "", text, count=1)
    section = re.search(r"(?ms)^\[mappings\.business_unit_cost_center\]\n(.*?)(?:\n\n|\Z)", text)
    if section is not None:
        body = re.sub(
            r'(?m)^("[^"]*") = "([^"]*)"$',
            lambda m: f'{m.group(1)} = "{line.cost_center(m.group(2))}"',
            section.group(1),
        )
        text = text[: section.start(1)] + body + text[section.end(1) :]
    env.config_path.write_text(text)
    await _clearing_supplier(env)


async def _clearing_supplier(env: DemoEnvironment) -> None:
    """The supplier job invoices are booked to (the flow's ``invoice_supplier``), created on
    the line when it is not there yet (a SyteLine site is seeded with it)."""
    from connector.demo import CLEARING_SUPPLIER
    from connector.http.limiter import LimiterRegistry
    from connector.systems import open_connection
    from connector.systems.infor.lines import InforLine, LineSupplier
    from connector.vault import open_vault

    config = env.config
    system = config.systems["infor"]
    connection = open_connection(
        system, open_vault(config).get(system.credential), LimiterRegistry()
    )
    try:
        line: InforLine | None = connection.line
        if line is None:
            raise ValueError(f"the demo's Infor system is M3, not a line: {system!r}")
        if await line.get_supplier(CLEARING_SUPPLIER) is None:
            supplier = LineSupplier(code=CLEARING_SUPPLIER, name="ServiceTitan job invoices")
            await line.write_supplier(supplier, None)
    finally:
        await connection.aclose()
