"""Raw-HTTP helpers shared by the IFS simulator tests (no client code, no tests here)."""

from __future__ import annotations

from typing import Any

import aiohttp

from connector.sandbox.base import Simulator

API = "/main/ifsapplications/projection/v1"
PO = f"{API}/PurchaseOrderHandling.svc/PurchaseOrderSet"
LINES = f"{API}/PurchaseOrderLinesHandling.svc/PurchaseOrderLineSet"
SUPPLIERS = f"{API}/SuppliersHandling.svc/SupplierInfoGeneralSet"
EXT = f"{API}/ExternalVouchers.svc/ExternalVouchersSet"
LOADS = f"{API}/ExternalVoucherLoadInformationHandling.svc/ExtLoadInfoSet"
VOUCHERS = f"{API}/VoucherHandling.svc/VoucherSet"
VOUCHER_ROWS = f"{API}/VoucherRowsAnalysis.svc/VoucherRowSet"
ACCOUNTS = f"{API}/AccountsHandling.svc/AccountSet"


def voucher_row(**overrides: Any) -> dict[str, Any]:
    """An external voucher row that the seeded tenant accepts."""
    return {"Company": "10", "LoadId": "ML-LOAD-1", "TransactionDate": "2025-03-02",
            "VoucherType": "K", "Account": "4000", "CodeB": "CC10", "CurrencyCode": "USD",
            "CurrencyDebetAmount": 1200.0, "Correction": False,
            "Text": "ST invoice 88812"} | overrides


class Ifs:
    """One simulator reached over loopback HTTP, with the calls every test repeats."""

    def __init__(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.http = http
        self._token: str | None = None

    async def admin(self, method: str, name: str, body: Any = None) -> Any:
        async with self.http.request(method, f"{self.sim.base_url}/_sandbox/{name}",
                                     json=body) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def seed(self, seed: int = 1, **extra: Any) -> Any:
        return await self.admin("POST", "seed", {"seed": seed, **extra})

    async def knobs(self, **knobs: Any) -> Any:
        return await self.admin("POST", "faults", knobs)

    async def state(self) -> Any:
        return await self.admin("GET", "state")

    async def token_response(self, **form: str) -> tuple[int, Any]:
        creds = await self.admin("GET", "credentials")
        body = {"grant_type": "client_credentials", "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
                "scope": "openid microprofile-jwt"} | form
        async with self.http.post(creds["token_url"], data=body) as resp:
            return resp.status, await resp.json()

    async def token(self) -> str:
        if self._token is None:
            status, body = await self.token_response()
            assert status == 200, body
            self._token = str(body["access_token"])
        return self._token

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any, Any]:
        """(status, JSON body or None, headers) of one projection call."""
        sent = {"Authorization": f"Bearer {token or await self.token()}",
                "Accept": "application/json"} | (headers or {})
        async with self.http.request(
            method, f"{self.sim.base_url}{path}", json=body, data=raw, params=params,
            headers=sent, allow_redirects=False,
        ) as resp:
            text = await resp.text()
            data = await resp.json(content_type=None) if text.strip().startswith("{") else None
            return resp.status, data, resp.headers

    async def get_one(self, path: str) -> tuple[Any, str]:
        """An entity and its ETag."""
        status, body, _ = await self.call("GET", path)
        assert status == 200, body
        return body, str(body["@odata.etag"])
