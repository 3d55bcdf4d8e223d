"""Acumatica contract-based REST client: endpoint check, upserts, reads, natural-key look-ups.

Contract:

* Every entity URL is ``{instance}/entity/{endpoint}/{version}/{Entity}``, relative to the
  customer's instance URL (which may carry a site path, ``https://erp.acme.com/AcumaticaERP``).
  The endpoint and version are pinned in config; :meth:`AcumaticaClient.check_endpoint` runs
  at startup and turns an unsupported version (Acumatica answers 404 to every URL under it)
  into one ``ConfigurationError`` that lists versions the instance does offer.
* Records are the models of :mod:`.models`; value objects exist only on the wire
  (:mod:`.values`).
* :meth:`~AcumaticaClient.put` is Acumatica's create-or-update. A PUT of a document without a
  ``ReferenceNbr`` creates a *new* document every time, so document PUTs are never retried
  blindly: a lost answer is ``InDoubtError``, settled by :meth:`find_bill` & co.
  ``insert_only=True`` sends ``If-None-Match: *``; if the record exists Acumatica answers 412,
  raised as ``ConflictError`` ("already exists": adopt it).
* A 422 becomes a ``RejectedError`` whose ``field`` is the path Acumatica blamed
  (``Details[1].Account``); a 500 with an ``exceptionMessage`` is a ``RejectedError`` quoting
  it (:mod:`.problems`).
* Lists page with ``$top``/``$skip`` until a short page; ``modified_since`` filters on
  ``LastModifiedDateTime gt datetimeoffset'…'``. String values in ``$filter`` are quoted by
  :func:`odata_string` (single quotes doubled), never pasted in.
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TypeVar
from urllib.parse import quote

import anyio
import msgspec
from yarl import URL

from connector.errors import ConfigurationError, ConflictError, RejectedError
from connector.http.client import HttpClient, HttpResponse
from connector.systems.acumatica import models as m
from connector.systems.acumatica.problems import (
    SYSTEM,
    http_error,
    is_no_entity,
    is_no_route,
    refused,
    unprocessable,
)
from connector.systems.acumatica.values import (
    decode_record,
    decode_records,
    encode_record,
    expand_paths,
)

log = logging.getLogger(__name__)

E = TypeVar("E", bound=m.Entity)

DEFAULT_PAGE_SIZE = 500
#: Versions of the Default endpoint that shipped with recent releases, newest first; probed
#: to suggest one when the instance does not list its endpoints at ``GET /entity``.
KNOWN_VERSIONS = (
    "25.200.001",
    "25.100.001",
    "24.200.001",
    "24.100.001",
    "23.200.001",
    "23.100.001",
    "22.200.001",
    "20.200.001",
)

_READ_OK = frozenset({200, 400, 404, 500})
_WRITE_OK = frozenset({200, 400, 404, 412, 422, 500})


def odata_string(value: str) -> str:
    """``value`` as an OData string literal: in single quotes, inner quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def odata_datetime(moment: dt.datetime) -> str:
    """``moment`` (time-zone aware) as a ``datetimeoffset'…'`` literal."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; pass an aware datetime")
    return f"datetimeoffset'{moment.isoformat()}'"


class ListedEndpoint(msgspec.Struct, frozen=True):
    """One endpoint in ``GET {instance}/entity``."""

    name: str
    version: str


class EndpointList(msgspec.Struct, frozen=True):
    """``GET {instance}/entity``: the endpoints the instance serves."""

    endpoints: list[ListedEndpoint] = []


class AcumaticaClient:
    """Typed access to one endpoint of one Acumatica instance (see the module contract).

    Built by :func:`connector.systems.acumatica.open_connection`, which owns the session,
    token cache and limiter that ``http`` uses.
    """

    def __init__(
        self,
        http: HttpClient,
        *,
        instance_url: str,
        endpoint: str,
        version: str,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be >= 1, not {page_size}")
        self.http = http
        self.instance_url = instance_url.rstrip("/")
        self.endpoint = endpoint
        self.version = version
        self.page_size = page_size
        self.base_url = f"{self.instance_url}/entity/{endpoint}/{version}"

    def __repr__(self) -> str:
        return (
            f"AcumaticaClient(instance_url={self.instance_url!r}, "
            f"endpoint={self.endpoint}/{self.version})"
        )

    def url(self, entity: str, *segments: str) -> URL:
        """The URL of an entity, or of a record by its keys (each segment percent-encoded)."""
        path = "/".join(quote(part, safe="") for part in (entity, *segments))
        return URL(f"{self.base_url}/{path}", encoded=True)

    # -- startup ------------------------------------------------------------------------
    async def check_endpoint(self) -> None:
        """Make sure the pinned endpoint version exists (and the credentials work).

        Raises ``ConfigurationError`` naming versions the instance offers when it does not,
        and lets ``AuthError`` through when the sign-in itself fails.
        """
        if await self._endpoint_answers(self.version):
            return
        offered = await self.offered_versions()
        hint = (
            f"set `version` to one the instance offers, e.g. {', '.join(offered)}"
            if offered
            else "no known version answered either: check `instance_url` (including any site "
            "path such as /AcumaticaERP) and the endpoint name"
        )
        raise ConfigurationError(
            f"Acumatica at {self.instance_url} has no endpoint {self.endpoint}/{self.version}; "
            f"{hint}.",
            system=SYSTEM,
        )

    async def offered_versions(self) -> builtins.list[str]:
        """Versions of this endpoint the instance serves: from ``GET /entity`` when the
        instance lists them, else by probing :data:`KNOWN_VERSIONS`."""
        response = await self.http.request(
            "GET",
            f"{self.instance_url}/entity",
            idempotent=True,
            record="endpoint list",
            ok_statuses=_READ_OK,
        )
        if response.status == 200:
            try:
                listed = msgspec.json.decode(response.body, type=EndpointList)
            except (msgspec.DecodeError, msgspec.ValidationError):
                listed = EndpointList()
            versions = [e.version for e in listed.endpoints if e.name == self.endpoint]
            if versions:
                return sorted(set(versions), reverse=True)
        return [v for v in KNOWN_VERSIONS if v != self.version and await self._endpoint_answers(v)]

    async def _endpoint_answers(self, version: str) -> bool:
        response = await self.http.request(
            "GET",
            f"{self.instance_url}/entity/{self.endpoint}/{version}/{m.Subaccount.entity}",
            params={"$top": "1", "$select": "SubaccountCD"},
            idempotent=True,
            record=f"endpoint {self.endpoint}/{version}",
            ok_statuses=frozenset({200, 404}),
        )
        return response.status == 200

    # -- writing ------------------------------------------------------------------------
    async def put(
        self,
        entity: type[E],
        record: E,
        *,
        insert_only: bool = False,
        expand: Sequence[str] | None = None,
    ) -> E:
        """Create or update ``record``; returns it as Acumatica stored it (numbers assigned,
        totals computed). ``expand`` defaults to everything the model declares.

        ``insert_only`` makes it a create that fails with ``ConflictError`` when a record with
        the same keys exists. Only master data (``repeatable_put``) is retried after a lost
        answer; a document's lost answer is ``InDoubtError``.
        """
        label = record.describe()
        response = await self.http.request(
            "PUT",
            self.url(entity.entity),
            params=self._expand(entity, expand),
            json=encode_record(record),
            headers={"If-None-Match": "*"} if insert_only else None,
            idempotent=entity.repeatable_put and not insert_only,
            record=label,
            ok_statuses=_WRITE_OK,
        )
        if response.status == 412:
            raise ConflictError(
                f"{label} already exists in Acumatica, and this write was an insert only "
                "(If-None-Match: *): look it up by its natural key and adopt it instead of "
                "creating it",
                system=SYSTEM,
                record=label,
            )
        if response.status == 422:
            raise unprocessable(response, label)
        # Live instances answer a missing record with 500 NoEntitySatisfiesTheCondition
        # (the definition lists no 404 here); older ones with 404. Either way nothing was
        # written.
        if is_no_entity(response):
            raise RejectedError(
                f"Acumatica has no {entity.entity} with the id {record.id} that {label} "
                "carries: it was deleted there; clear the stored target id and replay it",
                system=SYSTEM,
                record=label,
                code=f"http_{response.status}",
            )
        if response.status == 404:
            raise self._no_route(response, label)
        if response.status != 200:
            raise refused(response, label, write=True)
        return self._decode(response, entity, label)

    async def release(
        self, entity: type[E], doc_type: str, reference_nbr: str, *, polls: int = 60
    ) -> None:
        """Run the entity's ``Release<Entity>`` action on one document and wait for it.

        Acumatica answers 202 with a ``Location`` to poll until 204. Releasing is not
        repeatable, so a lost answer is in doubt: callers check the document's status (e.g.
        ``Open``) before releasing again.
        """
        label = f"{entity.entity} {doc_type} {reference_nbr}"
        action = f"Release{entity.entity}"
        body = msgspec.json.encode(
            {"entity": {"Type": {"value": doc_type}, "ReferenceNbr": {"value": reference_nbr}}}
        )
        response = await self.http.request(
            "POST",
            self.url(entity.entity, action),
            json=body,
            idempotent=False,
            record=label,
            ok_statuses=frozenset({202, 204, 400, 404, 422, 500}),
        )
        if response.status == 422:
            raise unprocessable(response, label)
        if response.status not in (202, 204):
            raise refused(response, label, write=True)
        for poll in range(polls):
            location = response.headers.get("Location")
            if response.status == 204 or not location:
                return
            # Most releases finish at once: ask again straight away, then back off.
            await anyio.sleep(min(0.5, 0.02 * poll))
            response = await self.http.request(
                "GET",
                location,
                idempotent=True,
                record=label,
                ok_statuses=frozenset({202, 204, 404, 500}),
            )
            if response.status not in (202, 204):
                raise refused(response, label, write=False)
        raise RejectedError(
            f"Acumatica did not finish releasing {label} after {polls} polls; check the "
            "document's status in Acumatica, then replay the record",
            system=SYSTEM,
            record=label,
        )

    # -- reading ------------------------------------------------------------------------
    async def get(
        self, entity: type[E], *keys: str, expand: Sequence[str] | None = None
    ) -> E | None:
        """The record with these key values (``get(Bill, "Bill", "000123")``) or its ``id``;
        None when there is none."""
        label = f"{entity.entity} {'/'.join(keys)}"
        response = await self.http.request(
            "GET",
            self.url(entity.entity, *keys),
            params=self._expand(entity, expand),
            idempotent=True,
            record=label,
            ok_statuses=_READ_OK,
        )
        if response.status != 200 and is_no_entity(response):
            return None
        if response.status == 404:
            raise self._no_route(response, label)
        if response.status != 200:
            raise refused(response, label, write=False)
        return self._decode(response, entity, label)

    async def pages(
        self,
        entity: type[E],
        *,
        modified_since: dt.datetime | None = None,
        filter: str | None = None,
        expand: Sequence[str] | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[builtins.list[E]]:
        """Every page of a list, ``$top`` records each, until a short page.

        ``filter`` is an OData expression (build its literals with :func:`odata_string`);
        ``modified_since`` (time-zone aware) keeps records changed strictly after it.
        Acumatica lists in key order, so a record created while the pages are read may shift
        later rows by one: incremental reads filter on ``modified_since`` and tolerate seeing
        a record twice.
        """
        size = page_size or self.page_size
        params: dict[str, str] = dict(self._expand(entity, expand))
        condition = self._condition(entity, modified_since, filter)
        if condition:
            params["$filter"] = condition
        skip = 0
        while True:
            params["$top"] = str(size)
            params["$skip"] = str(skip)
            label = f"{entity.entity} list from {skip}"
            response = await self.http.request(
                "GET",
                self.url(entity.entity),
                params=params,
                idempotent=True,
                record=label,
                ok_statuses=_READ_OK,
            )
            if response.status == 404:
                raise self._no_route(response, label)
            if response.status != 200:
                raise refused(response, label, write=False)
            page = self._decode_list(response, entity, label)
            if page:
                yield page
            if len(page) < size:
                return
            skip += size

    async def list(
        self,
        entity: type[E],
        *,
        modified_since: dt.datetime | None = None,
        filter: str | None = None,
        expand: Sequence[str] | None = None,
        page_size: int | None = None,
    ) -> builtins.list[E]:
        """All records of :meth:`pages` in one list."""
        found: builtins.list[E] = []
        async for page in self.pages(
            entity,
            modified_since=modified_since,
            filter=filter,
            expand=expand,
            page_size=page_size,
        ):
            found.extend(page)
        return found

    async def branches(self) -> builtins.list[m.Branch]:
        """The company's branches, from the ``CompaniesStructure`` inquiry (there is no
        Branch entity in the Default endpoint)."""
        response = await self.http.request(
            "PUT",
            self.url(m.CompaniesStructure.entity),
            params={"$expand": "Results"},
            json=b"{}",
            idempotent=True,  # an inquiry: the PUT only carries its (empty) parameters
            record="branch list",
            ok_statuses=_WRITE_OK,
        )
        if response.status == 404:
            raise self._no_route(response, "branch list")
        if response.status != 200:
            raise refused(response, "branch list", write=False)
        return self._decode(response, m.CompaniesStructure, "branch list").results or []

    # -- natural-key look-ups (the loader's verify-first step) -------------------------
    async def find_customer(self, customer_id: str) -> m.Customer | None:
        """The customer with this ``CustomerID``, or None."""
        return await self._find_one(m.Customer, f"CustomerID eq {odata_string(customer_id)}")

    async def find_vendor(self, vendor_id: str) -> m.Vendor | None:
        """The vendor with this ``VendorID``, or None."""
        return await self._find_one(m.Vendor, f"VendorID eq {odata_string(vendor_id)}")

    async def find_bill(
        self, vendor: str, vendor_ref: str, *, doc_type: str = "Bill"
    ) -> m.Bill | None:
        """The bill of ``vendor`` with the vendor's invoice number ``vendor_ref``, or None."""
        return await self._find_one(
            m.Bill,
            f"Type eq {odata_string(doc_type)} and Vendor eq {odata_string(vendor)} "
            f"and VendorRef eq {odata_string(vendor_ref)}",
        )

    async def find_invoice(
        self,
        customer: str | None,
        reference: str,
        *,
        by: str = "CustomerOrder",
        doc_type: str = "Invoice",
    ) -> m.Invoice | None:
        """The invoice whose ``by`` field (``CustomerOrder``, where the connector puts the
        source's invoice number, or ``Description``) equals ``reference``; of ``customer``
        only, when given (None: a reference unique across customers, such as ours)."""
        if by not in ("CustomerOrder", "Description"):
            raise ValueError(f"find_invoice by {by!r}: use CustomerOrder or Description")
        of_customer = "" if customer is None else f" and Customer eq {odata_string(customer)}"
        return await self._find_one(
            m.Invoice,
            f"Type eq {odata_string(doc_type)}{of_customer} and {by} eq {odata_string(reference)}",
        )

    async def find_payment(
        self, customer_id: str | None, payment_ref: str, *, doc_type: str = "Payment"
    ) -> m.Payment | None:
        """The payment with ``PaymentRef`` ``payment_ref`` (of ``customer_id`` only, when
        given), or None."""
        of_customer = (
            "" if customer_id is None else f" and CustomerID eq {odata_string(customer_id)}"
        )
        return await self._find_one(
            m.Payment,
            f"Type eq {odata_string(doc_type)}{of_customer} "
            f"and PaymentRef eq {odata_string(payment_ref)}",
        )

    async def _find_one(self, entity: type[E], condition: str) -> E | None:
        found = await self.list(entity, filter=condition)
        if len(found) > 1:
            # Someone (or an earlier bug) created duplicates: adopt the first, in key order,
            # and say so, because the others need a person's attention.
            log.warning(
                "acumatica: %d %s records match %s (%s); adopting %s",
                len(found),
                entity.entity,
                condition,
                ", ".join(record.describe() for record in found),
                found[0].describe(),
            )
        return found[0] if found else None

    # -- helpers ------------------------------------------------------------------------
    def _expand(self, entity: type[E], expand: Sequence[str] | None) -> dict[str, str]:
        paths = expand_paths(entity) if expand is None else tuple(expand)
        return {"$expand": ",".join(paths)} if paths else {}

    def _condition(
        self, entity: type[E], modified_since: dt.datetime | None, filter: str | None
    ) -> str | None:
        parts: builtins.list[str] = []
        if filter:
            parts.append(f"({filter})" if modified_since is not None else filter)
        if modified_since is not None:
            if "last_modified_date_time" not in entity.__struct_fields__:
                raise ValueError(
                    f"{entity.entity} has no LastModifiedDateTime in the contract; read it "
                    "whole instead of incrementally"
                )
            parts.append(f"LastModifiedDateTime gt {odata_datetime(modified_since)}")
        return " and ".join(parts) or None

    def _decode(self, response: HttpResponse, entity: type[E], label: str) -> E:
        try:
            return decode_record(response.body, entity)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise _unexpected(response, label, exc) from exc

    def _decode_list(self, response: HttpResponse, entity: type[E], label: str) -> builtins.list[E]:
        try:
            return decode_records(response.body, entity)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise _unexpected(response, label, exc) from exc

    def _no_route(self, response: HttpResponse, label: str) -> ConfigurationError:
        error = http_error(response)
        what = "no such URL" if error is None or is_no_route(error) else "not found"
        return ConfigurationError(
            f"{response.method} {response.path} for {label} → HTTP 404 ({what}): the instance "
            f"does not serve {self.endpoint}/{self.version} or this entity there. Run the "
            "startup check (`ml-connector check`) and fix `version` or `instance_url`.",
            system=SYSTEM,
            record=label,
        )


def _unexpected(
    response: HttpResponse, label: str, exc: msgspec.DecodeError | msgspec.ValidationError
) -> RejectedError:
    return RejectedError(
        f"unexpected response to {response.method} {response.path} (HTTP {response.status}) "
        f"for {label}: {exc}; the answer does not match the connector's model of the "
        f"{SYSTEM} contract: report it with this message",
        system=SYSTEM,
        record=label,
        code="unexpected_response",
    )
