"""Acumatica simulator: OAuth tokens, cookie sessions and the API login limit, endpoint routing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_acumatica_support import API, Acu


@pytest.fixture
async def acu(start_simulator: StartSimulator) -> AsyncIterator[Acu]:
    sim = await start_simulator("acumatica")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        handle = Acu(sim, http)
        await handle.seed()
        yield handle


async def login(acu: Acu, **overrides: str) -> tuple[int, str, str | None]:
    """POST /entity/auth/login; returns status, body text and the session cookie value."""
    creds = await acu.admin("GET", "credentials")
    body = {"name": creds["username"], "password": creds["password"],
            "company": creds["company"]} | overrides
    async with acu.http.post(f"{creds['instance_url']}/entity/auth/login", json=body) as resp:
        cookie = resp.cookies.get("ASP.NET_SessionId")
        return resp.status, await resp.text(), cookie.value if cookie else None


async def with_cookie(acu: Acu, method: str, path: str, session: str) -> int:
    url = f"{await acu.instance()}{path}"
    async with acu.http.request(method, url,
                                headers={"Cookie": f"ASP.NET_SessionId={session}"}) as resp:
        return resp.status


async def test_password_grant_returns_bearer_token_with_expiry(acu: Acu) -> None:
    """The password grant with scope api answers a Bearer token, expires_in 3600, no refresh."""
    status, body = await acu.token_response()
    assert status == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"]
    assert "refresh_token" not in body


async def test_offline_access_gives_one_time_refresh_token(acu: Acu) -> None:
    """offline_access adds a refresh token; redeeming it works once and rotates it."""
    creds = await acu.admin("GET", "credentials")
    _, first = await acu.token_response(scope="api offline_access")
    refresh = {"grant_type": "refresh_token", "client_id": creds["client_id"],
               "client_secret": creds["client_secret"], "refresh_token": first["refresh_token"]}
    url = f"{creds['instance_url']}/identity/connect/token"
    async with acu.http.post(url, data=refresh) as resp:
        assert resp.status == 200
        second = await resp.json()
    assert second["refresh_token"] != first["refresh_token"]
    async with acu.http.post(url, data=refresh) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "invalid_grant"
    status, _ = await acu.call("GET", "/Vendor?$top=1", token=second["access_token"])
    assert status == 200


async def test_wrong_client_secret_is_invalid_client(acu: Acu) -> None:
    """A wrong client secret answers 400 invalid_client and never echoes the secret."""
    status, body = await acu.token_response(client_secret="not-the-secret")
    assert status == 400
    assert body["error"] == "invalid_client"
    assert "not-the-secret" not in str(body)


async def test_client_id_of_another_company_is_invalid_client(acu: Acu) -> None:
    """The client id reaches only the company it names (<GUID>@<Company>)."""
    creds = await acu.admin("GET", "credentials")
    other = creds["client_id"].split("@")[0] + "@OtherCompany"
    status, body = await acu.token_response(client_id=other)
    assert (status, body["error"]) == (400, "invalid_client")


async def test_wrong_password_is_invalid_grant(acu: Acu) -> None:
    """A wrong user password answers 400 invalid_grant."""
    status, body = await acu.token_response(password="wrong")
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_concurrent_access_scope_is_refused(acu: Acu) -> None:
    """Asking for api:concurrent_access fails the token request with invalid_scope."""
    status, body = await acu.token_response(scope="api api:concurrent_access")
    assert (status, body["error"]) == (400, "invalid_scope")


async def test_token_endpoint_is_counted_and_exempt_from_faults(acu: Acu) -> None:
    """Token requests are counted and never hit by injected faults, while entity calls are."""
    await acu.knobs(rate_5xx=1.0)
    token = await acu.token()
    status, _ = await acu.call("GET", "/Vendor", token=token)
    assert status == 503
    assert (await acu.state())["counters"]["token_requests"] >= 1


async def test_entity_call_without_token_is_401(acu: Acu) -> None:
    """An entity call with neither bearer nor session cookie answers 401."""
    async with acu.http.get(f"{await acu.instance()}{API}/Vendor") as resp:
        assert resp.status == 401


async def test_expired_token_is_401(acu: Acu) -> None:
    """A token past its expires_in (lifetime knob 0) is refused with 401; garbage too."""
    await acu.knobs(token_lifetime_s=0)
    status, body = await acu.token_response()
    assert body["expires_in"] == 0
    assert (await acu.call("GET", "/Vendor", token=body["access_token"]))[0] == 401
    assert (await acu.call("GET", "/Vendor", token="made-up"))[0] == 401


async def test_discovery_document_names_the_token_endpoint(acu: Acu) -> None:
    """/identity/.well-known/openid-configuration points at the instance's token endpoint."""
    instance = await acu.instance()
    async with acu.http.get(f"{instance}/identity/.well-known/openid-configuration") as resp:
        body = await resp.json()
    assert body["token_endpoint"] == f"{instance}/identity/connect/token"


async def test_only_configured_endpoint_versions_exist(acu: Acu) -> None:
    """Default/23.200.001 and 24.200.001 answer; another version or endpoint name is 404."""
    token = await acu.token()
    instance = await acu.instance()
    for path, expected in [("/entity/Default/23.200.001/Vendor", 200),
                           ("/entity/Default/22.200.001/Vendor", 404),
                           ("/entity/Custom/24.200.001/Vendor", 404),
                           (f"{API}/SalesOrderNotSimulated", 404)]:
        async with acu.http.get(f"{instance}{path}",
                                headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == expected, path


async def test_login_limit_reached_after_two_open_sessions_and_logout_frees_it(acu: Acu) -> None:
    """Two open sessions exhaust the licence: login 429 'API Login Limit' until a logout."""
    first, second = await login(acu), await login(acu)
    assert first[0] == second[0] == 204
    assert first[2] and second[2]
    status, text, _ = await login(acu)
    assert status == 429
    assert "API Login Limit" in text
    assert (await acu.state())["sessions"]["open"] == 2
    assert await with_cookie(acu, "POST", "/entity/auth/logout", str(first[2])) == 204
    assert (await login(acu))[0] == 204


async def test_session_cookie_authorizes_until_idle_timeout(acu: Acu) -> None:
    """A session cookie authorizes until idle past the timeout, then 401 and its login is freed."""
    _, _, session = await login(acu)
    assert session is not None
    assert await with_cookie(acu, "GET", f"{API}/Vendor", session) == 200
    await acu.knobs(session_timeout_s=0)
    assert await with_cookie(acu, "GET", f"{API}/Vendor", session) == 401
    assert (await acu.state())["sessions"]["open"] == 0


async def test_login_with_wrong_password_is_refused(acu: Acu) -> None:
    """A wrong password opens no session."""
    status, text, cookie = await login(acu, password="wrong")
    assert status == 500
    assert "Invalid credentials" in text
    assert cookie is None


async def test_path_prefix_moves_every_route_under_the_site(acu: Acu) -> None:
    """With path_prefix the instance URL gains the site path and the root no longer serves."""
    await acu.knobs(path_prefix="/AcumaticaERP")
    instance = await acu.instance()
    assert instance == f"{acu.sim.base_url}/AcumaticaERP"
    token = await acu.token()
    assert (await acu.call("GET", "/Vendor", token=token))[0] == 200
    async with acu.http.get(f"{acu.sim.base_url}{API}/Vendor",
                            headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 404
