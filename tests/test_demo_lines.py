"""`ml-connector demo --flow servicetitan-infor --infor-product syteline|ln|fsm`: the demo's
two cycles on each CloudSuite line, through the command's own code, on a tiny contractor."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from connector.cli import build_parser
from connector.commands.demo import _run
from connector.config import InforSystem, load_config
from connector.demo_lines import LINE_DEMOS
from tests.commands.support import TINY
from tests.flows.infor_line_support import FLOW, LINE_WRITES

#: A few of the line's own suppliers and items, so its → ServiceTitan streams carry some.
LINE_COUNTS = {
    "syteline": {"vendors": 2, "items": 2, "vouchers": 1, "purchase_orders": 1},
    "ln": {"suppliers": 2, "items": 2},
    "fsm": {"vendors": 2, "items": 2},
}


@pytest.mark.parametrize("product", sorted(LINE_DEMOS))
async def test_demo_on_a_line_lands_every_stream_and_the_second_cycle_writes_nothing(
    product: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On each line the demo's first cycle creates suppliers, items, POs, AP bills and job
    invoices (booked to the clearing supplier the demo set up on the line) with nothing
    failed, the line's own suppliers and items reach ServiceTitan, and the second cycle
    writes nothing."""
    state_dir = tmp_path / "demo"
    args = build_parser().parse_args(
        [
            "demo",
            "--json",
            "--flow",
            FLOW,
            "--infor-product",
            product,
            "--state-dir",
            str(state_dir),
        ]
    )
    counts = {**TINY, LINE_DEMOS[product].segment: LINE_COUNTS[product]}
    code = await _run(
        args.state_dir, args.seed, args.json, tuple(args.flows), args.infor_product, counts
    )
    summary = msgspec.json.decode(capsys.readouterr().out)
    assert code == 0 and summary["ok"] is True, summary
    [report] = summary["flows"]
    first, second = report["cycles"]
    for stream in (*LINE_WRITES, "suppliers_to_st", "items_to_st"):
        assert first["streams"][stream].get("created", 0) > 0, (stream, first["streams"])
    assert first["totals"]["failed"] == first["totals"]["in_doubt"] == 0, first["totals"]
    assert second["totals"]["created"] == second["totals"]["updated"] == 0, second["streams"]
    infor = load_config(state_dir / "connector.toml").systems["infor"]
    assert isinstance(infor, InforSystem)
    assert (infor.product, infor.company) == (product, LINE_DEMOS[product].system["company"])


def test_demo_refuses_infor_servicenow_on_a_line_as_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`demo --flow infor-servicenow --infor-product ln` exits 2 with a one-line reason
    (that flow reads M3) instead of a traceback, before emptying the state directory."""
    state_dir = tmp_path / "demo"
    state_dir.mkdir()
    (state_dir / "connector.db").write_text("an earlier demo's state")
    args = build_parser().parse_args(
        [
            "demo",
            "--flow",
            "infor-servicenow",
            "--infor-product",
            "ln",
            "--state-dir",
            str(state_dir),
        ]
    )
    assert args.handler(args) == 2
    err = capsys.readouterr().err
    assert "infor-servicenow reads M3" in err and "--infor-product ln" in err
    assert (state_dir / "connector.db").exists()
