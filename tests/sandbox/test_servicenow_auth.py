"""ServiceNow simulator: the OAuth token endpoint, revocation, Basic auth (sheet §8, 1–3)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_servicenow_support import JSON, SN

REFUSED = {"error_description": "access_denied", "error": "server_error"}
NOT_AUTHENTICATED = {"error": {"message": "User Not Authenticated",
                               "detail": "Required to provide Auth information"},
                     "status": "failure"}


@pytest.fixture
async def sn(start_simulator: StartSimulator) -> AsyncIterator[SN]:
    sim = await start_simulator("servicenow")
    async with aiohttp.ClientSession() as http:
        handle = SN(sim, http)
        await handle.admin("POST", "seed", {"seed": 1})
        handle.creds = await handle.admin("GET", "credentials")
        yield handle


async def bearer_status(sn: SN, token: str) -> tuple[int, object]:
    async with sn.http.get(f"{sn.url}/api/now/table/sn_fin_supplier",
                           headers=JSON | {"Authorization": f"Bearer {token}"}) as resp:
        return resp.status, await resp.json()


async def test_token_endpoint_refuses_json_bodies(sn: SN) -> None:
    """A JSON body at /oauth_token.do is refused with the opaque 401 access_denied."""
    body = {"grant_type": "client_credentials", "client_id": sn.creds["client_id"],
            "client_secret": sn.creds["client_secret"]}
    async with sn.http.post(f"{sn.url}/oauth_token.do", json=body) as resp:
        assert resp.status == 401
        assert await resp.json() == REFUSED


async def test_password_grant_returns_access_and_refresh_token(sn: SN) -> None:
    """The password grant answers a Bearer token, expires_in 1799, and a refresh token."""
    status, body = await sn.token_response(grant_type="password",
                                           username=sn.creds["username"],
                                           password=sn.creds["password"])
    assert status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1799
    assert body["scope"] == "useraccount" and body["refresh_token"]


async def test_refresh_grant_returns_no_new_refresh_token(sn: SN) -> None:
    """The refresh_token grant answers an access token only; the refresh token stays valid."""
    form = {"grant_type": "refresh_token", "refresh_token": sn.creds["refresh_token"]}
    status, body = await sn.token_response(**form)
    assert status == 200 and body["access_token"] and "refresh_token" not in body
    status, _ = await sn.token_response(**form)
    assert status == 200


async def test_client_credentials_grant_is_a_knob(sn: SN) -> None:
    """client_credentials works when enabled and is the opaque 401 when the property is off."""
    status, body = await sn.token_response()
    assert status == 200 and "refresh_token" not in body
    await sn.knobs(client_credentials_enabled=False)
    assert await sn.token_response() == (401, REFUSED)


async def test_authorization_code_grant_gives_a_refresh_token_once(sn: SN) -> None:
    """An authorization code is redeemed once for access + refresh token, then refused."""
    form = {"grant_type": "authorization_code", "code": sn.creds["authorization_code"]}
    status, body = await sn.token_response(**form)
    assert status == 200 and body["refresh_token"]
    assert await sn.token_response(**form) == (401, REFUSED)


async def test_any_token_failure_is_the_same_opaque_401(sn: SN) -> None:
    """A wrong secret, a wrong password and an unknown grant all answer the same 401 body."""
    assert await sn.token_response(client_secret="wrong") == (401, REFUSED)
    assert await sn.token_response(grant_type="password", username=sn.creds["username"],
                                   password="wrong") == (401, REFUSED)
    assert await sn.token_response(grant_type="implicit") == (401, REFUSED)


async def test_token_lifetime_is_a_knob(sn: SN) -> None:
    """access_token_lifetime_s sets expires_in (one second less, as instances answer)."""
    await sn.knobs(access_token_lifetime_s=120)
    _, body = await sn.token_response()
    assert body["expires_in"] == 119


async def test_asking_again_within_lifetime_returns_the_same_token(sn: SN) -> None:
    """A second grant while the access token is valid answers that same token."""
    _, first = await sn.token_response()
    _, second = await sn.token_response()
    assert first["access_token"] == second["access_token"]
    assert second["expires_in"] <= first["expires_in"]


async def test_expired_bearer_is_user_not_authenticated(sn: SN) -> None:
    """A bearer past its lifetime gets the same 401 body as a missing one."""
    await sn.knobs(access_token_lifetime_s=0.2)
    _, body = await sn.token_response()
    await asyncio.sleep(0.3)
    assert await bearer_status(sn, body["access_token"]) == (401, NOT_AUTHENTICATED)


async def test_revoke_expires_a_token_at_once(sn: SN) -> None:
    """oauth_revoke_token.do needs no auth and makes the token unusable immediately."""
    _, body = await sn.token_response()
    token = body["access_token"]
    assert (await bearer_status(sn, token))[0] == 200
    async with sn.http.get(f"{sn.url}/oauth_revoke_token.do", params={"token": token}) as resp:
        assert resp.status == 200
    assert await bearer_status(sn, token) == (401, NOT_AUTHENTICATED)


async def test_basic_auth_works_and_bad_password_is_not_authenticated(sn: SN) -> None:
    """Basic auth of the service user reads; a wrong password gets User Not Authenticated."""
    status, _, _ = await sn.call("GET", "/api/now/table/sn_fin_supplier")
    assert status == 200
    status, body, _ = await sn.call("GET", "/api/now/table/sn_fin_supplier",
                                    headers=sn.basic(password="wrong"))
    assert (status, body) == (401, NOT_AUTHENTICATED)


async def test_basic_auth_refused_for_interactive_users_knob(sn: SN) -> None:
    """With refuse_basic_for_interactive, an interactive user's Basic auth gets a 401."""
    interactive = sn.basic(sn.creds["interactive_username"], sn.creds["interactive_password"])
    assert (await sn.call("GET", "/api/now/table/sn_fin_supplier", headers=interactive))[0] == 200
    await sn.knobs(refuse_basic_for_interactive=True)
    assert (await sn.call("GET", "/api/now/table/sn_fin_supplier", headers=interactive))[0] == 401


async def test_missing_mfa_token_is_401_with_header(sn: SN) -> None:
    """Right password but MFA required → 401 with X-MFA_TOKEN: invalid."""
    await sn.knobs(basic_mfa_users=[sn.creds["username"]])
    status, _, headers = await sn.call("GET", "/api/now/table/sn_fin_supplier")
    assert status == 401 and headers["X-MFA_TOKEN"] == "invalid"


async def test_missing_role_is_403_naming_the_roles(sn: SN) -> None:
    """A user without an S2P role gets 403 in ServiceNow's shape naming the roles needed."""
    await sn.knobs(user_roles={sn.creds["username"]: []})
    status, body, _ = await sn.call("GET", "/api/now/table/sn_shop_invoice")
    assert status == 403 and body["status"] == "failure"
    assert "sn_ap_apm.reader" in body["error"]["detail"]
    assert "sn_shop_invoice" in body["error"]["detail"]


async def test_refresh_token_lifetime_is_a_knob(sn: SN) -> None:
    """A refresh token past refresh_token_lifetime_s is refused like any other failure."""
    await sn.knobs(refresh_token_lifetime_s=0.1)
    _, body = await sn.token_response(grant_type="password", username=sn.creds["username"],
                                      password=sn.creds["password"])
    await asyncio.sleep(0.2)
    assert await sn.token_response(grant_type="refresh_token",
                                   refresh_token=body["refresh_token"]) == (401, REFUSED)
