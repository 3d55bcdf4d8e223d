"""`check` on a SyteLine, LN or FSM system: it validates the line itself, and a wrong company
or a missing/unknown Mongoose configuration is a FAIL that names the config key to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from connector import demo
from connector.errors import ConfigurationError
from connector.systems.infor import check
from tests.commands.support import TINY, cli
from tests.systems.infor.conftest import InforSandbox

#: Each line's seed on the simulator and the config keys that reach it.
LINES: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "syteline": (
        {"line": "CSI", "seed": 2},
        {"company": "DALS", "mongoose_config": "ACME_DALS"},
    ),
    "ln": ({"line": "LN", "seed": 1, "suppliers": 1}, {"company": "100"}),
    "fsm": ({"line": "FSM", "seed": 1, "vendors": 1}, {"company": "100"}),
}
#: A company each line does not have, and what the message must then say about it.
WRONG_COMPANY = {
    "syteline": ("HOUS", "'HOUS'"),
    "ln": ("4242", "company 4242"),
    "fsm": ("999", "'999'"),
}


async def connect(infor: InforSandbox, product: str, **overrides: str) -> Any:
    """A connection with ``product`` on its seeded line, ``overrides`` applied to the keys."""
    seed, keys = LINES[product]
    await infor.admin("POST", "seed", seed)
    return infor.connect(product=product, **{**keys, **overrides})


@pytest.mark.parametrize("product", sorted(LINES))
async def test_check_on_a_line_gets_a_token_and_reaches_the_line(
    infor: InforSandbox, product: str
) -> None:
    """With the right keys, `check` passes and says which line it reached (not M3)."""
    assert await check(await connect(infor, product)) == (
        f"token ok; {product} company/site reachable"
    )


@pytest.mark.parametrize("product", sorted(LINES))
async def test_check_on_a_line_with_a_wrong_company_says_to_set_company(
    infor: InforSandbox, product: str
) -> None:
    """A company the line does not have fails `check` (FSM's lists would just answer empty),
    with the message naming the value and the config key ``company`` to set."""
    company, named = WRONG_COMPANY[product]
    connection = await connect(infor, product, company=company)
    with pytest.raises(ConfigurationError) as failure:
        await check(connection)
    assert "set company of this Infor system" in failure.value.message
    assert named in failure.value.message


async def test_syteline_without_mongoose_config_says_which_key_to_add(
    infor: InforSandbox,
) -> None:
    """SyteLine with no mongoose_config is refused before any request, with the line to add."""
    with pytest.raises(ConfigurationError, match='add mongoose_config = "<configuration>"'):
        await connect(infor, "syteline", mongoose_config="")


async def test_syteline_with_an_unknown_mongoose_config_says_to_set_it(
    infor: InforSandbox,
) -> None:
    """A configuration the application server does not have fails `check`, naming it and
    the key ``mongoose_config``."""
    connection = await connect(infor, "syteline", mongoose_config="ACME_HOU")
    with pytest.raises(ConfigurationError) as failure:
        await check(connection)
    assert "'ACME_HOU'" in failure.value.message
    assert "set mongoose_config of this Infor system" in failure.value.message


@pytest.mark.parametrize(
    ("product", "broken", "fix"),
    [
        ("syteline", ('mongoose_config = "ACME_DALS"\n', ""), 'add mongoose_config = "<config'),
        ("fsm", ('company = "100"', 'company = "999"'), "set company of this Infor system"),
    ],
)
async def test_check_command_turns_a_line_misconfiguration_into_a_fail_row(
    tmp_path: Path, product: str, broken: tuple[str, str], fix: str
) -> None:
    """`ml-connector check` on the demo's line config is OK; with the key broken it exits 1
    and the infor row is a FAIL whose detail gives the fix, the other systems still OK."""
    env = await demo.start(
        tmp_path / "state", counts=TINY, flows=["servicetitan-infor"], infor_product=product
    )
    try:
        code, out, err = await cli(env, "check", "--json")
        rows = {r["system"]: r for r in msgspec.json.decode(out)}
        assert code == 0 and rows["infor"]["status"] == "OK", (err, rows)
        text = env.config_path.read_text()
        assert broken[0] in text
        env.config_path.write_text(text.replace(broken[0], broken[1], 1))
        code, out, err = await cli(env, "check", "--json")
        rows = {r["system"]: r for r in msgspec.json.decode(out)}
        assert code == 1, err
        assert rows["infor"]["status"] == "FAIL" and fix in rows["infor"]["detail"], rows
        assert rows["servicetitan"]["status"] == "OK"
    finally:
        await env.stop()
