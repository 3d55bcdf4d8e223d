"""Raw-HTTP helpers shared by the ServiceNow simulator tests (no client code, no tests here)."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp

from connector.sandbox.base import Simulator

JSON = {"Accept": "application/json"}


class SN:
    """One simulator reached over loopback HTTP, with the calls every test repeats."""

    def __init__(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.http = http
        self.creds: dict[str, str] = {}

    @property
    def url(self) -> str:
        return self.sim.base_url

    async def admin(self, method: str, name: str, body: Any = None) -> Any:
        async with self.http.request(method, f"{self.url}/_sandbox/{name}", json=body) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def knobs(self, **knobs: Any) -> Any:
        return await self.admin("POST", "faults", knobs)

    async def state(self) -> Any:
        return await self.admin("GET", "state")

    async def token_response(self, **form: str) -> tuple[int, Any]:
        body = {"grant_type": "client_credentials", "client_id": self.creds["client_id"],
                "client_secret": self.creds["client_secret"]} | form
        async with self.http.post(f"{self.url}/oauth_token.do", data=body) as resp:
            return resp.status, await resp.json()

    def basic(self, user: str | None = None, password: str | None = None) -> dict[str, str]:
        pair = f"{user or self.creds['username']}:{password or self.creds['password']}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, Any]:
        """One API call with Basic auth and Accept: application/json unless overridden.
        Returns status, decoded JSON body (None without one) and the response headers."""
        sent = JSON | self.basic() | (headers or {})
        async with self.http.request(method, f"{self.url}{path}", params=params,
                                     json=body, headers=sent) as resp:
            text = await resp.text()
            data = await resp.json() if text and resp.content_type == "application/json" else None
            return resp.status, data, resp.headers

    async def rows(self, path: str, query: str, **params: str) -> list[dict[str, Any]]:
        status, body, _ = await self.call(
            "GET", path, params={"sysparm_query": query, "sysparm_exclude_reference_link": "true"}
            | params)
        assert status == 200, body
        result: list[dict[str, Any]] = body["result"]
        return result
