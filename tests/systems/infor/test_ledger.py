"""M3 client: posted supplier invoices by modification date (EXPORTMI on FAPIBH, restarted
after the last INBN) and their cost lines (GLS200MI), against the simulator."""

from __future__ import annotations

import datetime as dt

from connector.systems.infor import ledger
from tests.systems.infor.conftest import InforSandbox


async def post(infor: InforSandbox, division: str, sino: str, *amounts: str) -> str:
    """A validated invoice batch of supplier SUP00001 in ``division``; its INBN."""
    m3 = infor.connect(division=division).client
    total = str(sum(float(a) for a in amounts))
    inbn = await m3.add_head({"SUNO": "SUP00001", "SINO": sino, "IVDT": "20250301",
                              "CUAM": f"{float(total):.2f}"}, record=sino)
    for amount in amounts:
        await m3.add_line(inbn, {"RDTP": "8", "NLAM": amount}, record=sino)
    await m3.validate_batch(inbn, record=sino)
    return inbn


async def test_posted_invoices_page_by_inbn_and_stay_in_their_division(
    infor: InforSandbox,
) -> None:
    """Posted invoices page by INBN restart, stay in their division; cost lines come along."""
    posted = [await post(infor, "AAA", f"L-{n}", "10.00", "2.50") for n in range(5)]
    await post(infor, "BBB", "L-other", "7.00")
    m3 = infor.connect(page_size=2).client
    await m3.add_head({"SUNO": "SUP00001", "SINO": "L-staged", "IVDT": "20250301"},
                      record="staged")
    heads = [head async for head in ledger.posted_invoices(m3)]
    assert [h.INBN for h in heads] == posted
    assert {h.SINO for h in heads} == {f"L-{n}" for n in range(5)} and heads[0].CUAM == "12.50"
    lines = await ledger.voucher_lines(m3, heads[0])
    assert [line.NLAM for line in lines] == ["10.00", "2.50"] and lines[0].AIT1


async def test_changed_since_reads_only_later_changes(infor: InforSandbox) -> None:
    """``changed_since`` (yyyyMMdd) keeps invoices changed on or after that day."""
    await post(infor, "AAA", "C-1", "1.00")
    m3 = infor.connect().client
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).strftime("%Y%m%d")
    today = dt.date.today().strftime("%Y%m%d")
    assert [h async for h in ledger.posted_invoices(m3, tomorrow)] == []
    assert [h.SINO async for h in ledger.posted_invoices(m3, today)] == ["C-1"]


async def stamped(
    infor: InforSandbox, sino: str, cori: str, ivdt: str, *, validate: bool = True
) -> str:
    """A batch of SUP00001 in division AAA carrying ``cori``, validated unless ``validate``
    is False; its INBN."""
    m3 = infor.connect(division="AAA").client
    inbn = await m3.add_head({"SUNO": "SUP00001", "SINO": sino, "IVDT": ivdt, "CUAM": "5.00",
                              "CORI": cori}, record=sino)
    await m3.add_line(inbn, {"RDTP": "8", "NLAM": "5.00"}, record=sino)
    if validate:
        await m3.validate_batch(inbn, record=sino)
    return inbn


async def test_stamped_invoices_list_a_period_of_our_posted_batches_by_cori_prefix(
    infor: InforSandbox,
) -> None:
    """Reconciliation's read: only posted batches whose CORI starts with the prefix and whose
    invoice date is in the period come back, every one of them across restart pages."""
    ours = [await stamped(infor, f"B-{n}", f"st:bill:{n}", "20250310") for n in range(5)]
    await stamped(infor, "B-late", "st:bill:9", "20250401")
    await stamped(infor, "B-staged", "st:bill:8", "20250310", validate=False)
    await stamped(infor, "I-1", "st:invoice:1", "20250310")
    await stamped(infor, "H-1", "", "20250310")
    m3 = infor.connect(page_size=2).client
    heads = [h async for h in ledger.stamped_invoices(m3, "st:bill:", "20250301", "20250331")]
    assert [h.INBN for h in heads] == ours
    assert [(h.CORI, h.SINO, h.CUAM, h.IVDT) for h in heads[:1]] == [
        ("st:bill:0", "B-0", "5.00", "20250310")]
