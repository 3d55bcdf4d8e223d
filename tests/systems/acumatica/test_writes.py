"""The release action: confirmed by the caller's status read, else by polling (issue 18)."""

from __future__ import annotations

import pytest

from connector.errors import RetryableError
from connector.systems.acumatica import AcumaticaConnection
from connector.systems.acumatica import models as m
from tests.systems.acumatica.conftest import Sandbox
from tests.systems.acumatica.test_entities import new_invoice


async def _requests(sandbox: Sandbox) -> int:
    return (await sandbox.counters())["requests"]


@pytest.mark.parametrize(
    ("answer", "requests"),
    [("released", 1), ("not yet", 3), ("read failed", 3)],
    ids=["confirmed", "not-yet", "read-failed"],
)
async def test_a_release_confirmed_by_the_status_read_is_not_polled(
    sandbox: Sandbox, acumatica: AcumaticaConnection, answer: str, requests: int
) -> None:
    """ReleaseInvoice whose caller reads the invoice released needs no poll of its own; one
    that does not confirm it (not released yet, or the read failed) polls the operation
    until Acumatica answers 204, as without a confirmation."""
    await sandbox.knobs(action_pending_polls=1)
    client = acumatica.client
    saved = await client.put(m.Invoice, new_invoice())
    assert saved.reference_nbr

    async def confirm() -> bool:
        if answer == "read failed":
            raise RetryableError("the status read timed out", system="acumatica")
        return answer == "released"

    before = await _requests(sandbox)
    await client.release(m.Invoice, "Invoice", saved.reference_nbr, confirm=confirm)
    assert await _requests(sandbox) - before == requests
    released = await client.find_invoice(None, "ST-88812")
    assert released is not None and released.status == "Open"
