"""`errors list|show|retry|dismiss`, `mappings set`, the cause summary and the breaker."""

from __future__ import annotations

import sqlite3

import msgspec

from connector import demo
from tests.commands.support import (
    BAD,
    FLOW,
    KIND,
    break_cost_centers,
    cli,
    cli_at_once,
    fix_cost_centers,
)


async def failing_sync(env: demo.DemoEnvironment) -> tuple[str, list[dict[str, object]]]:
    """A sync whose documents M3 refuses for one cause; stderr and `errors list --json`."""
    code, _, err = await cli(env, "sync", "--flow", FLOW)
    assert code == 1
    code, out, err2 = await cli(env, "errors", "list", "--json")
    assert code == 0, err2
    return err, list(msgspec.json.decode(out))


def ledger_state(env: demo.DemoEnvironment, stream: str, source_id: str) -> str:
    with sqlite3.connect(env.config.store.path) as conn:
        row = conn.execute(
            "SELECT state FROM ledger WHERE flow = ? AND stream = ? AND source_id = ?",
            (FLOW, stream, source_id),
        ).fetchone()
    return str(row[0])


async def test_refusals_of_one_cause_are_one_group_and_retry_brings_them_to_done(
    env: demo.DemoEnvironment,
) -> None:
    """One wrong cost center: one error group with every refused document; stderr counts
    them by cause; after `mappings set`, retrying one id then the group lands them all."""
    good = await break_cost_centers(env)
    err, groups = await failing_sync(env)
    # One group per kind of document refused: the invoices, and the AP bill.
    assert [g["streams"] for g in groups] == [["invoices_to_m3"], ["ap_bills_to_m3"]]
    group = groups[0]
    count = int(str(group["count"]))
    assert count == 4
    assert group["error_kind"] == "rejected"
    assert str(group["cause"]).startswith("M3 APS450MI/AddLine refused invoice <n> line <n>: ")
    assert f"Accounting identity {BAD} does not exist in dimension <n>" in str(group["cause"])
    # stderr: one line per cause with its count, not one per record.
    assert "  4 x invoices_to_m3: " in err and "  1 x ap_bills_to_m3: " in err, err
    assert err.count("Accounting identity") == 2
    assert "completed with errors" in err

    code, out, err = await cli(env, "errors", "show", str(group["group"])[:6], "--json")
    assert code == 0, err
    records = msgspec.json.decode(out)["records"]
    assert len(records) == count

    key = next(iter(good))
    code, out, err = await cli(env, "mappings", "set", KIND, key, good[key])
    assert code == 0, err
    assert f"changed mapping {KIND} {key}: '{BAD}' -> '{good[key]}'" in out
    await fix_cost_centers(env, good)

    first = records[0]
    code, out, err = await cli(
        env, "errors", "retry", "--flow", FLOW, "--id", first["source_id"], "--json"
    )
    assert code == 0, err
    assert ledger_state(env, first["stream"], first["source_id"]) == "done"
    code, out, _ = await cli(env, "errors", "list", "--json")
    assert msgspec.json.decode(out)[0]["count"] == count - 1

    code, out, err = await cli(env, "errors", "retry", str(group["group"]))
    assert code == 0, err
    assert all(ledger_state(env, r["stream"], r["source_id"]) == "done" for r in records)
    (_, listed, _), (_, runs, _) = await cli_at_once(
        env, ("errors", "list", "--json"), ("runs", "--json")
    )
    assert [g["streams"] for g in msgspec.json.decode(listed)] == [["ap_bills_to_m3"]]
    assert msgspec.json.decode(runs)[-1]["status_text"] == "completed with errors"


async def test_dismiss_closes_a_group_with_its_reason_in_the_audit_trail(
    env: demo.DemoEnvironment,
) -> None:
    """`errors dismiss GROUP --reason` closes every letter of the group as dismissed and
    writes the reason into each record's audit; unknown groups are refused with advice."""
    await break_cost_centers(env)
    _, groups = await failing_sync(env)
    group_id = str(groups[0]["group"])
    code, _, err = await cli(env, "errors", "dismiss", "zzzz", "--reason", "x")
    assert code == 1 and "no single open error group matches 'zzzz'" in err
    assert group_id in err and "Traceback" not in err

    code, out, err = await cli(
        env, "errors", "dismiss", group_id, "--reason", "posted by hand in M3", "--json"
    )
    assert code == 0, err
    dismissed = msgspec.json.decode(out)["dismissed"]
    assert len(dismissed) == groups[0]["count"]
    one = dismissed[0]
    (_, listed, _), (code, out, err) = await cli_at_once(
        env, ("errors", "list", "--json"), ("audit", FLOW, one["source_id"], "--json")
    )
    assert [g["group"] for g in msgspec.json.decode(listed)] == [groups[1]["group"]]
    assert code == 0, err
    steps = [e for e in msgspec.json.decode(out)["events"] if e["step"] == "dismissed"]
    assert steps and "posted by hand in M3" in steps[-1]["detail"]


async def test_the_circuit_breaker_stops_a_stream_after_identical_refusals(
    env: demo.DemoEnvironment,
) -> None:
    """With circuit_breaker_refusals = 2, the second refusal in a row for one cause stops
    the stream, and the run says why and what to do."""
    env.config_path.write_text(
        env.config_path.read_text().replace(
            "[service]\n", "[service]\ncircuit_breaker_refusals = 2\n"
        )
    )
    await break_cost_centers(env)
    code, out, err = await cli(env, "sync", "--flow", FLOW, "--json")
    assert code == 1
    report = msgspec.json.decode(out)[0]
    assert report["status_text"] == "stopped"
    assert "2 records in a row were refused for the same cause" in report["error"]
    assert "circuit_breaker_refusals" in report["error"] and ".." not in report["error"]
    # The AP bill stream met one refusal; the invoices stopped at their second (records
    # its other loader workers were already writing finish, as at any stop).
    assert report["streams"]["ap_bills_to_m3"]["failed"] == 1
    assert report["streams"]["invoices_to_m3"]["failed"] >= 2
    assert report["error"].startswith("stream invoices_to_m3 stopped: ")
