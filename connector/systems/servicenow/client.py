"""The ServiceNow client: Table API reads, natural-key lookups, Import Set API writes.

**Reads** (:meth:`ServiceNowClient.changed_since`) follow the sheet's incremental cursor
``(sys_updated_on, sys_id)`` with two queries, so the hundreds of rows that can share one
``sys_updated_on`` second are neither skipped nor read twice:

1. ``sys_updated_on={T}^sys_id>{S}^ORDERBYsys_id``;
2. once that is exhausted, ``sys_updated_on>{T}^ORDERBYsys_updated_on^ORDERBYsys_id``;

after each page the cursor moves to the page's last row and reading restarts at 1. The
instance applies ``sysparm_limit`` *before* its ACLs, so a page may be short or empty while
more rows exist: a page's emptiness never ends a query, only the ``Link`` header (no
``next``) or ``X-Total-Count`` does; an empty window with more behind it is stepped over by
``sysparm_offset``. Every read asks ``sysparm_display_value=false`` and
``sysparm_exclude_reference_link=true`` (plain strings, references as sys_ids) and only the
model's own fields.

**Lookups** (``find_*``) are live queries on the *target* tables by natural key plus the
configured ERP source: the exactly-once protocol asks the target, never a cache, and staging
rows are purged on a schedule so they cannot answer. More than one match is an error a person
must resolve (a replay without coalesce duplicated the record).

**Writes** go through the Import Set API (:meth:`ServiceNowClient.import_row`), which
transforms the row synchronously; the HTTP status does not report a row that failed, so
``result[].status`` is checked. A write is never re-sent when its outcome is unknown: the HTTP
kit raises ``InDoubtError``, to be settled with a ``find_*``.
"""

from __future__ import annotations

import builtins
import logging
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import anyio
import msgspec

from connector.errors import (
    AuthError,
    ConnectorError,
    InDoubtError,
    RejectedError,
    TimeoutError_,
    clause,
)
from connector.http.client import HttpClient, HttpResponse
from connector.systems.servicenow import encoded
from connector.systems.servicenow.models import (
    CostCenter,
    GlAccount,
    ImportResponse,
    Invoice,
    InvoiceLine,
    MultiImportResponse,
    PurchaseOrder,
    PurchaseOrderLine,
    Record,
    StagingRow,
    StagingState,
    Supplier,
    Watermark,
)
from connector.systems.servicenow.problems import (
    IMPORT_ROLES,
    READ_ROLES,
    SYSTEM,
    hibernating,
    is_html,
    missing_role,
    plugin_missing,
    said,
    unexpected,
)

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Record)

ACCEPT = {"Accept": "application/json"}
#: The table whose presence proves the Source-to-Pay plugin is active.
S2P_PROBE_TABLE = Invoice.TABLE
#: Most rows a natural-key lookup reads; more than one match is already an error.
LOOKUP_LIMIT = 10
_NEXT_LINK = re.compile(r'rel="?next"?')


class Result(msgspec.Struct, frozen=True):
    """The Table API envelope, decoded per model."""

    result: list[msgspec.Raw]


@dataclass(frozen=True)
class Imported:
    """A row the transform map applied: ``status`` is ``inserted``, ``updated`` or
    ``ignored`` (nothing changed); ``target_sys_id`` is the record in ``target_table``."""

    status: str
    target_sys_id: str
    target_table: str
    #: The target's display value (its number, e.g. INV0005120).
    number: str
    import_set: str


class _InstanceCalls:
    """One instance's plumbing: URLs, the shared GET/POST with their classified refusals
    (missing plugin, missing role, Basic auth refused, hibernating instance) and the
    rate-rule notice. :class:`ServiceNowClient` builds its calls on it."""

    def __init__(
        self,
        http: HttpClient,
        *,
        instance_url: str,
        erp_source: str,
        page_size: int = 500,
        credential_name: str = "servicenow",
        basic: bool = False,
        requests_per_hour: int = 0,
    ) -> None:
        self.http = http
        self.instance_url = instance_url
        self.erp_source = erp_source
        self.page_size = page_size
        self._credential = credential_name
        self._basic = basic
        self._requests_per_hour = requests_per_hour
        self._rule_reported = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(instance_url={self.instance_url!r})"

    # -- plumbing -------------------------------------------------------------------------
    def _table_url(self, table: str) -> str:
        # v2: a query without rows answers 200 [] (v1 answers 404).
        return f"{self.instance_url}/api/now/v2/table/{table}"

    @staticmethod
    def _read_params(model: type[Record]) -> dict[str, str]:
        return {
            "sysparm_fields": ",".join(model.field_names()),
            "sysparm_display_value": "false",
            "sysparm_exclude_reference_link": "true",
        }

    async def _page(
        self, model: type[R], query: str, limit: int, offset: int
    ) -> tuple[builtins.list[R], bool]:
        params = self._read_params(model) | {
            "sysparm_query": query,
            "sysparm_limit": str(limit),
            "sysparm_offset": str(offset),
        }
        response = await self._get(
            self._table_url(model.TABLE), params, model.TABLE, f"{model.TABLE} page"
        )
        if response.status == 404:
            return [], False
        rows = [msgspec.json.decode(raw, type=model) for raw in response.json(Result).result]
        return rows, _has_more(response, offset, limit)

    def _statuses(self, *extra: int) -> frozenset[int]:
        # With Basic auth a 401 is final, so it is read here to give a precise hint; with a
        # token the HTTP kit must see it to refresh once.
        return frozenset(extra) | ({401} if self._basic else frozenset())

    async def _get(
        self, url: str, params: Mapping[str, str], table: str, record: str
    ) -> HttpResponse:
        response = await self.http.request(
            "GET",
            url,
            params=params,
            headers=ACCEPT,
            idempotent=True,
            record=record,
            ok_statuses=self._statuses(200, 400, 403, 404),
        )
        return self._checked(response, table, record, f"read {table}", READ_ROLES)

    async def _write(self, url: str, body: bytes, table: str, record: str) -> HttpResponse:
        response = await self.http.request(
            "POST",
            url,
            json=body,
            headers=ACCEPT,
            idempotent=False,
            record=record,
            ok_statuses=self._statuses(200, 201, 400, 403),
        )
        return self._checked(response, table, record, f"import into {table}", IMPORT_ROLES)

    def _checked(
        self, response: HttpResponse, table: str, record: str, action: str, roles: tuple[str, ...]
    ) -> HttpResponse:
        self._note_rate_rule(response)
        if response.status in (200, 201) and is_html(response):
            raise hibernating(response, self.instance_url)
        if response.status in (200, 201, 404):
            return response
        error: ConnectorError
        if response.status == 400 and said(response).startswith("Invalid table"):
            error = plugin_missing(response, table, self.instance_url)
        elif response.status == 403:
            error = missing_role(response, action, roles, self._credential, record)
        elif response.status == 401:
            error = self._basic_refused(response, record)
        else:
            error = unexpected(response, record)
        raise error

    def _note_rate_rule(self, response: HttpResponse) -> None:
        announced = response.headers.get("X-RateLimit-Limit", "")
        if self._rule_reported or not announced.isdigit():
            return
        limit = int(announced)
        if self._requests_per_hour and self._requests_per_hour <= limit:
            return
        self._rule_reported = True
        log.warning(
            "servicenow %s: the instance applies a rate-limit rule of %d requests per hour "
            "(rule %s) but the connector paces to %s; set requests_per_hour = %d for this "
            "system so it never waits out a 429 of up to an hour",
            self.instance_url,
            limit,
            response.headers.get("X-RateLimit-Rule", "?"),
            f"{self._requests_per_hour} per hour" if self._requests_per_hour else "no budget",
            limit,
        )

    def _basic_refused(self, response: HttpResponse, record: str) -> AuthError:
        name = self._credential
        if response.headers.get("X-MFA_TOKEN") == "invalid":
            hint = (
                "the user needs multi-factor authentication, which Basic auth cannot "
                "give: use a web-service-only user, or an OAuth credential"
            )
        else:
            hint = (
                "check username and password; hardened instances also refuse Basic auth "
                "for users who can sign in interactively: use a web-service-only user"
            )
        return AuthError(
            f"{response.method} {response.path} → HTTP 401 ({said(response)}): "
            f"ServiceNow refused the Basic auth of credential {name!r}; {hint}",
            system=SYSTEM,
            record=record,
        )


class _Lookups(_InstanceCalls):
    """Single rows by sys_id or by their natural key (what every target's ``find`` asks)."""

    async def query(
        self, model: type[R], equal: Mapping[str, str], *, limit: int = LOOKUP_LIMIT
    ) -> builtins.list[R]:
        """Rows of ``model`` whose fields equal ``equal`` (one live query, ordered by sys_id)."""
        terms = [*encoded.all_equal(model, equal), *encoded.order_by(model, "sys_id")]
        rows, _ = await self._page(model, encoded.join(terms), limit, 0)
        return rows

    async def get(self, model: type[R], sys_id: str) -> R | None:
        """One row by sys_id, or None when it does not exist or the ACL hides it."""
        response = await self._get(
            f"{self._table_url(model.TABLE)}/{sys_id}",
            self._read_params(model),
            model.TABLE,
            f"{model.TABLE} {sys_id}",
        )
        if response.status == 404:
            return None
        return msgspec.json.decode(response.json(_One).result, type=model)

    # -- natural keys ---------------------------------------------------------------------
    async def find_invoice(
        self, external_invoice_number: str, *, supplier_sys_id: str | None = None
    ) -> Invoice | None:
        """The invoice with this supplier invoice number from our ERP source (and supplier)."""
        key = {"external_invoice_number": external_invoice_number, "erp_source": self.erp_source}
        if supplier_sys_id is not None:
            key["supplier"] = supplier_sys_id
        return await self._find_one(Invoice, key, f"invoice {external_invoice_number}")

    async def find_purchase_order(self, erp_po_number: str) -> PurchaseOrder | None:
        return await self._find_one(
            PurchaseOrder,
            {"erp_po_number": erp_po_number, "erp_source": self.erp_source},
            f"purchase order {erp_po_number}",
        )

    async def find_supplier(self, erp_supplier_id: str) -> Supplier | None:
        return await self._find_one(
            Supplier,
            {"erp_supplier_id": erp_supplier_id, "erp_source": self.erp_source},
            f"supplier {erp_supplier_id}",
        )

    async def find_supplier_named(self, name: str) -> Supplier | None:
        """The supplier by name: what invoice and PO imports refer to."""
        return await self._find_one(
            Supplier, {"name": name, "erp_source": self.erp_source}, f"supplier {name!r}"
        )

    async def find_gl_account(self, number: str) -> GlAccount | None:
        return await self._find_one(
            GlAccount, {"number": number, "erp_source": self.erp_source}, f"GL account {number}"
        )

    async def find_cost_center(self, code: str) -> CostCenter | None:
        return await self._find_one(
            CostCenter, {"code": code, "erp_source": self.erp_source}, f"cost center {code}"
        )

    async def invoice_lines(self, invoice_sys_id: str) -> builtins.list[InvoiceLine]:
        """The lines of one invoice (to tell a complete invoice from one cut short)."""
        return await self.query(InvoiceLine, {"invoice": invoice_sys_id}, limit=10000)

    async def purchase_order_lines(self, po_sys_id: str) -> builtins.list[PurchaseOrderLine]:
        return await self.query(PurchaseOrderLine, {"purchase_order": po_sys_id}, limit=10000)

    async def _find_one(self, model: type[R], key: Mapping[str, str], label: str) -> R | None:
        rows = await self.query(model, key)
        if len(rows) > 1:
            ids = ", ".join(row.sys_id for row in rows)
            raise RejectedError(
                f"{len(rows)} {model.TABLE} records match {label} from ERP source "
                f"{self.erp_source} ({ids}): a replay without coalesce duplicated it. Keep one "
                "in ServiceNow, delete the others, then replay the record",
                system=SYSTEM,
                record=label,
                code="duplicate_target",
            )
        return rows[0] if rows else None


class ServiceNowClient(_Lookups):
    """Calls to one instance; see the module docstring for the contract.

    ``erp_source`` is written by the flows on every import and added to every lookup.
    ``credential_name`` names the credential in errors; ``basic`` says the credential is
    Basic auth (a 401 is then final: there is no token to refresh). ``requests_per_hour`` is
    the budget the limiter paces to (0 = none): when the instance announces a stricter
    hourly rule (``X-RateLimit-Limit``) the client says so once in the log, since waiting
    out a 429 there can take most of an hour.
    """

    # -- checks ---------------------------------------------------------------------------
    async def check_plugin(self) -> None:
        """Raise ConfigurationError unless the S2P tables exist and the user may read them."""
        await self._get(
            f"{self._table_url(S2P_PROBE_TABLE)}",
            {"sysparm_limit": "1", "sysparm_fields": "sys_id"},
            S2P_PROBE_TABLE,
            "Source-to-Pay check",
        )

    # -- reads ----------------------------------------------------------------------------
    async def changed_since(
        self,
        model: type[R],
        after: Watermark,
        *,
        equal: Mapping[str, str] | None = None,
        until: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[list[R]]:
        """Pages of ``model`` rows after ``after`` in ``(sys_updated_on, sys_id)`` order.

        ``equal`` adds field=value filters; ``until`` (``yyyy-MM-dd HH:mm:ss`` UTC) leaves
        out rows updated later, so the caller can keep its cursor a little behind "now"
        for rows whose transactions commit late. Pages may be shorter than asked (ACLs);
        each page's last row is the next watermark (:meth:`Watermark.of`).
        """
        limit = page_size or self.page_size
        filters = encoded.all_equal(model, equal or {})
        if until is not None:
            filters.append(encoded.term(model, "sys_updated_on", "<=", until))
        cursor = after
        same_second = True
        offset = 0
        while True:
            if same_second:
                terms = [
                    encoded.term(model, "sys_updated_on", "=", cursor.updated_on),
                    encoded.term(model, "sys_id", ">", cursor.sys_id),
                    *filters,
                    *encoded.order_by(model, "sys_id"),
                ]
            else:
                terms = [
                    encoded.term(model, "sys_updated_on", ">", cursor.updated_on),
                    *filters,
                    *encoded.order_by(model, "sys_updated_on", "sys_id"),
                ]
            rows, more = await self._page(model, encoded.join(terms), limit, offset)
            if rows:
                yield rows
                cursor, same_second, offset = Watermark.of(rows[-1]), True, 0
            elif more:
                # A window the ACL emptied: step over it, the rows behind it still count.
                offset += limit
            elif same_second:
                same_second, offset = False, 0
            else:
                return

    async def invoices_dated(
        self, start: str, end: str, source_prefix: str
    ) -> builtins.list[Invoice]:
        """Invoices of our ERP source dated ``start``..``end`` (``yyyy-MM-dd``) whose external
        invoice source starts with ``source_prefix``, every page of them."""
        terms = [
            *encoded.all_equal(Invoice, {"erp_source": self.erp_source}),
            encoded.term(Invoice, "external_invoice_source", "STARTSWITH", source_prefix),
            encoded.term(Invoice, "invoice_date", ">=", start),
            encoded.term(Invoice, "invoice_date", "<=", end),
            *encoded.order_by(Invoice, "sys_id"),
        ]
        found: builtins.list[Invoice] = []
        offset = 0
        while True:
            # The limit applies before the ACLs: a short page is not the last one, only the
            # Link header or the total count says so (see _has_more).
            rows, more = await self._page(Invoice, encoded.join(terms), self.page_size, offset)
            found.extend(rows)
            if not more:
                return found
            offset += self.page_size

    # -- imports --------------------------------------------------------------------------
    async def import_row(self, row: StagingRow) -> Imported:
        """Insert one staging row; the transform runs before the answer. A row the transform
        refused (missing mandatory field, unknown supplier…) raises RejectedError quoting
        the instance; an unknown outcome raises InDoubtError (settle it with ``find_*``)."""
        label = row.describe()
        response = await self._write(
            f"{self.instance_url}/api/now/import/{row.STAGING}",
            msgspec.json.encode(row),
            row.STAGING,
            label,
        )
        try:
            body = response.json(ImportResponse)
        except RejectedError as exc:
            # The instance accepted the row but its answer is unreadable: the target may
            # exist, so this is settled by a lookup, never by sending the row again.
            raise InDoubtError(
                f"the import of {label} into {row.STAGING} answered HTTP "
                f"{response.status} in a shape the connector cannot read "
                f"({exc.message}); look the record up by its natural key "
                "before importing it again",
                system=SYSTEM,
                record=label,
            ) from exc
        if not body.result:
            raise RejectedError(
                f"the import into {row.STAGING} answered no result row; "
                "report it with this message",
                system=SYSTEM,
                record=label,
                code="unexpected_response",
            )
        result = body.result[0]
        if result.status in ("inserted", "updated", "ignored"):
            return Imported(
                result.status, result.sys_id, result.table, result.display_value, body.import_set
            )
        raise RejectedError(
            f"the transform map {result.transform_map or row.STAGING} refused {label}: "
            f"{result.status}, "
            f"{clause(result.error_message or result.status_message or 'no reason')}. "
            "Fix the record (or load what it refers to first), then replay it",
            system=SYSTEM,
            record=label,
            code=f"import_{result.status}",
        )

    async def import_rows(self, rows: Sequence[StagingRow]) -> str:
        """Insert rows of one staging table with ``insertMultiple``; they are transformed
        later. Returns the import set's sys_id for :meth:`import_set_rows`."""
        staging = {row.STAGING for row in rows}
        if len(staging) != 1:
            raise ValueError("import_rows takes rows of exactly one staging table")
        (table,) = staging
        records = [
            {row.LABELS.get(k, k): v for k, v in msgspec.to_builtins(row).items()} for row in rows
        ]
        response = await self._write(
            f"{self.instance_url}/api/now/import/{table}/insertMultiple",
            msgspec.json.encode({"records": records}),
            table,
            f"{len(rows)} rows of {table}",
        )
        return response.json(MultiImportResponse).import_set_id

    async def import_set_rows(
        self,
        staging: type[StagingRow],
        import_set_id: str,
        *,
        wait_s: float = 60.0,
        poll_s: float = 0.5,
    ) -> builtins.list[StagingState]:
        """The staging rows of one import set once none is still pending (read through the
        Table API); TimeoutError_ if the set is not transformed within ``wait_s``."""
        url = self._table_url(staging.STAGING)
        fields = ",".join(StagingState.__struct_fields__)
        params = {
            "sysparm_query": f"sys_import_set={import_set_id}^ORDERBYsys_created_on",
            "sysparm_fields": fields,
            "sysparm_exclude_reference_link": "true",
            "sysparm_display_value": "false",
        }
        with anyio.move_on_after(wait_s):
            while True:
                response = await self._get(
                    url, params, staging.STAGING, f"import set {import_set_id}"
                )
                states = [
                    msgspec.json.decode(raw, type=StagingState)
                    for raw in response.json(Result).result
                ]
                if states and all(s.sys_import_state not in ("", "pending") for s in states):
                    return states
                await anyio.sleep(poll_s)
        raise TimeoutError_(
            f"import set {import_set_id} of {staging.STAGING} was not "
            f"transformed within {wait_s:.0f}s; read it again later",
            system=SYSTEM,
            record=f"import set {import_set_id}",
        )


class _One(msgspec.Struct, frozen=True):
    result: msgspec.Raw


def _has_more(response: HttpResponse, offset: int, limit: int) -> bool:
    """Whether rows lie beyond this window: the Link header's ``next``, else the count."""
    link = response.headers.get("Link")
    if link is not None:
        return _NEXT_LINK.search(link) is not None
    total = response.headers.get("X-Total-Count")
    return total is not None and total.isdigit() and offset + limit < int(total)
