"""Simulated SyteLine (CloudSuite Industrial) behind the ION API gateway: Mongoose IDO REST.

Routes, after the gateway has checked tenant, bearer and quota (see :mod:`.lines`)::

    GET  /{ti}/CSI/IDORequestService/ido/load/{IDO}?properties=…&filter=…&orderBy=…
         &recordCap=N&loadType=FIRST|NEXT|PREV|LAST&bookmark=…
    POST /{ti}/CSI/IDORequestService/ido/update/{IDO}[?refresh=true]

Every request needs ``X-Infor-MongooseConfig`` naming a configuration of the application
server (``ACME_DALS`` here): Mongoose reads it to pick the site database when it is called
through ION. Without it, or with an unknown one, the answer is HTTP 400 with the IDO
envelope (``"Success": false`` and the reason in ``Message``). IDO-level refusals — an
unknown IDO or property, a bad filter, a stale ``_ItemId``, a missing required property, a
duplicate key — are HTTP 200 with ``"Success": false``, as Mongoose answers them; a client
must read ``Success`` on every answer. Loading is :mod:`.syteline_load`, writing
:mod:`.syteline_update`, the IDOs :mod:`.syteline_idos`.

Admin (through the Infor simulator's ``/_sandbox/seed`` with ``{"line": "CSI", …}``):
``{"seed": N, "counts": {…}}`` replaces the data with a deterministic set;
``{"knobs": {…}}`` alone changes :class:`SyteLineKnobs` and keeps the data. The shared
fault knobs (429, 5xx, timeouts, timeout-after-commit) apply as on M3; every ``update`` is a
write for them.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from connector.sandbox.base import json_response, read_json
from connector.sandbox.infor.syteline_idos import IDOS, Ido, wire
from connector.sandbox.infor.syteline_load import LoadError, load
from connector.sandbox.infor.syteline_update import (
    Applier,
    Tables,
    UpdateError,
    item_id,
    run_update,
)

PREFIX = ("CSI", "IDORequestService", "ido")
CONFIG_HEADER = "X-Infor-MongooseConfig"
#: The configuration the simulated application server offers (one site, Dallas).
DEFAULT_CONFIG = "ACME_DALS"
#: The vendor ServiceTitan job invoices are booked against, and the currency of the site.
CLEARING_VENDOR = "STCLEAR"
SITE_CURRENCY = "USD"
#: The site the configuration opens.
SITE = "DALS"


class SyteLineKnobs(msgspec.Struct, forbid_unknown_fields=True):
    """Behaviour switches of the simulated SyteLine site (the strict reading by default)."""

    configs: list[str] = msgspec.field(default_factory=lambda: [DEFAULT_CONFIG])
    """Configuration names the application server accepts in ``X-Infor-MongooseConfig``."""

    max_record_cap: int = 0
    """Site-wide maximum rows per load, whatever ``recordCap`` asks (0 = none)."""

    duplicate_invoices: bool = True
    """A/P parameter: accept a second voucher with a vendor's invoice number (warning only
    in SyteLine). On by default, so nothing but the client's own look-up prevents a double."""

    update_first_change_only: bool = False
    """Save only the first entry of an update's ``Changes`` and still answer Success (field
    reports of some Mongoose versions); the refresh answer then holds that one change."""


class SeedCounts(msgspec.Struct, forbid_unknown_fields=True):
    vendors: int = 40
    items: int = 60
    vouchers: int = 20
    purchase_orders: int = 10


class SeedRequest(msgspec.Struct, forbid_unknown_fields=True):
    seed: int = 0
    counts: SeedCounts = msgspec.field(default_factory=SeedCounts)
    knobs: SyteLineKnobs | None = None


def _envelope(message: str) -> dict[str, Any]:
    return {
        "Items": None,
        "Bookmark": None,
        "MoreRowsExist": False,
        "Message": message,
        "Success": False,
    }


class SyteLineApp:
    """One simulated SyteLine site: its IDOs' rows and knobs."""

    def __init__(self) -> None:
        self.knobs = SyteLineKnobs()
        self.tables = Tables()
        self.reset()

    # -- LineApp -----------------------------------------------------------------------
    def is_write(self, request: web.Request) -> bool:
        return request.method == "POST" and "/ido/update/" in request.path

    async def handle(self, request: web.Request, segments: list[str]) -> web.StreamResponse:
        if (
            len(segments) != 5
            or tuple(segments[:3]) != PREFIX
            or segments[3] not in ("load", "update")
        ):
            return json_response(
                _envelope(
                    "Not found: use /CSI/IDORequestService/ido/load/{IDO} or "
                    "/CSI/IDORequestService/ido/update/{IDO}"
                ),
                404,
            )
        operation, name = segments[3], segments[4]
        expected = "GET" if operation == "load" else "POST"
        if request.method != expected:
            return json_response(_envelope(f"{operation} takes {expected}"), 405)
        config = request.headers.get(CONFIG_HEADER, "")
        if not config:
            return json_response(
                _envelope(
                    f"The {CONFIG_HEADER} header is required when Mongoose is called "
                    "through ION API: name the site's configuration"
                ),
                400,
            )
        if config not in self.knobs.configs:
            return json_response(
                _envelope(f"Configuration '{config}' does not exist on this application server"),
                400,
            )
        ido = IDOS.get(name)
        if ido is None:
            return json_response(_envelope(f"IDO collection '{name}' does not exist."))
        if operation == "load":
            return self._load(ido, request)
        return await self._update(ido, request)

    def _load(self, ido: Ido, request: web.Request) -> web.Response:
        rows = list(self.tables.rows[ido.name].values())
        try:
            body = load(
                ido,
                rows,
                request.query,
                site_max=self.knobs.max_record_cap,
                item_id=lambda row: item_id(ido, row),
            )
        except LoadError as exc:
            return json_response(_envelope(str(exc)))
        return json_response(body)

    async def _update(self, ido: Ido, request: web.Request) -> web.Response:
        body = await read_json(request)
        refresh = request.query.get("refresh", "").lower() == "true"
        try:
            self.tables, answer = run_update(
                self.tables,
                ido,
                body,
                refresh=refresh,
                duplicate_invoices=self.knobs.duplicate_invoices,
                first_change_only=self.knobs.update_first_change_only,
            )
        except UpdateError as exc:
            return json_response({"Message": str(exc), "Success": False})
        return json_response(answer)

    def state(self) -> dict[str, Any]:
        return {
            "configs": list(self.knobs.configs),
            "knobs": msgspec.to_builtins(self.knobs),
            "idos": {
                name: [
                    {
                        **{prop: wire(row.get(prop)) for prop in IDOS[name].props},
                        "_ItemId": item_id(IDOS[name], row),
                    }
                    for row in rows.values()
                ]
                for name, rows in self.tables.rows.items()
            },
        }

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            request = msgspec.convert(params, SeedRequest)
        except msgspec.ValidationError as exc:
            raise web.HTTPBadRequest(
                text=msgspec.json.encode({"error": f"bad CSI seed body: {exc}"}).decode(),
                content_type="application/json",
            ) from None
        if request.knobs is not None:
            self.knobs = request.knobs
            if set(params) == {"knobs"}:
                return {"knobs": msgspec.to_builtins(self.knobs)}
        self.tables = _seeded(request)
        return {
            "seeded": {name: len(rows) for name, rows in self.tables.rows.items()},
            "seed": request.seed,
            "config": self.knobs.configs[0] if self.knobs.configs else "",
        }

    def reset(self) -> None:
        """Reference data only: the site and the clearing vendor, nothing else."""
        self.knobs = SyteLineKnobs()
        self.tables = _seeded(SeedRequest(counts=SeedCounts(0, 0, 0, 0)))


def make_app() -> SyteLineApp:
    return SyteLineApp()


_NAMES = (
    "Lone Star",
    "Gulf Coast",
    "Panhandle",
    "Trinity",
    "Brazos",
    "Pecos",
    "Red River",
    "Big Bend",
    "Hill Country",
    "Permian",
)
_TRADES = ("HVAC Supply", "Sheet Metal", "Refrigeration", "Controls", "Electric", "Ductwork")
_PARTS = (
    "Condenser fan motor",
    "Capacitor 45/5 MFD",
    "TXV valve",
    "Contactor 2-pole 40A",
    "Filter drier 3/8",
    "Blower wheel",
    "Thermostat",
    "Igniter",
    "Flame sensor",
    "Pressure switch",
)


def _insert(
    tables: Tables, ido_name: str, values: dict[str, Any], when: datetime
) -> dict[str, Any]:
    row = Applier(tables, duplicate_invoices=True)._insert(IDOS[ido_name], values)
    row["_changed"] = row["RecordDate"] = row["CreateDate"] = when
    return row


def _seeded(request: SeedRequest) -> Tables:
    """Deterministic data from ``random.Random(seed)``; row dates spread over 90 days."""
    rng = random.Random(request.seed)
    tables = Tables()
    counts = request.counts
    start = datetime(2024, 3, 1, 8, 0, 0)

    def when(index: int) -> datetime:
        return start + timedelta(days=index % 90, minutes=index)

    _insert(
        tables, "SLSites", {"Site": SITE, "SiteName": "Dallas", "CurrCode": SITE_CURRENCY}, start
    )
    _insert(
        tables,
        "SLVendors",
        {"VendNum": CLEARING_VENDOR, "Name": "ServiceTitan clearing", "CurrCode": SITE_CURRENCY},
        start,
    )
    vendors: list[str] = []
    for index in range(counts.vendors):
        code = f"{1001 + index:>7}"
        vendors.append(code)
        name = f"{rng.choice(_NAMES)} {rng.choice(_TRADES)} #{index + 1}"
        _insert(
            tables,
            "SLVendors",
            {
                "VendNum": code,
                "Name": name,
                "CurrCode": SITE_CURRENCY,
                "Stat": "A" if rng.random() > 0.1 else "I",
            },
            when(index),
        )
    items: list[str] = []
    for index in range(counts.items):
        code = f"PRT-{10001 + index}"
        items.append(code)
        _insert(
            tables,
            "SLItems",
            {
                "Item": code,
                "Description": rng.choice(_PARTS),
                "UM": "EA",
                "ProductCode": "PARTS",
                "UnitCost": Decimal(rng.randint(500, 90000)) / 100,
            },
            when(index),
        )
    for index in range(counts.vouchers if vendors else 0):
        vendor = rng.choice(vendors)
        amounts = [Decimal(rng.randint(1000, 200000)) / 100 for _ in range(rng.randint(1, 3))]
        day = start.date() + timedelta(days=index * 3 % 90)
        header = _insert(
            tables,
            "SLAptrxs",
            {
                "VendNum": vendor,
                "Type": "V",
                "InvNum": f"INV-{70000 + index}",
                "InvDate": datetime.combine(day, datetime.min.time()),
                "DueDate": datetime.combine(day + timedelta(days=30), datetime.min.time()),
                "InvAmt": sum(amounts, Decimal(0)),
                "PurchAmt": sum(amounts, Decimal(0)),
            },
            when(index),
        )
        for seq, amount in enumerate(amounts, 1):
            _insert(
                tables,
                "SLAptrxds",
                {
                    "VendNum": vendor,
                    "Voucher": header["Voucher"],
                    "DistSeq": seq * 5,
                    "Acct": "5010",
                    "AcctUnit1": "100",
                    "Amount": amount,
                },
                when(index),
            )
    for index in range(counts.purchase_orders if vendors and items else 0):
        number = f"{'P' + str(5001 + index):>10}"
        _insert(
            tables,
            "SLPos",
            {
                "PoNum": number,
                "VendNum": rng.choice(vendors),
                "OrderDate": datetime.combine(start.date(), datetime.min.time()),
                "Stat": "O",
            },
            when(index),
        )
        for line in range(1, rng.randint(2, 4)):
            _insert(
                tables,
                "SLPoItems",
                {
                    "PoNum": number,
                    "PoLine": line,
                    "Item": rng.choice(items),
                    "QtyOrdered": Decimal(rng.randint(1, 20)),
                    "ItemCost": Decimal(rng.randint(500, 9000)) / 100,
                    "UM": "EA",
                    "Stat": "O",
                },
                when(index),
            )
    return tables
