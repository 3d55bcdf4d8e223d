"""servicetitan-infor keeps exactly once outside one process (issue 12, items 2, 5, 10, 12)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from connector import demo
from connector.app import App
from connector.store import Store
from tests.flows import test_servicetitan_infor as base
from tests.flows.test_servicetitan_infor import FLOW, state

env, app = base.env, base.app  # the demo environment and app, shared with the flow tests


def _stamped(st: Any) -> Counter[str]:
    return Counter(
        d["value"]
        for v in st["entities"]["vendors"]
        for d in v.get("externalData") or []
        if d["key"] == "m3.suno"
    )


async def test_an_in_doubt_servicetitan_vendor_create_is_found_live_not_repeated(
    env: demo.DemoEnvironment, app: App
) -> None:
    """Item 5: a vendor create whose reply is lost is settled by a live lookup of the
    supplier number ServiceTitan stores in externalData, in the same cycle, never re-sent."""
    await demo.admin(
        env.simulators["servicetitan"],
        "POST",
        "faults",
        {
            "script": [
                {"fault": "timeout_after_commit", "match": "write", "path_contains": "vendors"}
            ],
            "hang_s": 0.2,
        },
    )
    report = await (await app.runner(FLOW)).cycle(streams=["suppliers_to_st"])
    assert report.ok, report.error
    assert report.total("in_doubt") == 0, report.counts()
    stamped = _stamped(await state(env, "servicetitan"))
    assert stamped and max(stamped.values()) == 1


async def test_a_rebuilt_state_database_creates_nothing_in_m3_or_servicetitan(
    env: demo.DemoEnvironment, app: App, tmp_path: Any
) -> None:
    """Item 2: after a full sync, a new state database over the same systems adopts every
    supplier, vendor, item, order and AP batch: nothing is created again on either side."""
    first = await (await app.runner(FLOW)).cycle()
    assert first.ok, first.error
    before_st, before_m3 = await state(env, "servicetitan"), await state(env, "infor")
    mappings = await app.store.all_mappings()
    rebuilt = await Store.open(tmp_path / "rebuilt.db")
    old = app.store
    try:
        for kind, values in mappings.items():
            await rebuilt.set_mappings(kind, values)
        app.store, app.runners = rebuilt, {}
        again = await (await app.runner(FLOW)).cycle()
    finally:
        app.store, app.runners = old, {}
        await rebuilt.close()
    assert again.ok, again.error
    assert again.total("created") == 0, again.counts()
    after_st, after_m3 = await state(env, "servicetitan"), await state(env, "infor")
    assert after_st["counts"] == before_st["counts"]
    assert after_m3["counts"] == before_m3["counts"]
