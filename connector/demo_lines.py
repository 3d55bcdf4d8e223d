"""The demo's servicetitan-infor flow on a CloudSuite line other than M3 (``--infor-product``).

The demo writes its Infor system for M3 and does the implementer's setup there (mapping
tables from M3's accounting dimensions, the clearing supplier). For another line this module
then seeds that line's site on the same Infor simulator and points the config at it: the
line's product keys in ``[systems.infor]``, and cost centers in the line's own form (SyteLine
unit codes are 4 characters, M3's ``CC100`` is 5), as an implementer mapping to that line
would have entered them. Add a line here by adding an entry to :data:`LINE_DEMOS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connector.demo import DemoEnvironment


@dataclass(frozen=True)
class LineDemo:
    #: The line's segment on the Infor simulator (``seed`` with ``{"line": segment}``).
    segment: str
    #: Keys of ``[systems.infor]`` for this line (``company`` replaces M3's).
    system: dict[str, str]
    #: An M3 cost center of the demo's mapping → the line's cost center.
    cost_center: Callable[[str], str]


LINE_DEMOS: dict[str, LineDemo] = {
    "syteline": LineDemo(
        "CSI",
        {"company": "DALS", "product": "syteline", "mongoose_config": "ACME_DALS"},
        lambda center: center.removeprefix("CC"),
    ),
}


async def use_line(
    env: DemoEnvironment, product: str, seed: int, counts: dict[str, int] | None = None
) -> None:
    """Seed ``product``'s site (``counts`` per the line's seed, else its defaults) and switch
    the written config to it."""
    from connector.demo import admin

    line = LINE_DEMOS[product]
    request: dict[str, object] = {"line": line.segment, "seed": seed}
    if counts:
        request["counts"] = counts
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
