"""The SYSPRO simulator: e.net Solutions REST and the read-only OData service on one port.

e.net (``/SYSPROWCFService/Rest/...``, paths and parameter names case-insensitive, GET only,
answers ``application/octet-stream`` with HTTP 200 — errors included, as ``ERROR: …`` text):

- ``Logon`` → the UserId (34 hex + two spaces); ``Logoff`` → ``0``; ``GetLogonProfile`` → XML;
- ``Query/Query`` (COMFND), ``Setup/Add|Update|Delete`` (APSSSP) and ``Transaction/Post``
  (APSTIN, INVTMA, PORTOI) with ``BusinessObject``, ``XmlParameters`` and ``XmlIn``.

A request line longer than ``max_url_bytes`` answers 414, as HTTP.sys does in front of the
real service. OData lives under :data:`.odata.ODATA_BASE` (see :mod:`.odata`).

The admin API is the base class's: ``state`` lists every table's rows (duplicates visible) and
the live sessions, ``credentials`` the operator, company and both service URLs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, Literal

import anyio
import msgspec
from aiohttp import web

from connector.sandbox.base import Simulator, json_response
from connector.sandbox.syspro import apsssp, apstin, comfnd, invtma, portoi
from connector.sandbox.syspro.business import Checker, Context, parameters, run_items
from connector.sandbox.syspro.company import (
    COMPANY_NAME,
    Company,
    reference_company,
    seeded_company,
)
from connector.sandbox.syspro.knobs import SysproKnobs
from connector.sandbox.syspro.odata import (
    ODATA_BASE,
    ODataError,
    authorized,
    entity_set,
    metadata,
    odata_error,
)
from connector.sandbox.syspro.sessions import Logins, LogonRefused, Session, SessionTable
from connector.sandbox.syspro.xmlio import EnetError, leaf, read_document, render

ENET_BASE = "/SYSPROWCFService/Rest"
INVALID_USER_ID = "The supplied UserID is invalid."
#: Transaction business objects: (XML root, element of one item, how to check an item).
TRANSACTIONS: dict[str, tuple[str, str, Checker]] = {
    "APSTIN": (apstin.ROOT, "Item", apstin.check_invoice),
    "INVTMA": (invtma.ROOT, "Item", invtma.check_adjustment),
    "PORTOI": (portoi.ROOT, "Orders", portoi.check_order),
}
SETUP_ACTIONS: dict[str, Literal["add", "update", "delete"]] = {
    "setup/add": "add",
    "setup/update": "update",
    "setup/delete": "delete",
}
#: The XMLOUT item element of each object (PORTOI answers one ``Order`` per ``Orders``).
OUTPUT_ITEM = {"Item": "Item", "Orders": "Order"}


class SeedRequest(msgspec.Struct, forbid_unknown_fields=True):
    seed: int = 0
    counts: dict[str, int] = msgspec.field(default_factory=dict)


class SysproSimulator(Simulator):
    """SYSPRO 8 e.net Solutions (REST) and OData for company EDU1, operator ADMIN."""

    name: ClassVar[str] = "syspro"
    port_offset: ClassVar[int] = 5
    Knobs: ClassVar[type[msgspec.Struct]] = SysproKnobs
    # HTTP.sys accepts 16 KiB request lines; aiohttp's parser must not refuse them first.
    handler_args: ClassVar[dict[str, Any]] = {"max_line_size": 65536, "max_field_size": 65536}

    def __init__(self) -> None:
        super().__init__()
        self.logins = Logins()
        self.sessions = SessionTable(self.logins)
        self.company: Company = reference_company()
        self.counters.update({"logons": 0, "posts": 0})

    @property
    def syspro_knobs(self) -> SysproKnobs:
        knobs: SysproKnobs = self.knobs
        return knobs

    # -- Simulator contract ---------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._dispatch)

    def state(self) -> dict[str, Any]:
        return {
            "company": self.logins.company,
            "counts": self.company.counts(),
            "entities": {
                table: [{k: _plain(v) for k, v in row.items()} for row in rows]
                for table, rows in self.company.tables.items()
            },
            "sessions": len(self.sessions.sessions),
            "logons": self.sessions.logons,
            "taken_over": self.sessions.taken_over,
        }

    def seed(self, params: dict[str, Any]) -> dict[str, Any]:
        """Replace the data with reference data plus ``{"seed", "counts"}``'s generated rows
        (counts of ``suppliers``, ``stock``, ``invoices``, ``purchase_orders``)."""
        try:
            request = msgspec.convert(params, SeedRequest)
        except msgspec.ValidationError as exc:
            raise web.HTTPBadRequest(text=f"bad seed body: {exc}") from None
        self.company = seeded_company(request.seed, request.counts)
        return {"seeded": self.company.counts(), "seed": request.seed}

    def reset(self) -> None:
        """Reference data only, every session logged off; the credentials stay the same."""
        self.company = reference_company()
        self.sessions = SessionTable(self.logins)
        self.counters.update({"logons": 0, "posts": 0})

    def credentials(self) -> dict[str, Any]:
        return {
            "operator": self.logins.operator,
            "operator_password": self.logins.operator_password,
            "company": self.logins.company,
            "company_password": self.logins.company_password,
            "enet_url": f"{self.base_url}{ENET_BASE}",
            "odata_url": f"{self.base_url}{ODATA_BASE}",
        }

    def is_write(self, request: web.Request) -> bool:
        """Posts and setup calls; they are GETs like everything else on e.net."""
        path = request.path.lower()
        return "/rest/transaction/" in path or "/rest/setup/" in path

    # -- routing ----------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.lower().startswith(ENET_BASE.lower() + "/"):
            return await self._enet(request, path[len(ENET_BASE) + 1 :].strip("/").lower())
        if path.lower().startswith(ODATA_BASE.lower()):
            return self._odata(request, path[len(ODATA_BASE) :].strip("/"))
        return web.Response(status=404, text="Endpoint not found.")

    async def _enet(self, request: web.Request, operation: str) -> web.StreamResponse:
        if len(request.raw_path) > self.syspro_knobs.max_url_bytes:
            return web.Response(status=414, text="Request URL Too Long")
        if request.method != "GET":
            return web.Response(status=405, text="Method not allowed.")
        query = {key.lower(): value for key, value in request.query.items()}
        try:
            if operation == "logon":
                return _answer(self._logon(query).encode("ascii"))
            session = self.sessions.use(self.syspro_knobs, query.get("userid", ""))
            if session is None:
                raise EnetError(INVALID_USER_ID)
            if operation == "logoff":
                self.sessions.logoff(self.syspro_knobs, session.user_id)
                return _answer(b"0")
            if operation == "getlogonprofile":
                return _answer(self._profile(session))
            return _answer(await self._business_object(session, operation, query))
        except EnetError as error:
            return _answer(f"ERROR: {error}".encode("cp1252", errors="replace"))

    def _logon(self, query: Mapping[str, str]) -> str:
        self.counters["logons"] += 1
        try:
            return self.sessions.logon(
                self.syspro_knobs,
                query.get("operator", ""),
                query.get("operatorpassword", ""),
                query.get("companyid", ""),
                query.get("companypassword", ""),
            )
        except LogonRefused as refused:
            raise EnetError(str(refused)) from None

    def _profile(self, session: Session) -> bytes:
        profile = ET.Element("GetLogonProfile")
        for name, value in (
            ("CompanyName", COMPANY_NAME),
            ("CompanyId", self.logins.company),
            ("OperatorCode", session.operator),
            ("CompanyDate", self._context(None).company_date.isoformat()),
            ("DefaultApBranch", "10"),
            ("LocalCurrencyCode", "$"),
        ):
            leaf(profile, name, value)
        return render("getlogonprofile", list(profile))

    async def _business_object(
        self, session: Session, operation: str, query: Mapping[str, str]
    ) -> bytes:
        knobs = self.syspro_knobs
        if session.busy and knobs.reject_concurrent_calls:
            raise EnetError(
                "The UserID is already processing a business object; run one call per "
                "UserID at a time"
            )
        session.busy = True
        try:
            if knobs.call_duration_ms:
                await anyio.sleep(knobs.call_duration_ms / 1000)
            return self._run(operation, query)
        finally:
            session.busy = False

    def _run(self, operation: str, query: Mapping[str, str]) -> bytes:
        business_object = query.get("businessobject", "").strip().upper()
        if operation == "query/query":
            if business_object != "COMFND":
                raise EnetError(f"Business object '{business_object}' is not available")
            document = read_document(query.get("xmlin", ""), "XmlIn", comfnd.ROOT)
            table, body = comfnd.run_query(self.company, document)
            return render(table, body)
        if operation in ("query/fetch", "query/browse"):
            raise EnetError(f"{operation} is not offered by this server")
        if operation in SETUP_ACTIONS:
            if business_object != "APSSSP":
                raise EnetError(f"Business object '{business_object}' is not available")
            checker = apsssp.supplier_checker(SETUP_ACTIONS[operation])
            return self._post(query, apsssp.ROOT, "Item", checker, "setup")
        if operation == "transaction/post":
            if business_object not in TRANSACTIONS:
                raise EnetError(f"Business object '{business_object}' is not available")
            root, item, checker = TRANSACTIONS[business_object]
            return self._post(query, root, item, checker, "transaction")
        raise EnetError(f"Unknown e.net method '{operation}'")

    def _post(
        self,
        query: Mapping[str, str],
        root: str,
        item: str,
        checker: Checker,
        style: Literal["setup", "transaction"],
    ) -> bytes:
        raw_parameters = query.get("xmlparameters", "")
        params_document = (
            read_document(raw_parameters, "XmlParameters", root) if raw_parameters.strip() else None
        )
        document = read_document(query.get("xmlin", ""), "XmlIn", root)
        context = self._context(params_document)
        items = [c for c in document if c.tag.lower() == item.lower()]
        if not items:
            raise EnetError(f"XmlIn holds no <{item}> to process")
        self.counters["posts"] += 1
        body = run_items(context, items, checker, item_tag=OUTPUT_ITEM[item], style=style)
        return render(root.lower(), body)

    def _context(self, params_document: ET.Element | None) -> Context:
        return Context(self.company, self.syspro_knobs, parameters(params_document))

    # -- OData --------------------------------------------------------------------------
    def _odata(self, request: web.Request, tail: str) -> web.Response:
        if not authorized(request, self.logins):
            return odata_error(
                401,
                "Authorization has been denied for this request.",
                {"WWW-Authenticate": 'Basic realm="SYSPRO OData"'},
            )
        if request.method not in ("GET", "HEAD"):
            return odata_error(405, "The OData service is read-only.", {"Allow": "GET"})
        if tail == "$metadata":
            return metadata()
        if tail == "":
            return json_response({"value": [{"name": t, "url": t} for t in self.company.tables]})
        table = next((t for t in self.company.tables if t.lower() == tail.lower()), None)
        if table is None:
            return odata_error(404, f"No entity set named '{tail}'.")
        knobs = self.syspro_knobs
        try:
            return entity_set(
                request,
                self.company,
                table,
                self.base_url,
                knobs.odata_row_cap,
                knobs.odata_next_link,
            )
        except ODataError as error:
            return odata_error(400, str(error))


def _answer(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/octet-stream")


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value
