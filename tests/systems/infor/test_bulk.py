"""The M3 bulk endpoint from the client: AddLine batches, per-transaction errors, and the
coalescer that sends concurrent single calls as one request (issue 18, "fewer calls")."""

from __future__ import annotations

import asyncio

import pytest

from connector.errors import RejectedError
from connector.systems.infor import M3Client
from tests.systems.infor.conftest import InforSandbox
from tests.systems.infor.test_client import first_active, head_fields


async def test_a_hundred_lines_are_one_request(infor: InforSandbox) -> None:
    """add_lines stages 100 lines on a batch with one bulk POST, in order."""
    client = infor.connect(coalesce_ms=0).client
    suno = first_active(await infor.entities("suppliers"))
    inbn = await client.add_head(head_fields(suno, "BULK-100", "100"), record="invoice BULK-100")
    before = infor.sim.counters["requests"]
    lines = [{"RDTP": "8", "NLAM": "1"} for _ in range(100)]
    await client.add_lines(inbn, lines, records=[f"line {n}" for n in range(1, 101)])
    assert infor.sim.counters["requests"] - before == 1
    staged = await client.lines(inbn)
    assert [row["TRNO"] for row in staged] == [str(n) for n in range(1, 101)]


@pytest.mark.parametrize("stop_on_error", [False, True], ids=["continue", "stop"])
async def test_a_refused_line_is_named_and_the_others_are_as_m3_left_them(
    infor: InforSandbox, stop_on_error: bool
) -> None:
    """A refused transaction in a bulk AddLine raises naming its record; M3 ran the others
    (or stopped there: wasTerminated), and ``lines`` shows which."""
    await infor.knobs(bulk_stop_on_error=stop_on_error)
    client = infor.connect(coalesce_ms=0).client
    suno = first_active(await infor.entities("suppliers"))
    inbn = await client.add_head(head_fields(suno, "BULK-ERR", "3"), record="invoice BULK-ERR")
    lines = [{"RDTP": "8", "NLAM": "1"}, {"RDTP": "9", "NLAM": "1"}, {"RDTP": "8", "NLAM": "1"}]
    with pytest.raises(RejectedError, match="line 2") as caught:
        await client.add_lines(inbn, lines, records=["line 1", "line 2", "line 3"])
    assert caught.value.field == "RDTP"
    assert len(await client.lines(inbn)) == (1 if stop_on_error else 2)


async def test_concurrent_calls_share_one_request_and_keep_their_own_answers(
    infor: InforSandbox,
) -> None:
    """Four look-ups made together go as one bulk request; each caller gets its own rows,
    and an unknown supplier is still an empty answer for its caller alone."""
    client = infor.connect(coalesce_ms=20).client
    known = [s["SUNO"] for s in await infor.entities("suppliers")][:3]
    await client.get_supplier(known[0])  # the token request is not what is counted
    before = infor.sim.counters["requests"]
    found = await asyncio.gather(*(client.get_supplier(s) for s in [*known, "NOSUCH"]))
    assert infor.sim.counters["requests"] - before == 1
    assert [f.SUNO if f else None for f in found] == [*known, None]


async def test_a_refused_write_fails_its_caller_only(infor: InforSandbox) -> None:
    """Two AddHeads coalesced into one request: the refused one raises for its caller, the
    other gets its batch number."""
    client = infor.connect(coalesce_ms=20).client
    suno = first_active(await infor.entities("suppliers"))
    good = client.add_head(head_fields(suno, "CO-1"), record="invoice CO-1")
    bad = client.add_head(head_fields("NOSUCH", "CO-2"), record="invoice CO-2")
    inbn, refused = await asyncio.gather(good, bad, return_exceptions=True)
    assert isinstance(inbn, str) and inbn
    assert isinstance(refused, RejectedError) and "invoice CO-2" in str(refused)


async def _document_steps(
    client: M3Client, steps: list[str], suno: str, itno: str, *, before: asyncio.Event | None
) -> None:
    """One document's calls, alternating programs; ``before`` holds its first call back."""
    with client.document():
        if before is not None:
            await before.wait()
        for step in steps:
            if step == "supplier":
                await client.get_supplier(suno)
            elif step == "item":
                await client.get_item(itno)
            else:
                # Local work between two calls (our ledger), longer for some documents.
                await asyncio.sleep(float(step))


async def test_documents_with_local_work_between_calls_still_share_each_request(
    infor: InforSandbox,
) -> None:
    """Four documents whose next calls come at different moments (each reads its ledger
    first) still send one request per step, however fast M3 answers."""
    client = infor.connect(coalesce_ms=2000).client
    suno = first_active(await infor.entities("suppliers"))
    itno = (await infor.entities("items"))[0]["ITNO"]
    await client.get_supplier(suno)  # the token request is not what is counted
    before = infor.sim.counters["requests"]
    await asyncio.gather(
        *(
            _document_steps(client, ["supplier", f"{0.002 * n}", "item"], suno, itno, before=None)
            for n in range(4)
        )
    )
    assert infor.sim.counters["requests"] - before == 2


@pytest.mark.parametrize("latency_ms", [0, 120], ids=["instant", "slower-than-the-wait"])
async def test_a_document_a_step_behind_catches_up_instead_of_splitting_every_request(
    infor: InforSandbox, latency_ms: int
) -> None:
    """A document that starts a step late is let catch up (the others' next call waits a
    round), so from then on each request carries all four: 5 requests, not 8 — also when
    M3 takes longer to answer than calls wait for each other (coalesce_ms)."""
    await infor.knobs(latency_ms=latency_ms)
    client = infor.connect(coalesce_ms=50).client
    suno = first_active(await infor.entities("suppliers"))
    itno = (await infor.entities("items"))[0]["ITNO"]
    await client.get_supplier(suno)
    before = infor.sim.counters["requests"]
    late = asyncio.Event()
    steps = ["supplier", "item", "supplier", "item"]

    async def first() -> None:
        with client.document():
            await client.get_supplier(suno)
            late.set()
            for step in steps[1:]:
                await (client.get_item(itno) if step == "item" else client.get_supplier(suno))

    await asyncio.gather(
        first(),
        *(_document_steps(client, steps, suno, itno, before=None) for _ in range(2)),
        _document_steps(client, steps, suno, itno, before=late),
    )
    assert infor.sim.counters["requests"] - before == 5
