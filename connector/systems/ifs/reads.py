"""Reading IFS projections: paged lists, incremental reads by ETag, rows by key.

:class:`ProjectionReads` is the base of the client's parts (:mod:`.lookups`, :mod:`.writes`
and the :class:`~.client.IfsClient` facade): it knows the projection URLs, sends through
:class:`~.transport.Transport`, and decodes answers into the models of :mod:`.models`
(:func:`decode`, :func:`decode_raw`). Lists follow ``@odata.nextLink`` verbatim and drop a
row whose ``keyref`` was already seen in the same read; a missing row is None.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TypeVar

import msgspec
from yarl import URL

from connector.errors import ConfigurationError, ConnectorError, RejectedError
from connector.http.client import HttpClient, HttpResponse
from connector.http.tokens import TokenCache
from connector.systems.ifs import models as m
from connector.systems.ifs.odata import Literal, and_all, key_predicate, literal
from connector.systems.ifs.problems import SYSTEM, refusal
from connector.systems.ifs.transport import Transport

E = TypeVar("E", bound=m.Entity)
T = TypeVar("T")

API_PATH = "/main/ifsapplications/projection/v1"


class ProjectionReads:
    """Reads of the projections of one IFS Cloud environment; ``tokens`` lets a redirect to
    ``/auth/`` renew the token, ``company`` is the default company of look-ups."""

    def __init__(
        self, http: HttpClient, *, url: str, company: str, tokens: TokenCache | None = None
    ) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self.company = company
        self.api_root = f"{self.url}{API_PATH}"
        self._transport = Transport(http, tokens)

    # -- URLs ---------------------------------------------------------------------------
    def set_url(self, entity: type[m.Entity]) -> URL:
        return URL(f"{self.api_root}/{entity.projection}.svc/{entity.entity_set}", encoded=True)

    def row_url(self, entity: type[m.Entity], keys: Sequence[Literal]) -> URL:
        predicate = key_predicate(entity.keys, keys)
        return URL(f"{self.set_url(entity)}{predicate}", encoded=True)

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
            "$orderby": ",".join(orderby) if orderby else ",".join(entity.keys)
        }
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
            page = decode(response, m.Page, label)
            rows = [decode_raw(response, raw, entity, label) for raw in page.value]
            fresh = [row for row in rows if not (row.keyref and row.keyref in seen)]
            seen.update(row.keyref for row in fresh)
            if fresh:
                yield fresh
            url = URL(f"{self.api_root}/{page.next_link}", encoded=True) if page.next_link else None
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
        return decode(response, entity, label)

    # -- helpers ------------------------------------------------------------------------
    def _window(self, entity: type[m.Entity], since: dt.date | None) -> str | None:
        if since is None:
            return None
        if entity.window_field is None:
            raise ValueError(
                f"{entity.entity_set} has no date to read a window on; read it whole instead"
            )
        # Window fields are Edm.Date: IFS refuses to compare one with a timestamp literal.
        day = since.date() if isinstance(since, dt.datetime) else since
        return f"{entity.window_field} ge {literal(day)}"

    def _list_refused(self, response: HttpResponse, label: str) -> ConnectorError:
        if response.status == 404:
            return ConfigurationError(
                f"{response.method} {response.path} for {label} → HTTP 404: this IFS "
                "environment does not serve the projection; check `url` and that the "
                "projection is granted to the IAM client's user",
                system=SYSTEM,
                record=label,
            )
        return refusal(response, label, write=False)


def decode(response: HttpResponse, type_: type[T], label: str) -> T:
    """The answer's body as ``type_``; a body that does not fit is ``RejectedError``."""
    try:
        return msgspec.json.decode(response.body, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _unexpected(response, label, exc) from exc


def decode_raw(response: HttpResponse, raw: msgspec.Raw, type_: type[T], label: str) -> T:
    """One row of a page (``raw``) as ``type_``, blamed on ``response`` when it does not fit."""
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
        "it with this message",
        system=SYSTEM,
        record=label,
        code="unexpected_response",
    )
