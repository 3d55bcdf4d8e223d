"""Acumatica simulator: licence limits, fault injection on writes, seeding and admin state."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from yarl import URL

from tests.conftest import StartSimulator
from tests.sandbox.test_acumatica_support import API, Acu, bill


@pytest.fixture
async def acu(start_simulator: StartSimulator) -> AsyncIterator[Acu]:
    sim = await start_simulator("acumatica")
    async with aiohttp.ClientSession() as http:
        handle = Acu(sim, http)
        await handle.seed()
        yield handle


async def test_requests_per_minute_limit_answers_429(acu: Acu) -> None:
    """Past requests_per_minute the licence refuses with 429, counted in served_429."""
    await acu.knobs(requests_per_minute=3)
    token = await acu.token()
    statuses = [(await acu.call("GET", "/Vendor?$top=1", token=token))[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert (await acu.state())["counters"]["served_429"] == 1


async def test_retry_after_header_is_a_knob(acu: Acu) -> None:
    """Licence 429s carry Retry-After only when retry_after_header is on."""
    await acu.knobs(requests_per_minute=1, retry_after_header=True)
    token = await acu.token()
    url = f"{await acu.instance()}{API}/Vendor"
    headers = {"Authorization": f"Bearer {token}"}
    async with acu.http.get(url, headers=headers) as resp:
        assert resp.status == 200
    async with acu.http.get(url, headers=headers) as resp:
        assert resp.status == 429
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
    await acu.knobs(retry_after_header=False)
    async with acu.http.get(url, headers=headers) as resp:
        assert resp.status == 429
        assert "Retry-After" not in resp.headers


async def test_concurrent_requests_over_the_licence_get_429(acu: Acu) -> None:
    """With max_concurrent=1, calls that overlap one being handled are refused with 429."""
    await acu.knobs(max_concurrent=1, handler_delay_ms=300)
    token = await acu.token()
    results = await asyncio.gather(
        *(acu.call("GET", "/Vendor?$top=1", token=token) for _ in range(3))
    )
    statuses = sorted(status for status, _ in results)
    assert statuses[0] == 200
    assert 429 in statuses
    assert (await acu.state())["counters"]["served_429"] == statuses.count(429)


async def test_timeout_after_commit_on_put_leaves_the_record_created(acu: Acu) -> None:
    """A scripted timeout_after_commit drops the reply but the bill is stored."""
    # A bare socket, because aiohttp's client silently re-sends an idempotent PUT once after
    # a disconnect, which against Acumatica would create a second bill.
    await acu.knobs(hang_s=0, script=[{"fault": "timeout_after_commit", "match": "write"}])
    token = await acu.token()
    body = json.dumps(bill(vendor_ref="IN-DOUBT")).encode()
    url = URL(acu.sim.base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        f"PUT {API}/Bill HTTP/1.1\r\nHost: {url.host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    assert await reader.read() == b""  # the connection ends without a status line
    writer.close()
    await writer.wait_closed()
    bills = (await acu.state())["entities"]["Bill"]
    assert [b["VendorRef"] for b in bills] == ["IN-DOUBT"]


async def test_seed_is_deterministic(start_simulator: StartSimulator) -> None:
    """Two simulators seeded alike hold identical records; another seed differs."""
    states = []
    async with aiohttp.ClientSession() as http:
        for seed in (7, 7, 8):
            handle = Acu(await start_simulator("acumatica"), http)
            answer = await handle.seed(seed, accounts=25, subaccounts=12, vendors=50,
                                       customers=20)
            assert answer["seeded"]["Vendor"] == 50
            states.append((await handle.state())["entities"])
    assert states[0] == states[1]
    assert states[0]["Vendor"] != states[2]["Vendor"]
    assert len(states[0]["Account"]) == 25
    assert len(states[0]["Subaccount"]) == 12
    assert len(states[0]["Customer"]) == 20
    codes = {a["AccountCD"]: a["Description"] for a in states[0]["Account"]}
    assert codes["10100"] == "Cash"
    assert codes["20000"] == "Accounts Payable"
    assert "HVAC-NORTH" in {s["SubaccountCD"] for s in states[0]["Subaccount"]}


async def test_state_shows_plain_values_branches_and_sessions(acu: Acu) -> None:
    """/_sandbox/state lists records with plain values, branches and open sessions."""
    await acu.call("PUT", "/Bill", bill())
    state = await acu.state()
    assert state["system"] == "acumatica"
    assert state["branches"] == ["HQ", "NORTH", "SOUTH"]
    assert state["sessions"] == {"open": 0}
    stored = state["entities"]["Bill"][0]
    assert stored["Vendor"] == "V10001"
    assert stored["Details"][0]["Account"] == "50000"
    assert state["counts"]["Bill"] == 1


async def test_credentials_name_the_default_endpoint(acu: Acu) -> None:
    """/_sandbox/credentials gives everything a client needs to sign in."""
    creds = await acu.admin("GET", "credentials")
    assert creds["client_id"].endswith(f"@{creds['company']}")
    assert (creds["endpoint"], creds["version"]) == ("Default", "24.200.001")
    assert creds["instance_url"] == acu.sim.base_url


async def test_reset_forgets_records_and_sessions(acu: Acu) -> None:
    """/_sandbox/reset empties the company and restores default knobs."""
    await acu.knobs(requests_per_minute=1)
    await acu.admin("POST", "reset")
    state = await acu.state()
    assert state["counts"]["Vendor"] == 0
    assert (await acu.admin("GET", "faults"))["knobs"]["requests_per_minute"] == 0
