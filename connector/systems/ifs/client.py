"""IFS Cloud projection client: paged reads, reads by key, ETag-guarded writes, look-ups.

Contract:

* URLs are ``{url}/main/ifsapplications/projection/v1/{Projection}.svc/{EntitySet}``; a row is
  ``…/{EntitySet}(Key='v',…)``. Where each model lives is declared on it (:mod:`.models`).
* **Reads** follow ``@odata.nextLink`` (relative to ``…/projection/v1/``) verbatim until it is
  absent, and drop a row whose ``keyref`` was already seen in the same read (IFS warns rows
  can repeat when data changes between pages). Every row carries its ETag.
* **Incremental reads** (:meth:`IfsClient.changed`): IFS has no last-modified column, so the
  caller keeps a ``{keyref: etag}`` map and reads a window on the entity's own date; a row
  whose ETag differs from the map (or is new) is a change (sheet §3).
* **Writes** are never resent blindly: a POST or PATCH whose answer is lost is
  ``InDoubtError``, settled by a look-up by natural key (:meth:`~IfsClient.find_voucher_rows`
  & co.). Every PATCH and bound action sends ``If-Match`` with the row's ETag (read by key
  first when the caller has none). On 412 the row is read again and the change sent once
  more with the new ETag, if the caller's ``still_applies`` agrees; a second 412 is a
  ``ConflictError`` naming the row.
* ``MI_MODIFIED_ERROR``, redirects to ``/auth/`` and 5xx answers are dealt with below the
  client, in :mod:`.transport`.
* Refusals name the row and the attribute IFS blamed (:mod:`.problems`).
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TypeVar

import msgspec
from yarl import URL

from connector.errors import ConfigurationError, ConflictError, ConnectorError, RejectedError
from connector.http.client import HttpClient, HttpResponse
from connector.http.tokens import TokenCache
from connector.systems.ifs import models as m
from connector.systems.ifs.odata import Literal, and_all, key_predicate, literal
from connector.systems.ifs.problems import SYSTEM, refusal
from connector.systems.ifs.transport import Transport

log = logging.getLogger(__name__)

E = TypeVar("E", bound=m.Entity)

API_PATH = "/main/ifsapplications/projection/v1"


class IfsClient:
    """Typed access to the projections of one IFS Cloud environment (module contract).

    Built by :func:`connector.systems.ifs.open_connection`, which owns the session, token
    cache and limiter that ``http`` uses; ``tokens`` lets a redirect to ``/auth/`` renew the
    token. ``company`` is the default company of look-ups.
    """

    def __init__(
        self, http: HttpClient, *, url: str, company: str, tokens: TokenCache | None = None
    ) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self.company = company
        self.api_root = f"{self.url}{API_PATH}"
        self._transport = Transport(http, tokens)

    def __repr__(self) -> str:
        return f"IfsClient(url={self.url!r}, company={self.company!r})"

    # -- URLs ---------------------------------------------------------------------------
    def set_url(self, entity: type[m.Entity]) -> URL:
        return URL(f"{self.api_root}/{entity.projection}.svc/{entity.entity_set}", encoded=True)

    def row_url(self, entity: type[m.Entity], keys: Sequence[Literal]) -> URL:
        predicate = key_predicate(entity.keys, keys)
        return URL(f"{self.set_url(entity)}{predicate}", encoded=True)

    async def check(self) -> None:
        """Prove the credentials and the company at startup: one account of ``company``.

        Raises ``AuthError``/``ConfigurationError`` from the sign-in, and
        ``ConfigurationError`` when the company has no accounts (a wrong company id).
        """
        condition = f"Company eq {literal(self.company)}"
        async for _ in self.pages(m.Account, filter=condition, select=["Company", "Account"]):
            return
        raise ConfigurationError(
            f"IFS company {self.company!r} has no accounts visible to the IAM client's user: "
            "check `company` in the config and the user's company permissions",
            system=SYSTEM)

    # -- reading ------------------------------------------------------------------------
    async def pages(
        self,
        entity: type[E],
        *,
        filter: str | None = None,
        since: dt.date | None = None,
        select: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        orderby: Sequence[str] | None = None,
    ) -> AsyncIterator[builtins.list[E]]:
        """Every page of a list, following ``@odata.nextLink``, rows deduplicated by keyref.

        ``filter`` is an OData expression (build its values with :func:`.odata.literal`);
        ``since`` keeps rows whose :attr:`~.models.Entity.window_field` is on or after it.
        Rows come in key order unless ``orderby`` says otherwise. ``select`` must keep the
        key attributes (the models need them).
        """
        params: dict[str, str] = {
            "$orderby": ",".join(orderby) if orderby else ",".join(entity.keys)}
        condition = and_all([filter, self._window(entity, since)])
        if condition:
            params["$filter"] = condition
        if select:
            params["$select"] = ",".join(select)
        if expand:
            params["$expand"] = ",".join(expand)
        label = f"{entity.entity_set} list"
        url: URL | None = self.set_url(entity)
        query: dict[str, str] | None = params
        seen: set[str] = set()
        while url is not None:
            response = await self._transport.read(url, label, params=query)
            if response.status != 200:
                raise self._list_refused(response, label)
            page = _decode(response, m.Page, label)
            rows = [_decode_raw(response, raw, entity, label) for raw in page.value]
            fresh = [row for row in rows if not (row.keyref and row.keyref in seen)]
            seen.update(row.keyref for row in fresh)
            if fresh:
                yield fresh
            url = URL(f"{self.api_root}/{page.next_link}", encoded=True) if page.next_link \
                else None
            query = None

    async def list(
        self,
        entity: type[E],
        *,
        filter: str | None = None,
        since: dt.date | None = None,
        select: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
    ) -> builtins.list[E]:
        """All rows of :meth:`pages` in one list."""
        found: builtins.list[E] = []
        async for page in self.pages(
            entity, filter=filter, since=since, select=select, expand=expand
        ):
            found.extend(page)
        return found

    async def changed(
        self,
        entity: type[E],
        *,
        since: dt.date,
        known: Mapping[str, str],
        filter: str | None = None,
        expand: Sequence[str] | None = None,
    ) -> AsyncIterator[E]:
        """Rows in the window from ``since`` that are new or changed against ``known``
        (``{keyref: etag}`` from the previous read): the incremental read of sheet §3.

        Keep the window overlapping the previous one (a few days): a row changed after its
        date left every window is only seen by a full read.
        """
        async for page in self.pages(entity, filter=filter, since=since, expand=expand):
            for row in page:
                if known.get(row.keyref) != row.etag:
                    yield row

    async def get(
        self, entity: type[E], *keys: Literal, expand: Sequence[str] | None = None
    ) -> E | None:
        """The row with these key values, with its current ETag; None when there is none."""
        label = f"{entity.entity_set}({', '.join(map(str, keys))})"
        params = {"$expand": ",".join(expand)} if expand else None
        response = await self._transport.read(self.row_url(entity, keys), label, params=params)
        if response.status == 404:
            return None
        if response.status != 200:
            raise refusal(response, label, write=False)
        return _decode(response, entity, label)

    # -- natural-key look-ups (always asked of IFS, never of a cache) ---------------------
    async def find_purchase_order(self, order_no: str) -> m.PurchaseOrder | None:
        """The purchase order ``order_no`` (its supplier expanded), or None."""
        return await self.get(m.PurchaseOrder, order_no, expand=["VendorNoRef"])

    async def purchase_order_lines(self, order_no: str) -> builtins.list[m.PurchaseOrderLine]:
        """The lines of one purchase order, in line order."""
        return await self.list(m.PurchaseOrderLine, filter=f"OrderNo eq {literal(order_no)}")

    async def find_supplier(self, supplier_id: str) -> m.Supplier | None:
        return await self.get(m.Supplier, supplier_id)

    async def find_account(self, account: str, company: str | None = None) -> m.Account | None:
        return await self.get(m.Account, company or self.company, account)

    async def find_code_part(
        self, part: str, value: str, company: str | None = None
    ) -> m.CodePartValue | None:
        """The value ``value`` of code part ``part`` (``"B"`` … ``"J"``: cost center, …)."""
        name = _code_part(part)
        label = f"{name} {value}"
        url = URL(
            f"{self.api_root}/{name}Handling.svc/{name}Set"
            f"{key_predicate(('Company', name), (company or self.company, value))}",
            encoded=True,
        )
        response = await self._transport.read(url, label)
        if response.status == 404:
            return None
        if response.status != 200:
            raise refusal(response, label, write=False)
        return _decode(response, m.CodePartValue, label)

    async def code_part_values(
        self, part: str, company: str | None = None
    ) -> builtins.list[m.CodePartValue]:
        """Every value of code part ``part`` (``"B"``: the cost centers) in the company, for
        an implementer filling mapping tables."""
        name = _code_part(part)
        label = f"{name}Set list"
        url: URL | None = URL(f"{self.api_root}/{name}Handling.svc/{name}Set", encoded=True)
        query: dict[str, str] | None = {
            "$filter": f"Company eq {literal(company or self.company)}", "$orderby": name}
        found: builtins.list[m.CodePartValue] = []
        while url is not None:
            response = await self._transport.read(url, label, params=query)
            if response.status != 200:
                raise self._list_refused(response, label)
            page = _decode(response, m.Page, label)
            found.extend(_decode_raw(response, raw, m.CodePartValue, label) for raw in page.value)
            url = URL(f"{self.api_root}/{page.next_link}", encoded=True) if page.next_link \
                else None
            query = None
        return found

    async def find_load(self, load_id: str, company: str | None = None) -> m.ExternalLoad | None:
        return await self.get(m.ExternalLoad, company or self.company, load_id)

    async def find_voucher_rows(
        self, load_id: str, company: str | None = None
    ) -> builtins.list[m.ExternalVoucherRow]:
        """The external voucher rows posted under ``load_id`` (the natural key the connector
        derives from the source document), in record order; empty when there are none."""
        condition = (f"Company eq {literal(company or self.company)} "
                     f"and LoadId eq {literal(load_id)}")
        return await self.list(m.ExternalVoucherRow, filter=condition)

    # -- writing ------------------------------------------------------------------------
    async def create(self, entity: type[E], body: m.WriteBody, *, record: str) -> E:
        """POST a new row; returns it as IFS stored it (server keys, first ETag).

        Never retried after a lost answer (IFS would create a second row): that is
        ``InDoubtError``, to be settled by the natural-key look-up.
        """
        response = await self._transport.write(
            "POST", self.set_url(entity), record, json=msgspec.json.encode(body))
        if response.status != 201 and response.status != 200:
            raise refusal(response, record, write=True)
        return _decode(response, entity, record)

    async def update(
        self,
        entity: type[E],
        keys: Sequence[Literal],
        changes: m.WriteBody,
        *,
        etag: str | None = None,
        still_applies: Callable[[E], bool] | None = None,
    ) -> E:
        """PATCH ``changes`` onto a row with ``If-Match``; returns the row with its new ETag.

        ``etag`` is the one read with the row the change was computed from; without it the
        row is read first. After a 412 the row is read again and, if ``still_applies(row)``
        (default: always), the change is sent once more with the new ETag.
        """
        label = f"{entity.entity_set}({', '.join(map(str, keys))})"
        body = msgspec.json.encode(changes)
        url = self.row_url(entity, keys)
        current = etag or (await self._require(entity, keys, label)).etag
        for attempt in (1, 2):
            response = await self._transport.write("PATCH", url, label, json=body,
                                         headers={"If-Match": current})
            if response.status == 200:
                return _decode(response, entity, label)
            if response.status == 204:
                return await self._require(entity, keys, label)
            if response.status != 412:
                raise refusal(response, label, write=True)
            current = await self._after_conflict(entity, keys, label, attempt, still_applies)
        raise AssertionError("unreachable: the second 412 raises")

    async def run_action(
        self, entity: type[E], keys: Sequence[Literal], action: str, *, etag: str | None = None
    ) -> None:
        """Call the bound action ``action`` (``DoCreateVoucher``) on a row, with If-Match.

        A 412 re-reads the row and calls once more with its new ETag; a second one raises
        ``ConflictError``. A lost answer is in doubt: read the row's state before calling
        again.
        """
        label = f"{action} on {entity.entity_set}({', '.join(map(str, keys))})"
        name = entity.entity_type or entity.__name__
        url = URL(f"{self.row_url(entity, keys)}/IfsApp.{entity.projection}.{name}_{action}",
                  encoded=True)
        current = etag or (await self._require(entity, keys, label)).etag
        for attempt in (1, 2):
            response = await self._transport.write(
                "POST", url, label, headers={"If-Match": current})
            if response.status in (200, 204):
                return
            if response.status != 412:
                raise refusal(response, label, write=True)
            current = await self._after_conflict(entity, keys, label, attempt, None)

    async def _after_conflict(
        self,
        entity: type[E],
        keys: Sequence[Literal],
        label: str,
        attempt: int,
        still_applies: Callable[[E], bool] | None,
    ) -> str:
        """The ETag to try again with after a 412, or ConflictError naming the row."""
        if attempt > 1:
            raise ConflictError(
                f"{label} changed in IFS again while the connector re-applied its change "
                "(412 twice): someone is editing it now; the record is retried on the next run",
                system=SYSTEM, record=label)
        fresh = await self._require(entity, keys, label)
        if still_applies is not None and not still_applies(fresh):
            raise ConflictError(
                f"{label} was changed in IFS since it was read, and the connector's change no "
                "longer applies to the new version: review the row in IFS",
                system=SYSTEM, record=label)
        log.info("ifs %s: ETag was stale (412); re-read and sending the change once more", label)
        return fresh.etag

    async def _require(self, entity: type[E], keys: Sequence[Literal], label: str) -> E:
        row = await self.get(entity, *keys)
        if row is None:
            raise RejectedError(
                f"{label} does not exist in IFS (any more): it was deleted or never created; "
                "look it up by its natural key and replay the record",
                system=SYSTEM, record=label, code="ODP_RESOURCE_NOTFOUND")
        return row

    # -- helpers ------------------------------------------------------------------------
    def _window(self, entity: type[m.Entity], since: dt.date | None) -> str | None:
        if since is None:
            return None
        if entity.window_field is None:
            raise ValueError(f"{entity.entity_set} has no date to read a window on; "
                             "read it whole instead")
        # Window fields are Edm.Date: IFS refuses to compare one with a timestamp literal.
        day = since.date() if isinstance(since, dt.datetime) else since
        return f"{entity.window_field} ge {literal(day)}"

    def _list_refused(self, response: HttpResponse, label: str) -> ConnectorError:
        if response.status == 404:
            return ConfigurationError(
                f"{response.method} {response.path} for {label} → HTTP 404: this IFS "
                "environment does not serve the projection; check `url` and that the "
                "projection is granted to the IAM client's user", system=SYSTEM, record=label)
        return refusal(response, label, write=False)


T = TypeVar("T")


def _code_part(part: str) -> str:
    """``"b"`` → ``"CodeB"``; code parts are the letters B to J."""
    letter = part.upper()
    if len(letter) != 1 or letter not in "BCDEFGHIJ":
        raise ValueError(f"code part {part!r}: use one letter from B to J")
    return f"Code{letter}"


def _decode(response: HttpResponse, type_: type[T], label: str) -> T:
    try:
        return msgspec.json.decode(response.body, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _unexpected(response, label, exc) from exc


def _decode_raw(response: HttpResponse, raw: msgspec.Raw, type_: type[T], label: str) -> T:
    try:
        return msgspec.json.decode(raw, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _unexpected(response, label, exc) from exc


def _unexpected(
    response: HttpResponse, label: str, exc: msgspec.DecodeError | msgspec.ValidationError
) -> RejectedError:
    return RejectedError(
        f"unexpected response to {response.method} {response.path} (HTTP {response.status}) "
        f"for {label}: {exc}; the answer does not match the connector's model of IFS: report "
        "it with this message", system=SYSTEM, record=label, code="unexpected_response")
