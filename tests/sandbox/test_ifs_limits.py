"""IFS simulator, limits and faults: rate limit, MI_MODIFIED_ERROR, shared faults, admin."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_ifs_support import EXT, PO, Ifs, voucher_row


@pytest.fixture
async def ifs(start_simulator: StartSimulator) -> AsyncIterator[Ifs]:
    sim = await start_simulator("ifs")
    async with aiohttp.ClientSession() as http:
        handle = Ifs(sim, http)
        await handle.seed()
        yield handle


async def test_rule10_mi_modified_error_fails_a_request_once(ifs: Ifs) -> None:
    """Rule 10: a request's first attempt is 500 MI_MODIFIED_ERROR; sent again it succeeds."""
    await ifs.knobs(mi_modified_errors=1)
    status, body, _ = await ifs.call("GET", PO, params={"$top": "1"})
    assert (status, body["error"]["code"]) == (500, "MI_MODIFIED_ERROR")
    status, _, _ = await ifs.call("GET", PO, params={"$top": "1"})
    assert status == 200


async def test_rule11_shared_faults_429_with_retry_after_and_503(ifs: Ifs) -> None:
    """Rule 11: scripted 429 (Retry-After) and 503 faults answer before the handler runs."""
    await ifs.knobs(retry_after_s=2, script=[{"fault": "429"}, {"fault": "5xx"}])
    status, body, headers = await ifs.call("GET", PO)
    assert status == 429 and headers["Retry-After"] == "2" and body["error"]["code"]
    status, _, _ = await ifs.call("GET", PO)
    assert status == 503


async def test_rule11_timeout_after_commit_writes_then_drops_the_answer(ifs: Ifs) -> None:
    """Rule 11: timeout-after-commit creates the row but the caller never hears back."""
    await ifs.knobs(hang_s=0.1, script=[{"fault": "timeout_after_commit", "match": "write"}])
    with pytest.raises((aiohttp.ClientError, asyncio.TimeoutError)):
        await ifs.call("POST", EXT, voucher_row())
    rows = (await ifs.state())["entities"]["ExternalVouchersSet"]
    assert len(rows) == 1


async def test_rate_limit_answers_429_past_requests_per_minute(ifs: Ifs) -> None:
    """Past requests_per_minute in a rolling minute the tenant answers 429 (OData body)."""
    await ifs.knobs(requests_per_minute=3, retry_after_header=True)
    statuses = [(await ifs.call("GET", PO, params={"$top": "1"}))[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert (await ifs.state())["counters"]["served_429"] == 1


async def test_admin_state_seed_reset_and_credentials(ifs: Ifs) -> None:
    """/_sandbox/: seed is deterministic, state shows rows, reset empties, credentials work."""
    first = await ifs.seed(seed=5)
    orders = [r["VendorNo"] for r in (await ifs.state())["entities"]["PurchaseOrderSet"]]
    assert await ifs.seed(seed=5) == first
    assert [r["VendorNo"] for r in (await ifs.state())["entities"]["PurchaseOrderSet"]] == orders
    creds = await ifs.admin("GET", "credentials")
    assert creds["token_url"].endswith("/auth/realms/mlsandbox/protocol/openid-connect/token")
    await ifs.admin("POST", "reset")
    assert (await ifs.state())["counts"]["PurchaseOrderSet"] == 0
