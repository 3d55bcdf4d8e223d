"""Reading Acumatica records: by key, in ``$top``/``$skip`` pages, and the branch inquiry.

:class:`EntityReads` adds the read side to :class:`~.endpoint.EndpointAccess`. Lists page
until a short page; ``modified_since`` filters on ``LastModifiedDateTime gt
datetimeoffset'…'``. A missing record is None, never an error; a 404 that means the
endpoint or entity is not served is a ``ConfigurationError``.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import AsyncIterator, Sequence

from connector.systems.acumatica import models as m
from connector.systems.acumatica.endpoint import READ_OK, WRITE_OK, E, EndpointAccess
from connector.systems.acumatica.odata import odata_datetime
from connector.systems.acumatica.problems import is_no_entity, refused


class EntityReads(EndpointAccess):
    """Reads of one endpoint: :meth:`get`, :meth:`pages`, :meth:`list`, :meth:`branches`."""

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
            ok_statuses=READ_OK,
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

        ``filter`` is an OData expression (build its literals with :func:`.odata.odata_string`);
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
                ok_statuses=READ_OK,
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
            ok_statuses=WRITE_OK,
        )
        if response.status == 404:
            raise self._no_route(response, "branch list")
        if response.status != 200:
            raise refused(response, "branch list", write=False)
        return self._decode(response, m.CompaniesStructure, "branch list").results or []

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
