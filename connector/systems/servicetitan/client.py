"""ServiceTitan API client: token, app key, tenant path, paging, exports, writes.

Contract:

* Every call carries ``Authorization: Bearer …`` and ``ST-App-Key`` and goes to
  ``{api_url}/{module}/v2/tenant/{tenant}/…``. Tokens come from ``{auth_url}/connect/token``
  (client credentials, no refresh token) and are renewed after ``refresh_after_s`` of their
  life (750 of 900 s by default) — before ServiceTitan would refuse them. A 401 anyway gets
  one refresh and one retry (the HTTP kit does that). A refused grant (wrong client id or
  secret) is a ``ConfigurationError``: the credential is at fault, not the record in hand.
* All calls share one rate limiter per (app key, tenant), 60 requests/s, so every flow on a
  tenant stays under ServiceTitan's ceiling together; a 429 pauses all of them.
* Lists include inactive rows (``active=Any`` / ``activeState=All``): a sync that only sees
  active records never learns of a deactivation.
* Writes to read-only entities (bills) are refused here, before any request, with a message
  that says how bills come to exist.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec

from connector.errors import ConfigurationError, PermanentError, RejectedError, clause
from connector.http.client import HttpClient, HttpResponse
from connector.http.tokens import Token
from connector.systems.servicetitan import models as m
from connector.systems.servicetitan.resources import RESOURCES, Resource

T = TypeVar("T")

SYSTEM = "servicetitan"
#: ml-connector's application guid on ServiceTitan records' ``externalData``. ServiceTitan
#: returns external data only for the guid a list request names, so every list names it.
APPLICATION_GUID = "6d6c2d63-6f6e-6e65-6374-6f722d6d3300"
#: ServiceTitan caps ``pageSize`` at 5000 and ``ids`` at 50 per call.
MAX_PAGE_SIZE = 5000
MAX_IDS = 50


class TokenResponse(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: float = 900
    token_type: str = "Bearer"  # noqa: S105 - a token type, not a secret


#: The identity server answers a refused grant with 400/401 ``{"error": …}``: read it here.
_TOKEN_OK = frozenset({200, 400, 401})


class TokenError(msgspec.Struct, frozen=True):
    error: str = "unknown"


def _token_refused(response: HttpResponse) -> ConfigurationError:
    """A refused client-credentials grant: the vault credential is wrong, not any record."""
    try:
        reason = msgspec.json.decode(response.body, type=TokenError).error
    except (msgspec.DecodeError, msgspec.ValidationError):
        reason = "no OAuth error given"
    return ConfigurationError(
        f"the ServiceTitan identity server refused the client credentials (HTTP "
        f"{response.status}, {reason}): check client_id and client_secret of the servicetitan "
        "credential in the vault, and that they belong to this environment (production or "
        "integration) and tenant",
        system=SYSTEM,
    )


async def fetch_token(
    http: HttpClient,
    auth_url: str,
    client_id: str,
    client_secret: str,
    refresh_after_s: float,
) -> Token:
    """Client-credentials grant. The token is treated as expiring after ``refresh_after_s``
    of a 900 s life (proportionally for other lifetimes), so the cache renews it early."""
    response = await http.request(
        "POST",
        f"{auth_url.rstrip('/')}/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        },
        idempotent=True,
        record="token request",
        ok_statuses=_TOKEN_OK,
    )
    if response.status != 200:
        raise _token_refused(response)
    body = response.json(TokenResponse)
    usable = body.expires_in * min(1.0, refresh_after_s / 900.0)
    return Token(body.access_token, time.monotonic() + usable)


class UnreadableRow(msgspec.Struct, frozen=True):
    """A list row that does not fit its model: the raw JSON, why, and its id if readable."""

    raw: bytes
    reason: str
    id: int | None


def _row_by_row(response: HttpResponse, resource: Resource) -> m.Page[Any]:
    """The page with each row decoded on its own; rows that do not fit become
    :class:`UnreadableRow`. A page whose envelope itself does not fit still raises."""
    raw_page = response.json(m.Page[msgspec.Raw])
    rows: list[Any] = []
    for raw in raw_page.data:
        try:
            rows.append(msgspec.json.decode(raw, type=resource.model))
        except msgspec.ValidationError as exc:
            fields = msgspec.json.decode(raw)
            row_id = fields.get("id") if isinstance(fields, dict) else None
            rows.append(
                UnreadableRow(
                    bytes(raw),
                    f"{resource.describe(row_id)} does not fit ServiceTitan's documented "
                    f"model ({exc}); correct the record in ServiceTitan, or report this "
                    "message if the record looks right there",
                    row_id if isinstance(row_id, int) else None,
                )
            )
    return m.Page(
        page=raw_page.page,
        page_size=raw_page.page_size,
        has_more=raw_page.has_more,
        total_count=raw_page.total_count,
        data=rows,
    )


def server_time(response: HttpResponse) -> dt.datetime | None:
    """The instant in the response's ``Date`` header (UTC, whole seconds), if readable."""
    header = response.headers.get("Date")
    if not header:
        return None
    try:
        stamp = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.UTC)


class ServiceTitanClient:
    """Typed access to one ServiceTitan tenant. Built by :func:`connect` in ``__init__``."""

    def __init__(self, http: HttpClient, *, api_url: str, tenant: int, page_size: int = 500):
        self.http = http
        self.api_url = api_url.rstrip("/")
        self.tenant = tenant
        self.page_size = min(page_size, MAX_PAGE_SIZE)

    def url(self, resource: Resource, suffix: str = "") -> str:
        return f"{self.api_url}/{resource.module}/v2/tenant/{self.tenant}/{resource.path}{suffix}"

    # -- reading ------------------------------------------------------------------------
    async def pages(
        self,
        resource: Resource,
        *,
        modified_on_or_after: str | None = None,
        ids: Sequence[int] | None = None,
        extra: dict[str, str] | None = None,
        lenient: bool = False,
        on_server_time: Callable[[dt.datetime], None] | None = None,
    ) -> AsyncIterator[list[Any]]:
        """Every page of a list, in the API's default order (by id), inactive rows included.

        Ordering by id rather than ``+ModifiedOn`` keeps page boundaries stable while records
        change during the read: a modified record keeps its place instead of shifting every
        later row into the page already read.

        A row that does not fit the model (a field of the wrong type) makes the page a
        ``RejectedError``; with ``lenient`` it comes back as an :class:`UnreadableRow` in its
        place instead, so one bad record does not hide the rest of the list.

        ``on_server_time`` is called once, with ServiceTitan's clock when it answered the
        first page (its HTTP ``Date``), before that page is yielded; not at all when the
        answer has no readable ``Date``. Every row changed after that instant has a later
        ``modifiedOn``, so it is the safe watermark of the read.
        """
        params: dict[str, str] = {"pageSize": str(self.page_size)}
        if resource.include_inactive is not None:
            params[resource.include_inactive[0]] = resource.include_inactive[1]
        if modified_on_or_after is not None:
            params["modifiedOnOrAfter"] = modified_on_or_after
        if ids is not None:
            params["ids"] = ",".join(str(i) for i in ids)
        if resource.external_data:
            params["externalDataApplicationGuid"] = APPLICATION_GUID
        params.update(extra or {})
        page_type = m.Page[resource.model]  # type: ignore[name-defined]
        page_number = 1
        while True:
            params["page"] = str(page_number)
            response = await self.http.request(
                "GET",
                self.url(resource),
                params=params,
                idempotent=True,
                record=f"{resource.name} page {page_number}",
            )
            try:
                page: m.Page[Any] = response.json(page_type)
            except RejectedError:
                if not lenient:
                    raise
                page = _row_by_row(response, resource)
            if page_number == 1 and on_server_time is not None:
                answered = server_time(response)
                if answered is not None:
                    on_server_time(answered)
            yield page.data
            if not page.has_more or not page.data:
                return
            page_number += 1

    async def records(self, resource: Resource, **kw: Any) -> AsyncIterator[Any]:
        async for page in self.pages(resource, **kw):
            for record in page:
                yield record

    async def get_by_ids(self, resource: Resource, ids: Sequence[int]) -> list[Any]:
        """Fetch records by id (≤ 50 per call, as the API allows), in any order."""
        found: list[Any] = []
        # One page holds every id asked for, whatever the list's configured page size.
        whole = {"pageSize": str(max(self.page_size, MAX_IDS))}
        for start in range(0, len(ids), MAX_IDS):
            async for page in self.pages(resource, ids=ids[start : start + MAX_IDS], extra=whole):
                found.extend(page)
        return found

    async def get(self, resource: Resource, record_id: int) -> Any | None:
        records = await self.get_by_ids(resource, [record_id])
        return records[0] if records else None

    async def export(
        self, resource: Resource, start: str | None, *, include_recent_changes: bool = False
    ) -> AsyncIterator[m.ExportPage[Any]]:
        """The export feed from ``start`` (a continuation token or a date; None = beginning).

        Yields each chunk with its ``continue_from`` token: store the token of the last chunk
        fully processed. ``has_more=False`` means "caught up; ask again in a few minutes".
        """
        if resource.export_path is None:
            raise PermanentError(
                f"ServiceTitan has no export feed for {resource.name}", system=SYSTEM
            )
        url = f"{self.api_url}/{resource.module}/v2/tenant/{self.tenant}/{resource.export_path}"
        token = start
        export_type = m.ExportPage[resource.model]  # type: ignore[name-defined]
        while True:
            params = {"includeRecentChanges": "true" if include_recent_changes else "false"}
            if token is not None:
                params["from"] = token
            response = await self.http.request(
                "GET", url, params=params, idempotent=True, record=f"{resource.name} export"
            )
            chunk: m.ExportPage[Any] = response.json(export_type)
            yield chunk
            if not chunk.has_more:
                return
            token = chunk.continue_from

    async def find_by_external_data(
        self, resource: Resource, application_guid: str, key: str, values: Sequence[str]
    ) -> list[Any]:
        """Records we stamped with ``externalData`` (the answer to "did my create land?")."""
        found: list[Any] = []
        for start in range(0, len(values), MAX_IDS):
            extra = {
                "externalDataApplicationGuid": application_guid,
                "externalDataKey": key,
                "externalDataValues": ",".join(values[start : start + MAX_IDS]),
            }
            async for page in self.pages(resource, extra=extra):
                found.extend(page)
        return found

    # -- writing ------------------------------------------------------------------------
    async def create(self, resource: Resource, body: msgspec.Struct, *, record: str) -> int:
        """POST a new record; returns its id. Not idempotent: a lost reply is InDoubtError."""
        self._refuse_read_only(resource, record)
        response = await self._write("POST", self.url(resource), body, record)
        return response.json(m.CreatedId).id

    async def update(
        self, resource: Resource, record_id: int, body: msgspec.Struct, *, record: str
    ) -> None:
        """PATCH the fields in ``body`` (sent without defaults, so others stay as they are)."""
        self._refuse_read_only(resource, record)
        await self._write("PATCH", self.url(resource, f"/{record_id}"), body, record)

    async def create_vendor(self, vendor: m.VendorCreate) -> int:
        return await self.create(RESOURCES["vendors"], vendor, record=f"vendor {vendor.name!r}")

    async def create_purchase_order(self, order: m.PurchaseOrderCreate, *, record: str) -> int:
        return await self.create(RESOURCES["purchase_orders"], order, record=record)

    async def mark_invoices_exported(
        self, external_ids: Mapping[int, str | None], *, record: str
    ) -> None:
        """Set ``syncStatus`` Exported on invoices (``invoices/markasexported``), each with the
        id the ERP holds it under (``externalId``, or None): the one write ServiceTitan offers
        on an invoice's accounting state. Setting it twice is harmless."""
        body = [
            {"invoiceId": invoice_id, "externalId": external_id}
            for invoice_id, external_id in external_ids.items()
        ]
        response = await self.http.request(
            "POST",
            self.url(RESOURCES["invoices"], "/markasexported"),
            json=msgspec.json.encode(body),
            idempotent=True,  # the same status set again: a retry is safe
            record=record,
            ok_statuses=_WRITE_OK,
        )
        if response.status == 400:
            raise _validation_error(response, record)

    def _refuse_read_only(self, resource: Resource, record: str) -> None:
        if resource.read_only:
            raise PermanentError(
                f"ServiceTitan {resource.noun}s are read-only through the API: a bill is created "
                "by ServiceTitan when a purchase order is received with 'automatically create "
                "bill' on. ml-connector never writes financial records back to ServiceTitan.",
                system=SYSTEM,
                record=record,
            )

    async def _write(
        self, method: str, url: str, body: msgspec.Struct, record: str
    ) -> HttpResponse:
        response = await self.http.request(
            method,
            url,
            json=msgspec.json.encode(body),
            idempotent=False,
            record=record,
            ok_statuses=_WRITE_OK,
        )
        if response.status == 400:
            raise _validation_error(response, record)
        return response


#: A 400 is read here (not by the HTTP kit) so its ``errors{field: […]}`` can be named.
_WRITE_OK = frozenset({*range(200, 300), 400})


def _validation_error(response: HttpResponse, record: str) -> RejectedError:
    """ServiceTitan's ``ApiErrorResponse`` as an error that names the field and the fix."""
    try:
        problem = msgspec.json.decode(response.body, type=m.ProblemDetails)
    except (msgspec.DecodeError, msgspec.ValidationError):
        problem = m.ProblemDetails(title=response.body[:200].decode("utf-8", "replace"))
    field, detail = None, problem.title or "validation failed"
    if problem.errors:
        field, messages = next(iter(problem.errors.items()))
        detail = f"{field}: {'; '.join(messages)}"
    return RejectedError(
        f"ServiceTitan refused {record} (HTTP 400): {clause(detail)}. Fix the value in the source "
        "record or the mapping that produces it, then replay.",
        system=SYSTEM,
        record=record,
        field=field,
        code="http_400",
    )
