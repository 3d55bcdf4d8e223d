"""IFS client writes: posting voucher rows, If-Match on every mutation, 412 re-reads,
in-doubt answers and refusals that name the attribute."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connector.errors import ConflictError, InDoubtError, RejectedError
from connector.systems.ifs import IfsConnection
from connector.systems.ifs import models as m
from tests.systems.ifs.conftest import Connect, Sandbox

ORDER = "PurchaseOrderHandling.svc/PurchaseOrderSet(OrderNo='P100231')"


def row(**changes: Any) -> m.NewExternalVoucherRow:
    """An external voucher row for ServiceTitan invoice 88812 on the seeded load."""
    fields: dict[str, Any] = {
        "company": "10", "load_id": "ML-LOAD-1", "account": "4000", "correction": False,
        "transaction_date": dt.date(2025, 3, 2), "voucher_type": "K", "code_b": "CC10",
        "currency_code": "USD", "currency_debet_amount": 1200.0, "text": "ST invoice 88812"}
    return m.NewExternalVoucherRow(**(fields | changes))


async def test_create_posts_a_row_and_returns_server_keys_and_etag(ifs: IfsConnection) -> None:
    """create() answers the stored row: RecordNo assigned, state Loaded, a fresh ETag."""
    created = await ifs.client.create(m.ExternalVoucherRow, row(), record="invoice 88812")
    assert (created.record_no, created.objstate, created.correction) == (1, "Loaded", False)
    assert created.etag and created.keyref == "COMPANY=10^LOAD_ID=ML-LOAD-1^RECORD_NO=1^"
    assert [r.record_no for r in await ifs.client.find_voucher_rows("ML-LOAD-1")] == [1]


async def test_refusal_names_the_attribute_ifs_blamed(ifs: IfsConnection) -> None:
    """An ORA-20111 refusal is a RejectedError whose field is the blamed attribute."""
    with pytest.raises(RejectedError) as caught:
        await ifs.client.create(m.ExternalVoucherRow, row(code_b="CC99"), record="invoice 1")
    assert caught.value.field == "CodeB"
    assert "invoice 1" in str(caught.value) and "CodeB.FND_RECORD_NOT_EXIST" in str(caught.value)


async def test_lost_answer_to_a_post_is_in_doubt_and_never_resent(
    sandbox: Sandbox, connect: Connect
) -> None:
    """timeout-after-commit on POST → InDoubtError; the row exists exactly once."""
    # 1 s, not less: every other call of this client must answer within it on a busy machine.
    await sandbox.knobs(hang_s=1.5, script=[{"fault": "timeout_after_commit", "match": "write"}])
    connection = connect(timeout_s=1.0)
    with pytest.raises(InDoubtError):
        await connection.client.create(m.ExternalVoucherRow, row(), record="invoice 88812")
    assert len(await sandbox.records("ExternalVouchersSet")) == 1
    assert [r.record_no for r in await connection.client.find_voucher_rows("ML-LOAD-1")] == [1]


async def test_server_error_after_a_post_is_in_doubt(sandbox: Sandbox, ifs: IfsConnection) -> None:
    """A bare 500 answering a POST is InDoubtError (it may have committed)."""
    await sandbox.knobs(status_5xx=500, script=[{"fault": "5xx", "match": "write"}])
    with pytest.raises(InDoubtError):
        await ifs.client.create(m.ExternalVoucherRow, row(), record="invoice 88812")


async def test_metadata_change_on_a_post_is_sent_once_more(
    sandbox: Sandbox, ifs: IfsConnection
) -> None:
    """MI_MODIFIED_ERROR on POST: the same request once more, exactly one row created."""
    await sandbox.knobs(mi_modified_errors=1)
    created = await ifs.client.create(m.ExternalVoucherRow, row(), record="invoice 88812")
    assert created.record_no == 1
    assert len(await sandbox.records("ExternalVouchersSet")) == 1


async def test_update_sends_if_match_and_returns_the_new_etag(ifs: IfsConnection) -> None:
    """update() with the ETag read earlier changes the row and answers its new ETag."""
    order = await ifs.client.find_purchase_order("P100231")
    assert order is not None
    updated = await ifs.client.update(
        m.PurchaseOrder, order.key_values(), m.PurchaseOrderChanges(note_text="ST PO 4410"),
        etag=order.etag)
    assert updated.note_text == "ST PO 4410" and updated.etag != order.etag


async def test_concurrent_edit_between_read_and_write_rereads_and_retries_once(
    sandbox: Sandbox, ifs: IfsConnection
) -> None:
    """Someone edits the row after our read: 412 → re-read → PATCH again with the new ETag."""
    order = await ifs.client.find_purchase_order("P100231")
    assert order is not None
    await sandbox.other_user_patch(ORDER, {"WantedReceiptDate": "2025-04-01"})
    updated = await ifs.client.update(
        m.PurchaseOrder, ("P100231",), m.PurchaseOrderChanges(note_text="ours"), etag=order.etag)
    assert updated.note_text == "ours"
    assert updated.wanted_receipt_date == dt.date(2025, 4, 1)


async def test_change_that_no_longer_applies_after_412_is_a_conflict(
    sandbox: Sandbox, ifs: IfsConnection
) -> None:
    """After a 412 the caller's still_applies sees the new row; False → ConflictError."""
    order = await ifs.client.find_purchase_order("P100231")
    assert order is not None
    await sandbox.other_user_patch(ORDER, {"NoteText": "closed by buyer"})
    with pytest.raises(ConflictError, match="no longer applies"):
        await ifs.client.update(
            m.PurchaseOrder, ("P100231",), m.PurchaseOrderChanges(note_text="ours"),
            etag=order.etag, still_applies=lambda fresh: fresh.note_text is None)


async def test_second_412_is_a_conflict_naming_the_record(
    sandbox: Sandbox, ifs: IfsConnection
) -> None:
    """A row edited again while we re-apply (412 twice) is a ConflictError naming it."""
    order = await ifs.client.find_purchase_order("P100231")
    assert order is not None
    await sandbox.other_user_patch(ORDER, {"NoteText": "theirs"})
    table = sandbox.sim.store.table("PurchaseOrderHandling/PurchaseOrderSet")

    def edited_again(fresh: m.PurchaseOrder) -> bool:
        sandbox.sim.store.touch(table.rows[("P100231",)])
        return True

    with pytest.raises(ConflictError) as caught:
        await ifs.client.update(m.PurchaseOrder, ("P100231",),
                                m.PurchaseOrderChanges(note_text="ours"), etag=order.etag,
                                still_applies=edited_again)
    assert caught.value.record == "PurchaseOrderSet(P100231)"


async def test_update_without_etag_reads_the_row_first(
    sandbox: Sandbox, ifs: IfsConnection
) -> None:
    """update() with no ETag reads the row by key and still sends If-Match (never *)."""
    await sandbox.knobs(patch_response="no_content")
    updated = await ifs.client.update(
        m.Supplier, ("SUP1001",), m.SupplierChanges(name="Ferguson Enterprises"))
    assert updated.name == "Ferguson Enterprises"


async def test_update_of_a_deleted_row_is_rejected_naming_it(ifs: IfsConnection) -> None:
    """update() of a key IFS does not hold is a RejectedError naming the row."""
    with pytest.raises(RejectedError, match=r"PurchaseOrderSet\(NOPE\) does not exist"):
        await ifs.client.update(m.PurchaseOrder, ("NOPE",), m.PurchaseOrderChanges(note_text="x"))


async def test_voucher_set_refuses_create(ifs: IfsConnection) -> None:
    """VoucherSet is read and update only: a POST is a RejectedError, not a retry."""
    with pytest.raises(RejectedError, match="405"):
        await ifs.client.create(m.Voucher, m.VoucherChanges(voucher_text2="x"), record="v")


async def test_bound_action_posts_the_load_as_a_voucher_with_if_match(
    sandbox: Sandbox, ifs: IfsConnection
) -> None:
    """run_action(DoCreateVoucher) with a stale load ETag re-reads and succeeds."""
    load = await ifs.client.find_load("ML-LOAD-1")
    assert load is not None
    await ifs.client.create(m.ExternalVoucherRow, row(account="5000"), record="debit")
    await ifs.client.create(
        m.ExternalVoucherRow,
        row(account="2400", code_b=None, currency_debet_amount=None,
            currency_credit_amount=1200.0), record="credit")
    sandbox.sim.store.touch(sandbox.sim.store.table(
        "ExternalVoucherLoadInformationHandling/ExtLoadInfoSet").rows[("10", "ML-LOAD-1")])
    await ifs.client.run_action(m.ExternalLoad, ("10", "ML-LOAD-1"), "DoCreateVoucher",
                                etag=load.etag)
    rows = await ifs.client.find_voucher_rows("ML-LOAD-1")
    assert {r.objstate for r in rows} == {"Updated"}
