"""Key-restart paging through M3 lists when the grid returns fewer rows than asked.

M3 has no offset, cursor or total: a list restarts at the key of the last row seen, which it
repeats. The ``maxrecs_cap`` knob makes the grid cap every answer below the client's page
size, so every page is short and a reader that took a short page for the end would stop
after the first one.
"""

from __future__ import annotations

from tests.systems.infor.conftest import InforSandbox

PAGE_SIZE = 7
GRID_CAP = 5


async def test_suppliers_survive_a_grid_cap_below_the_page_size(infor: InforSandbox) -> None:
    """page_size 7, grid cap 5: suppliers() still yields every supplier exactly once, in order."""
    await infor.knobs(maxrecs_cap=GRID_CAP)
    expected = [s["SUNO"] for s in await infor.entities("suppliers")]
    client = infor.connect(page_size=PAGE_SIZE).client
    got = [s.SUNO async for s in client.suppliers()]
    assert got == expected
    assert len(got) == 201
    # Each restart brings GRID_CAP - 1 new rows (the first one repeats the last seen).
    assert client.reader.calls >= len(expected) // (GRID_CAP - 1)


async def test_items_survive_a_grid_cap_below_the_page_size(infor: InforSandbox) -> None:
    """items() under the same cap yields all 300 items once; items_changed_since too."""
    await infor.knobs(maxrecs_cap=GRID_CAP)
    items = await infor.entities("items")
    client = infor.connect(page_size=PAGE_SIZE).client
    assert [i.ITNO async for i in client.items()] == [i["ITNO"] for i in items]
    since = "20241001"
    changed = [i.ITNO async for i in client.items_changed_since(since)]
    assert sorted(changed) == sorted(i["ITNO"] for i in items if i["LMDT"] >= since)
    assert len(changed) == len(set(changed))


async def test_accounting_ids_survive_a_grid_cap(infor: InforSandbox) -> None:
    """accounting_ids(1) lists all 30 accounts through pages of at most 5 rows."""
    await infor.knobs(maxrecs_cap=GRID_CAP)
    ids = await infor.connect(page_size=PAGE_SIZE).client.accounting_ids(1)
    assert len(ids) == 30 and len({i.AITM for i in ids}) == 30


async def test_batch_lines_survive_a_grid_cap(infor: InforSandbox) -> None:
    """lines() returns all 12 staged lines although the grid answers at most 5 per call."""
    client = infor.connect(page_size=PAGE_SIZE).client
    inbn = await client.add_head({"SUNO": "SUP00001", "IVDT": "20240612"}, record="invoice")
    for n in range(12):
        await client.add_line(inbn, {"RDTP": "8", "NLAM": f"{n + 1}.00"}, record="line")
    await infor.knobs(maxrecs_cap=GRID_CAP)
    lines = await client.lines(inbn)
    assert [line["TRNO"] for line in lines] == [str(n) for n in range(1, 13)]


async def test_batch_lines_beyond_the_default_maxrecs(infor: InforSandbox) -> None:
    """A batch of 105 lines lists whole: M3 stops at 100 rows when maxrecs is not sent."""
    client = infor.connect().client
    inbn = await client.add_head({"SUNO": "SUP00001", "IVDT": "20240612"}, record="invoice")
    for _ in range(105):
        await client.add_line(inbn, {"RDTP": "8", "NLAM": "1.00"}, record="line")
    assert len(await client.lines(inbn)) == 105
