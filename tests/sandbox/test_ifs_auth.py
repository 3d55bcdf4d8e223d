"""IFS simulator, IAM: the Keycloak token endpoint and the bearer every call needs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.test_ifs_support import PO, Ifs


@pytest.fixture
async def ifs(start_simulator: StartSimulator) -> AsyncIterator[Ifs]:
    sim = await start_simulator("ifs")
    async with aiohttp.ClientSession() as http:
        handle = Ifs(sim, http)
        await handle.seed()
        yield handle


async def test_rule1_token_endpoint_grants_three_ways_with_knobbed_lifetimes(ifs: Ifs) -> None:
    """Rule 1: client_credentials, password and refresh_token grants; lifetimes are knobs."""
    await ifs.knobs(token_lifetime_s=600, refresh_token_lifetime_s=900)
    status, body = await ifs.token_response()
    assert status == 200 and body["expires_in"] == 600 and body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    status, body = await ifs.token_response(grant_type="password", username="IFSCONNECT",
                                            password="sandbox-ifs-password")
    assert status == 200 and body["refresh_expires_in"] == 900
    refresh = body["refresh_token"]
    status, renewed = await ifs.token_response(grant_type="refresh_token", refresh_token=refresh)
    assert status == 200 and renewed["access_token"] != body["access_token"]
    status, dead = await ifs.token_response(grant_type="refresh_token", refresh_token=refresh)
    assert (status, dead["error"], dead["error_description"]) == (
        400, "invalid_grant", "Token is not active")


async def test_rule1_default_lifetimes_are_180_and_1800_seconds(ifs: Ifs) -> None:
    """Rule 1: by default access tokens live 180 s and refresh tokens 1800 s (24R2)."""
    status, body = await ifs.token_response(grant_type="password", username="IFSCONNECT",
                                            password="sandbox-ifs-password")
    assert (body["expires_in"], body["refresh_expires_in"]) == (180, 1800)


async def test_rule1_bad_client_and_bad_user_are_refused_keycloak_style(ifs: Ifs) -> None:
    """Rule 1: a wrong secret is 401 unauthorized_client; a wrong password 401 invalid_grant."""
    status, body = await ifs.token_response(client_secret="wrong")
    assert (status, body["error"]) == (401, "unauthorized_client")
    status, body = await ifs.token_response(grant_type="password", username="IFSCONNECT",
                                            password="wrong")
    assert (status, body["error"], body["error_description"]) == (
        401, "invalid_grant", "Invalid user credentials")


async def test_rule1_discovery_document_names_the_endpoints(ifs: Ifs) -> None:
    """Rule 1: the realm's discovery document gives token and revocation endpoints."""
    url = f"{ifs.sim.base_url}/auth/realms/mlsandbox/.well-known/openid-configuration"
    async with ifs.http.get(url) as resp:
        body = await resp.json()
    assert body["token_endpoint"].endswith("/auth/realms/mlsandbox/protocol/openid-connect/token")
    assert body["revocation_endpoint"].endswith("/protocol/openid-connect/revoke")


async def test_rule2_projection_call_without_live_bearer_is_401(ifs: Ifs) -> None:
    """Rule 2: no, unknown or expired bearer → 401 with WWW-Authenticate: Bearer."""
    status, _, headers = await ifs.call("GET", PO, token="not-a-token")
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    await ifs.knobs(token_lifetime_s=0)
    _, body = await ifs.token_response()
    status, _, _ = await ifs.call("GET", PO, token=body["access_token"])
    assert status == 401


async def test_rule2_knob_redirects_to_auth_instead_of_401(ifs: Ifs) -> None:
    """Rule 2 knob: some set-ups answer a dead bearer with 302 to /auth/…."""
    await ifs.knobs(unauthorized_redirect=True)
    status, _, headers = await ifs.call("GET", PO, token="not-a-token")
    assert status == 302 and headers["Location"].startswith("/auth/realms/")
