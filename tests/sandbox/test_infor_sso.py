"""Infor simulator, Mingle SSO side: the .ionapi file, token grants, rotation, revocation.

Also home of :class:`InforTenant`, the raw-HTTP helper the other ``test_infor_*`` modules
import: it speaks to the simulator exactly as the sheet describes (form-encoded token
requests, bearer on the gateway, matrix parameters), with no client code of ours.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import StartSimulator

TENANT = "ACME_TST"


class InforTenant:
    """A test's handle on one running Infor simulator: credentials, tokens and MI calls."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, ionapi: dict[str, str]):
        self.session = session
        self.base_url = base_url
        self.ionapi = ionapi
        self.access_token = ""

    @classmethod
    async def open(cls, session: aiohttp.ClientSession, base_url: str) -> InforTenant:
        async with session.get(f"{base_url}/_sandbox/credentials") as resp:
            ionapi = await resp.json()
        return cls(session, base_url, ionapi)

    @property
    def token_url(self) -> str:
        return self.ionapi["pu"] + self.ionapi["ot"]

    @property
    def revoke_url(self) -> str:
        return self.ionapi["pu"] + self.ionapi["or"]

    @property
    def api(self) -> str:
        return f"{self.ionapi['iu']}/{self.ionapi['ti']}/M3/m3api-rest/v2/execute"

    def basic(self, client_id: str | None = None, secret: str | None = None) -> dict[str, str]:
        pair = f"{client_id or self.ionapi['ci']}:{secret or self.ionapi['cs']}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    async def post_form(
        self, url: str, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        async with self.session.post(url, data=form, headers=headers or {}) as resp:
            body = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, body

    async def password_grant(self, username: str | None = None) -> tuple[int, Any]:
        form = {
            "grant_type": "password",
            "username": username or self.ionapi["saak"],
            "password": self.ionapi["sask"],
        }
        return await self.post_form(self.token_url, form, self.basic())

    async def login(self) -> dict[str, Any]:
        status, body = await self.password_grant()
        assert status == 200, body
        self.access_token = body["access_token"]
        return dict(body)

    async def get(
        self,
        call: str,
        params: dict[str, str] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        url: str | None = None,
    ) -> tuple[int, Any, str]:
        """GET ``{api}/{call}`` (or ``url``); returns status, JSON body or None, raw text."""
        sent = {"Authorization": f"Bearer {token if token is not None else self.access_token}"}
        sent.update(headers or {})
        async with self.session.get(url or f"{self.api}/{call}", params=params, headers=sent) as r:
            text = await r.text()
            body = await r.json() if r.content_type == "application/json" else None
            return r.status, body, text

    async def mi(self, call: str, **fields: str) -> dict[str, Any]:
        """One single-transaction call that must reach M3 (HTTP 200); the whole envelope."""
        status, body, text = await self.get(call, fields)
        assert status == 200, f"{call}: HTTP {status} {text}"
        assert isinstance(body, dict)
        return body

    async def result(self, call: str, **fields: str) -> dict[str, Any]:
        """The single result object of a call (success or MI error)."""
        body = await self.mi(call, **fields)
        assert len(body["results"]) == 1
        result: dict[str, Any] = body["results"][0]
        return result

    async def records(self, call: str, **fields: str) -> list[dict[str, str]]:
        """The records of a call that must succeed."""
        result = await self.result(call, **fields)
        assert "errorMessage" not in result, result
        records: list[dict[str, str]] = result["records"]
        return records

    async def bulk(self, body: dict[str, Any], query: str = "") -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.access_token}"}
        async with self.session.post(f"{self.api}{query}", json=body, headers=headers) as r:
            return r.status, await r.json() if r.content_type == "application/json" else None

    async def admin(self, method: str, name: str, body: Any = None) -> Any:
        url = f"{self.base_url}/_sandbox/{name}"
        async with self.session.request(method, url, json=body) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def knobs(self, **values: Any) -> None:
        await self.admin("POST", "faults", values)

    async def state(self) -> dict[str, Any]:
        state: dict[str, Any] = await self.admin("GET", "state")
        return state


async def open_tenant(
    start_simulator: StartSimulator, session: aiohttp.ClientSession, *, seed: bool = True
) -> InforTenant:
    """Start the simulator, seed it deterministically, log in."""
    sim = await start_simulator("infor")
    tenant = await InforTenant.open(session, sim.base_url)
    if seed:
        await tenant.admin("POST", "seed", {"seed": 11})
    await tenant.login()
    return tenant


@pytest.fixture
async def tenant(start_simulator: StartSimulator) -> AsyncIterator[InforTenant]:
    """A seeded Infor simulator with a logged-in raw-HTTP handle."""
    async with aiohttp.ClientSession() as session:
        yield await open_tenant(start_simulator, session, seed=False)


async def test_credentials_file_has_the_ionapi_shape(tenant: InforTenant) -> None:
    """The .ionapi file: pu ends in '/', iu has none, saak carries 'ti#' exactly once."""
    ionapi = tenant.ionapi
    assert set(ionapi) >= {
        "ti",
        "cn",
        "dt",
        "ci",
        "cs",
        "iu",
        "pu",
        "oa",
        "ot",
        "or",
        "ev",
        "v",
        "saak",
        "sask",
    }
    assert ionapi["ti"] == TENANT
    assert ionapi["iu"] == tenant.base_url and not ionapi["iu"].endswith("/")
    assert ionapi["pu"] == f"{tenant.base_url}/{TENANT}/as/"
    assert (ionapi["oa"], ionapi["ot"], ionapi["or"]) == (
        "authorization.oauth2",
        "token.oauth2",
        "revoke_token.oauth2",
    )
    assert ionapi["ci"].startswith(f"{TENANT}~")
    assert ionapi["saak"].startswith(f"{TENANT}#")
    assert ionapi["saak"].count(f"{TENANT}#") == 1


async def test_password_grant_with_basic_client_auth(tenant: InforTenant) -> None:
    """grant_type=password with ci:cs in HTTP Basic returns a bearer with expires_in 7200."""
    status, body = await tenant.password_grant()
    assert status == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 7200
    assert body["access_token"] and body["refresh_token"]


async def test_password_grant_with_client_in_the_form(tenant: InforTenant) -> None:
    """Client credentials may travel as client_id/client_secret form fields instead of Basic."""
    form = {
        "grant_type": "password",
        "username": tenant.ionapi["saak"],
        "password": tenant.ionapi["sask"],
        "client_id": tenant.ionapi["ci"],
        "client_secret": tenant.ionapi["cs"],
    }
    status, body = await tenant.post_form(tenant.token_url, form)
    assert status == 200 and body["access_token"]


async def test_bad_client_secret_is_invalid_client(tenant: InforTenant) -> None:
    """A wrong cs is 401 invalid_client, whether sent in Basic or in the form."""
    form = {
        "grant_type": "password",
        "username": tenant.ionapi["saak"],
        "password": tenant.ionapi["sask"],
    }
    status, body = await tenant.post_form(tenant.token_url, form, tenant.basic(secret="nope"))
    assert (status, body["error"]) == (401, "invalid_client")
    form |= {"client_id": tenant.ionapi["ci"], "client_secret": "nope"}
    status, body = await tenant.post_form(tenant.token_url, form)
    assert (status, body["error"]) == (401, "invalid_client")
    assert "error_description" in body


async def test_doubled_tenant_prefix_on_saak_is_refused(tenant: InforTenant) -> None:
    """Adding 'ti#' to a saak that already has it is 400 invalid_grant."""
    status, body = await tenant.password_grant(f"{TENANT}#" + tenant.ionapi["saak"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "twice" in body["error_description"]


async def test_wrong_service_account_secret_is_invalid_grant(tenant: InforTenant) -> None:
    """A wrong sask is 400 invalid_grant (client auth itself was fine)."""
    form = {"grant_type": "password", "username": tenant.ionapi["saak"], "password": "nope"}
    status, body = await tenant.post_form(tenant.token_url, form, tenant.basic())
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_refresh_rotates_both_tokens_and_kills_the_old_refresh(tenant: InforTenant) -> None:
    """A refresh grant returns a new access and a new refresh token; the old refresh is dead."""
    first = await tenant.login()
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    status, second = await tenant.post_form(tenant.token_url, form, tenant.basic())
    assert status == 200
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    status, again = await tenant.post_form(tenant.token_url, form, tenant.basic())
    assert (status, again["error"]) == (400, "invalid_grant")
    status, _, _ = await tenant.get("MNS150MI/GetUserData", token=second["access_token"])
    assert status == 200


async def test_refresh_tokens_can_be_switched_off(tenant: InforTenant) -> None:
    """With issue_refresh_tokens off there is no refresh_token and no refresh grant."""
    refresh = (await tenant.login())["refresh_token"]
    await tenant.knobs(issue_refresh_tokens=False)
    body = await tenant.login()
    assert "refresh_token" not in body
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    status, refused = await tenant.post_form(tenant.token_url, form, tenant.basic())
    assert (status, refused["error"]) == (400, "unsupported_grant_type")


async def test_revoked_access_token_is_refused_at_once(tenant: InforTenant) -> None:
    """POST revoke with Basic ci:cs; the next gateway call is 401 {"error":"Unauthorized"}."""
    await tenant.login()
    status, _, _ = await tenant.get("MNS150MI/GetUserData")
    assert status == 200
    form = {"token": tenant.access_token, "token_type_hint": "access_token"}
    status, _ = await tenant.post_form(tenant.revoke_url, form, tenant.basic())
    assert status == 200
    status, body, _ = await tenant.get("MNS150MI/GetUserData")
    assert (status, body) == (401, {"error": "Unauthorized"})


async def test_revoking_a_refresh_token_kills_its_access_tokens(tenant: InforTenant) -> None:
    """GET revoke ?token=<refresh> (Infor's Go sample) also revokes that grant's access token."""
    issued = await tenant.login()
    params = {"token": issued["refresh_token"]}
    async with tenant.session.get(tenant.revoke_url, params=params) as resp:
        assert resp.status == 200
    status, body, _ = await tenant.get("MNS150MI/GetUserData")
    assert (status, body) == (401, {"error": "Unauthorized"})
    form = {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]}
    status, refused = await tenant.post_form(tenant.token_url, form, tenant.basic())
    assert (status, refused["error"]) == (400, "invalid_grant")


async def test_revoke_by_post_needs_client_authentication(tenant: InforTenant) -> None:
    """A POST revoke without valid ci:cs is 401 invalid_client and revokes nothing."""
    await tenant.login()
    form = {"token": tenant.access_token}
    status, body = await tenant.post_form(tenant.revoke_url, form, tenant.basic(secret="x"))
    assert (status, body["error"]) == (401, "invalid_client")
    status, _, _ = await tenant.get("MNS150MI/GetUserData")
    assert status == 200


async def test_expired_token_is_unauthorized(tenant: InforTenant) -> None:
    """A token past its lifetime (token_lifetime_s=0: born expired) gets 401 Unauthorized."""
    await tenant.knobs(token_lifetime_s=0)
    body = await tenant.login()
    assert body["expires_in"] == 0
    status, error, _ = await tenant.get("MNS150MI/GetUserData")
    assert (status, error) == (401, {"error": "Unauthorized"})


async def test_token_endpoint_is_exempt_from_faults_and_counted(tenant: InforTenant) -> None:
    """With every request failing 503, the token endpoint still answers; token_requests counts."""
    await tenant.knobs(rate_5xx=1.0)
    before = (await tenant.state())["counters"]["token_requests"]
    await tenant.login()
    status, _, _ = await tenant.get("MNS150MI/GetUserData")
    assert status == 503
    assert (await tenant.state())["counters"]["token_requests"] == before + 1


async def test_token_request_must_be_form_encoded(tenant: InforTenant) -> None:
    """A JSON token request is refused with 400 invalid_request."""
    payload = {"grant_type": "password", "username": tenant.ionapi["saak"]}
    async with tenant.session.post(tenant.token_url, json=payload, headers=tenant.basic()) as r:
        assert r.status == 400
        assert (await r.json())["error"] == "invalid_request"
