"""LN's OData v4 services over the ION API gateway: requests, errors and next-link paging.

Every request carries ``X-Infor-LnCompany``: left out, LN silently runs it in the service
user's default company, exactly like M3's CONO. Refusals come back as HTTP 4xx with an
OData error body — ``{"error": {"code", "message", "details"}}`` per the API reference, or
the top-level ``{"Code", "Message", "Details"}`` of the administration guide's example; both
are read. A 412 (stale ETag) stays the HTTP client's :class:`ConflictError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec
from yarl import URL

from connector.errors import ConfigurationError, RejectedError
from connector.http.client import HttpClient, HttpResponse
from connector.systems.infor.mi import Row
from connector.systems.infor.paging import ListQuery

_DECODER = msgspec.json.Decoder(float_hook=Decimal)
_ENCODER = msgspec.json.Encoder(decimal_format="number")
#: Statuses LN answers with an error body we read ourselves (the rest the client classifies).
_REFUSALS = frozenset({400, 404, 405, 409, 415, 422, 428, 501})
_OK = frozenset(range(200, 300)) | _REFUSALS


def literal(value: str) -> str:
    """An OData string literal (``'O''Brien'``)."""
    return "'" + value.replace("'", "''") + "'"


class ODataService:
    """Sends OData requests to one LN company; counts them in ``requests``."""

    def __init__(self, http: HttpClient, gateway_base: str, company: str) -> None:
        self.http = http
        self.base = f"{gateway_base.rstrip('/')}/LN/lnapi/odata"
        self.company = company
        self.requests = 0

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    async def get(self, url: str | URL, params: Mapping[str, str] | None, record: str) -> Any:
        response = await self._send("GET", url, params=params, record=record, idempotent=True)
        return _DECODER.decode(response.body)

    async def post(
        self, path: str, body: Mapping[str, Any], record: str, *, prefer: str | None = None
    ) -> dict[str, Any]:
        response = await self._send(
            "POST",
            self.url(path),
            json=_ENCODER.encode(body),
            headers={"Prefer": prefer} if prefer else None,
            record=record,
            idempotent=False,
        )
        created: dict[str, Any] = _DECODER.decode(response.body)
        return created

    async def metadata(self, service: str, record: str) -> Any:
        """The service's ``$metadata`` as CSDL JSON (what the write mode is read from)."""
        return await self.get(self.url(f"{service}/$metadata"), None, record)

    async def batch(
        self, service: str, requests: Sequence[Mapping[str, Any]], record: str
    ) -> list[dict[str, Any]]:
        """One JSON ``$batch`` (OData 4.01) to ``service``; the per-request answers in order.
        Only a status of the batch itself is checked here, each answer's is the caller's."""
        response = await self._send(
            "POST",
            self.url(f"{service}/$batch"),
            json=_ENCODER.encode({"requests": list(requests)}),
            record=record,
            idempotent=False,
        )
        answers: list[dict[str, Any]] = _DECODER.decode(response.body).get("responses", [])
        return answers

    async def patch(
        self, path: str, body: Mapping[str, Any], etag: str, record: str
    ) -> dict[str, Any]:
        response = await self._send(
            "PATCH",
            self.url(path),
            json=_ENCODER.encode(body),
            headers={"If-Match": etag},
            record=record,
            idempotent=False,
        )
        changed: dict[str, Any] = _DECODER.decode(response.body)
        return changed

    async def _send(
        self,
        method: str,
        url: str | URL,
        *,
        record: str,
        idempotent: bool,
        params: Mapping[str, str] | None = None,
        json: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        self.requests += 1
        response = await self.http.request(
            method,
            url,
            params=dict(params) if params else None,
            json=json,
            headers={
                "X-Infor-LnCompany": self.company,
                "Accept": "application/json",
                **(headers or {}),
            },
            idempotent=idempotent,
            record=record,
            ok_statuses=_OK,
        )
        if response.status in _REFUSALS:
            raise self.refusal(
                response.status, response.body, f"{response.method} {response.path}", record
            )
        return response

    def refusal(self, status: int, body: bytes, what: str, record: str) -> Exception:
        """The error of an LN refusal (alone or inside a ``$batch``), for ``record``."""
        code, message = error_of(body)
        said = f"LN refused {what} (HTTP {status}, {code}): {message}"
        if status == 501:
            return NotOfferedError(said, system="infor", record=record, code=code)
        if status == 404:
            # Lookups are collection queries, so a 404 never means "no such record": the
            # service, the company or the path is wrong, and no record can get further.
            return ConfigurationError(
                f"{said}; set company of this Infor system to the number of an LN company "
                "whose REST services are activated (it is sent as X-Infor-LnCompany; they are "
                f"not activated for company {self.company}), or check that the gateway's iu "
                "in the .ionapi file is LN's",
                system="infor",
                record=record,
            )
        if status == 428:
            return RejectedError(
                f"{said}; a change must send the ETag read before it",
                system="infor",
                record=record,
                code=code,
            )
        advice = (
            "the record already exists; it will be found by its key on the next cycle"
            if status == 409
            else "fix the value in the source record or its mapping, then replay it"
        )
        return RejectedError(f"{said}; {advice}", system="infor", record=record, code=code)


class NotOfferedError(RejectedError):
    """LN answered 501: the service does not offer what was asked (deep insert, ``$batch``);
    nothing was written, and the writer falls back to one request per entity."""


def error_of(body: bytes) -> tuple[str, str]:
    """(code, message) of an LN error body in either documented shape."""
    try:
        data = _DECODER.decode(body)
    except msgspec.DecodeError:
        return "", body[:200].decode("utf-8", errors="replace")
    if isinstance(data, dict):
        inner = data.get("error", data)
        if isinstance(inner, dict):
            code = inner.get("code", inner.get("Code", ""))
            message = inner.get("message", inner.get("Message", ""))
            details = inner.get("details", inner.get("Details")) or []
            extra = [
                str(d.get("message", d.get("Message", ""))) for d in details if isinstance(d, dict)
            ]
            return str(code), "; ".join([str(message), *[e for e in extra if e]])
    return "", str(data)[:200]


class NextLinkReader:
    """LN's paging style: ask once with ``$filter``/``$orderby``/``$select``, then follow
    ``@odata.nextLink`` until a page has none. The server sets the page size; the link is
    opaque and followed as given, but only on the gateway we logged in to (the bearer never
    leaves it)."""

    def __init__(self, service: ODataService) -> None:
        self.service = service

    async def rows(
        self, query: ListQuery, start: Mapping[str, str] | None = None
    ) -> AsyncIterator[Row]:
        """Rows of ``{program}/{transaction}`` (service/entity set), ordered by the key
        fields; ``inputs["$filter"]`` filters, ``returncols`` selects, ``start`` (one value per
        key field) begins after that key. Values come as strings, as M3 rows do."""
        async for entity in self.entities(query, start):
            yield {name: _text(value) for name, value in entity.items()}

    async def entities(
        self, query: ListQuery, start: Mapping[str, str] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """The same rows with their JSON types (numbers as Decimal/int)."""
        conditions = (
            [f"({query.inputs['$filter']})"] if query.inputs and "$filter" in query.inputs else []
        )
        if start:
            # Only a one-field key restarts cleanly with a single comparison.
            ((name, value),) = start.items()
            conditions.append(f"{name} gt {literal(value)}")
        params: dict[str, str] = {
            "$orderby": ",".join(query.key_fields)
            if not query.inputs or "$orderby" not in query.inputs
            else query.inputs["$orderby"]
        }
        if conditions:
            params["$filter"] = " and ".join(conditions)
        if query.returncols:
            params["$select"] = ",".join(query.returncols)
        if query.inputs and "$expand" in query.inputs:
            params["$expand"] = query.inputs["$expand"]
        url: str | URL = self.service.url(f"{query.program}/{query.transaction}")
        record = f"LN {query.program}/{query.transaction}"
        page: Any = await self.service.get(url, params, record)
        while True:
            for entity in page.get("value", []):
                yield entity
            link = page.get("@odata.nextLink")
            if not link:
                return
            url = URL(link, encoded=True)
            if not str(url).startswith(self.service.base):
                raise ConfigurationError(
                    f"LN answered a next link outside the gateway ({url.host}); refusing to "
                    "send the token there: check the gateway's iu in the .ionapi file",
                    system="infor",
                    record=record,
                )
            page = await self.service.get(url, None, record)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
