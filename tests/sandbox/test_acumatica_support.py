"""Raw-HTTP helpers shared by the Acumatica simulator tests (no client code, no tests here)."""

from __future__ import annotations

from typing import Any

import aiohttp

from connector.sandbox.base import Simulator

API = "/entity/Default/24.200.001"


class Acu:
    """One simulator reached over loopback HTTP, with the few calls every test repeats."""

    def __init__(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.http = http

    async def admin(self, method: str, name: str, body: Any = None) -> Any:
        async with self.http.request(method, f"{self.sim.base_url}/_sandbox/{name}",
                                     json=body) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def seed(self, seed: int = 1, **counts: int) -> Any:
        return await self.admin("POST", "seed", {"seed": seed, "counts": counts or {
            "accounts": 25, "subaccounts": 12, "vendors": 5, "customers": 4}})

    async def knobs(self, **knobs: Any) -> Any:
        return await self.admin("POST", "faults", knobs)

    async def state(self) -> Any:
        return await self.admin("GET", "state")

    async def instance(self) -> str:
        return str((await self.admin("GET", "credentials"))["instance_url"])

    async def token_response(self, **overrides: str) -> tuple[int, Any]:
        creds = await self.admin("GET", "credentials")
        form = {"grant_type": "password", "client_id": creds["client_id"],
                "client_secret": creds["client_secret"], "username": creds["username"],
                "password": creds["password"], "scope": "api"} | overrides
        async with self.http.post(f"{creds['instance_url']}/identity/connect/token",
                                  data=form) as resp:
            return resp.status, await resp.json()

    async def token(self) -> str:
        status, body = await self.token_response()
        assert status == 200, body
        return str(body["access_token"])

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        """``method`` on ``{instance}{API}{path}`` with a fresh bearer unless one is given."""
        sent = {"Authorization": f"Bearer {token or await self.token()}"} | (headers or {})
        url = f"{await self.instance()}{API}{path}"
        kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body}
        async with self.http.request(method, url, headers=sent, **kwargs) as resp:
            text = await resp.text()
            return resp.status, (await resp.json() if text else None)


def value(record: dict[str, Any], field: str) -> Any:
    """The ``value`` of a value-object field of a returned record."""
    return record[field].get("value")


def bill(vendor: str = "V10001", vendor_ref: str = "INV-1", **extra: Any) -> dict[str, Any]:
    """A valid Bill body in value-object form with one detail line."""
    body: dict[str, Any] = {
        "Vendor": {"value": vendor},
        "VendorRef": {"value": vendor_ref},
        "Date": {"value": "2026-01-15T00:00:00+00:00"},
        "Details": [{
            "TransactionDescription": {"value": "Copper pipe"},
            "Qty": {"value": 2.0},
            "UnitCost": {"value": 125.5},
            "Account": {"value": "50000"},
            "Subaccount": {"value": "HVAC-NORTH"},
            "Branch": {"value": "NORTH"},
        }],
    }
    return body | extra
