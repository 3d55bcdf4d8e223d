"""Mongoose IDO REST through the ION API gateway: one ``load`` or ``update`` per request.

``GET {gateway}/CSI/IDORequestService/ido/load/{IDO}?properties=…&filter=…`` reads,
``POST …/ido/update/{IDO}`` writes (sheet §2), both with ``X-Infor-MongooseConfig`` naming
the site's configuration. Mongoose answers refusals with HTTP 200 and ``"Success": false``
(the reason in ``Message``), so every answer's ``Success`` is read before anything else; an
HTTP 400 is the configuration header being missing or unknown, which only the operator can
fix. Every value comes back as a string or null; dates as ``yyyyMMdd HH:mm:ss.fff``.

Loads are reads (retried by the HTTP client); updates are writes: a lost answer is in doubt
and is never resent here — the caller settles it with a live look-up by natural key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from connector.errors import ConfigurationError, RejectedError, clause
from connector.http.client import HttpClient
from connector.systems.infor.auth import SYSTEM

Item = dict[str, str | None]

INSERT, UPDATE, DELETE = 1, 2, 4
#: Rows per page when reading whole lists: far under any site-wide cap seen, few requests.
PAGE_SIZE = 500


class LoadAnswer(msgspec.Struct, frozen=True):
    Items: list[dict[str, str | None]] | None = None
    Bookmark: str | None = None
    MoreRowsExist: bool = False
    Message: str | None = None
    Success: bool = False


class SavedProperty(msgspec.Struct, frozen=True):
    Name: str
    Value: str | None = None


class SavedChange(msgspec.Struct, frozen=True):
    ItemId: str = ""
    Properties: list[SavedProperty] = msgspec.field(default_factory=list)


class UpdateAnswer(msgspec.Struct, frozen=True):
    Message: str | None = None
    Success: bool = False
    Changes: list[SavedChange] | None = None


def quote(value: str) -> str:
    """``value`` as a filter literal: ``N'…'`` with quotes doubled, so no value can end the
    string early and change the filter's meaning."""
    return "N'" + value.replace("'", "''") + "'"


def change(action: int, values: Mapping[str, str | None], item_id: str = "") -> dict[str, Any]:
    """One entry of an update's ``Changes``; a None value is sent as an explicit null."""
    return {
        "Action": action,
        "ItemId": item_id,
        "Properties": [
            {"Name": name, "Value": value, "Modified": True, "IsNull": value is None}
            for name, value in values.items()
        ],
        "UpdateLocking": 1,
    }


class IdoClient:
    """Loads and updates on one SyteLine configuration (site)."""

    def __init__(self, http: HttpClient, gateway_base: str, mongoose_config: str) -> None:
        self.http = http
        self.base = f"{gateway_base}/CSI/IDORequestService/ido"
        self.config = mongoose_config
        #: Requests made (loads and updates), for tests and the benchmark.
        self.requests = 0

    def _headers(self) -> dict[str, str]:
        return {"Accept": "application/json", "X-Infor-MongooseConfig": self.config}

    def _refused_config(self, message: str | None, record: str) -> ConfigurationError:
        return ConfigurationError(
            f"SyteLine refused the configuration {self.config!r} (HTTP 400: {message}); set "
            "mongoose_config of this Infor system to the Mongoose configuration of the site "
            "(as in X-Infor-MongooseConfig)",
            system=SYSTEM,
            record=record,
        )

    async def load(
        self,
        ido: str,
        properties: Sequence[str],
        *,
        filter: str | None = None,
        order_by: str | None = None,
        record_cap: int = PAGE_SIZE,
        bookmark: str | None = None,
        record: str,
    ) -> LoadAnswer:
        """One page (``loadType=NEXT`` after ``bookmark`` when given); raises on a refusal."""
        params: dict[str, str] = {"properties": ",".join(properties), "recordCap": str(record_cap)}
        if filter:
            params["filter"] = filter
        if order_by:
            params["orderBy"] = order_by
        if bookmark is not None:
            params["loadType"] = "NEXT"
            params["bookmark"] = bookmark
        self.requests += 1
        response = await self.http.request(
            "GET",
            f"{self.base}/load/{ido}",
            params=params,
            headers=self._headers(),
            idempotent=True,
            record=record,
            ok_statuses=(200, 400),
        )
        answer = response.json(LoadAnswer)
        if response.status == 400:
            raise self._refused_config(answer.Message, record)
        if not answer.Success:
            raise RejectedError(
                f"SyteLine refused to read {ido}: {answer.Message or 'no reason given'}; "
                "this is the connector's query, not the record: report it with this message",
                system=SYSTEM,
                record=record,
                code="ido_load",
            )
        return answer

    async def update(
        self, ido: str, changes: Sequence[Mapping[str, Any]], *, refresh: bool, record: str
    ) -> list[SavedChange]:
        """One update request (all ``changes`` commit together or not at all); the saved rows
        when ``refresh``. A refusal raises RejectedError with Mongoose's message."""
        self.requests += 1
        response = await self.http.request(
            "POST",
            f"{self.base}/update/{ido}",
            params={"refresh": "true"} if refresh else None,
            json=msgspec.json.encode({"Changes": list(changes)}),
            headers=self._headers(),
            idempotent=False,
            record=record,
            ok_statuses=(200, 400),
        )
        answer = response.json(UpdateAnswer)
        if response.status == 400:
            raise self._refused_config(answer.Message, record)
        if not answer.Success:
            raise RejectedError(
                f"SyteLine refused the change to {ido}: "
                f"{clause(answer.Message or 'no reason given')}. "
                "Fix the value in the source record or its mapping, then replay it.",
                system=SYSTEM,
                record=record,
                code="ido_update",
            )
        return list(answer.Changes or ())


def saved(change: SavedChange) -> Item:
    """A refreshed change's properties by name."""
    return {prop.Name: prop.Value for prop in change.Properties}
