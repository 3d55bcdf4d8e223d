"""FSM's Landmark REST over the ION API gateway: lists, batch actions, ``_links`` paging.

A list is ``GET …/FSM/fsm/soap/classes/{Class}/lists/_generic`` with ``_fields`` (required),
``_limit``, ``_lplFilter``, ``_pageNav=true`` (else no next link comes back) and
``_out=JSON``. The answer is a JSON array whose first element is metadata (``_count``,
``_links``) and whose others are ``{"_fields": {...}}``. Writes are batch actions
(``…/actions/{Create|Update}/batch`` with ``{"_records": [{"_fields": …}]}``) answered with
HTTP 200 and one entry per record — success or ``exception`` — so a 200 proves nothing on
its own: every entry is checked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import msgspec
from yarl import URL

from connector.errors import ConfigurationError, RejectedError
from connector.http.client import HttpClient, HttpResponse
from connector.systems.infor.mi import Row
from connector.systems.infor.paging import ListQuery

_REFUSALS = frozenset({400, 404, 405})
_OK = frozenset(range(200, 300)) | _REFUSALS


def lpl(value: str) -> str:
    """An LPL string literal. Landmark has no escape for ``"``; a value holding one cannot
    be searched for, so it is refused rather than sent as a different condition."""
    if '"' in value:
        raise RejectedError(
            f"{value!r} contains a double quote, which an FSM filter cannot express; "
            "remove it from the source record's code",
            system="infor",
        )
    return f'"{value}"'


class LandmarkService:
    """Lists and batch actions of one FSM tenant; counts requests in ``requests``."""

    def __init__(self, http: HttpClient, gateway_base: str) -> None:
        self.http = http
        self.base = f"{gateway_base.rstrip('/')}/FSM/fsm/soap/classes"
        self.requests = 0

    async def page(self, url: str | URL, params: Mapping[str, str] | None, record: str) -> Any:
        response = await self._send("GET", url, record, idempotent=True, params=params)
        return msgspec.json.decode(response.body)

    async def act(
        self, business_class: str, action: str, records: Sequence[Mapping[str, str]], record: str
    ) -> list[dict[str, Any]]:
        """Run ``action`` on ``records`` in one request; raise on the first refused record,
        naming it (the ones before it were applied)."""
        body = {"_records": [{"_fields": dict(r), "message": "ml-connector"} for r in records]}
        response = await self._send(
            "POST",
            f"{self.base}/{business_class}/actions/{action}/batch",
            record,
            idempotent=False,
            json=msgspec.json.encode(body),
        )
        answers = msgspec.json.decode(response.body)
        results = [a for a in answers if isinstance(a, dict) and "batchStatus" not in a]
        for index, answer in enumerate(results):
            exception = answer.get("exception")
            if exception is not None:
                message = exception.get("message", "") if isinstance(exception, dict) else exception
                raise RejectedError(
                    f"FSM refused {business_class} {action} of record {index + 1} of "
                    f"{len(records)}: {message}; fix the value in the source record or its "
                    "mapping, then replay it",
                    system="infor",
                    record=record,
                    code=str(exception.get("type", "")) if isinstance(exception, dict) else None,
                )
        if len(results) != len(records):
            raise RejectedError(
                f"FSM answered {len(results)} results for {len(records)} {business_class} "
                "records; the batch cannot be trusted, check the records in FSM",
                system="infor",
                record=record,
            )
        return results

    async def _send(
        self,
        method: str,
        url: str | URL,
        record: str,
        *,
        idempotent: bool,
        params: Mapping[str, str] | None = None,
        json: bytes | None = None,
    ) -> HttpResponse:
        self.requests += 1
        response = await self.http.request(
            method,
            url,
            params=dict(params) if params else None,
            json=json,
            headers={"Accept": "application/json"},
            idempotent=idempotent,
            record=record,
            ok_statuses=_OK,
        )
        if response.status in _REFUSALS:
            kind, message = _exception_of(response.body)
            said = (
                f"FSM refused {method} {response.path} (HTTP {response.status}, {kind}): {message}"
            )
            if response.status == 404:
                raise ConfigurationError(
                    f"{said}; check that the FSM business class exists on this tenant",
                    system="infor",
                    record=record,
                )
            raise RejectedError(
                f"{said}; the request does not fit this FSM tenant, which is a connector "
                "defect or a customised class: report it",
                system="infor",
                record=record,
                code=kind,
            )
        return response


def _exception_of(body: bytes) -> tuple[str, str]:
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return "", body[:200].decode("utf-8", errors="replace")
    exception = data.get("exception") if isinstance(data, dict) else None
    if isinstance(exception, dict):
        return str(exception.get("type", "")), str(exception.get("message", ""))
    return "", str(data)[:200]


class LinksReader:
    """FSM's paging style: ``_limit`` rows per page in key order, then the metadata's
    ``_links`` entry with ``rel: next`` (a key position, never an offset) until none comes.
    The link is followed as given, only on the gateway we logged in to."""

    def __init__(self, service: LandmarkService, page_size: int = 100) -> None:
        self.service = service
        self.page_size = page_size

    async def rows(
        self, query: ListQuery, start: Mapping[str, str] | None = None
    ) -> AsyncIterator[Row]:
        """Rows of class ``program``, list ``transaction`` (``_generic``); ``inputs
        ["_lplFilter"]`` filters, ``returncols`` are the ``_fields`` (all when None).
        ``start`` is not supported by Landmark lists beyond a filter and is refused."""
        if start:
            raise ValueError("FSM lists restart from their own _links, not from a key")
        params = {
            "_fields": ",".join(query.returncols) if query.returncols else "_all",
            "_limit": str(self.page_size),
            "_pageNav": "true",
            "_out": "JSON",
        }
        if query.inputs and "_lplFilter" in query.inputs:
            params["_lplFilter"] = query.inputs["_lplFilter"]
        url: str | URL = f"{self.service.base}/{query.program}/lists/{query.transaction}"
        record = f"FSM {query.program} list"
        page = await self.service.page(url, params, record)
        while True:
            meta = page[0] if page and "_fields" not in page[0] else {}
            for entry in page:
                fields = entry.get("_fields") if isinstance(entry, dict) else None
                if isinstance(fields, dict):
                    yield {str(k): "" if v is None else str(v) for k, v in fields.items()}
            links = [link for link in meta.get("_links", []) if link.get("rel") == "next"]
            if not links:
                return
            url = URL(links[0]["href"], encoded=True)
            if not str(url).startswith(self.service.base):
                raise ConfigurationError(
                    f"FSM answered a next link outside the gateway ({url.host}); refusing to "
                    "send the token there: check the gateway's iu in the .ionapi file",
                    system="infor",
                    record=record,
                )
            page = await self.service.page(url, None, record)
