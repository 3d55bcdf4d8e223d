"""Writing IFS rows: POST without resending, PATCH and bound actions guarded by ETags.

:class:`EtagWrites` never resends a write whose answer was lost (that is ``InDoubtError``,
settled by :mod:`.lookups`). Every PATCH and bound action sends ``If-Match``; after a 412
the row is read again and the change sent once more if it still applies; a second 412 is a
``ConflictError`` naming the row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import msgspec
from yarl import URL

from connector.errors import ConflictError, RejectedError
from connector.systems.ifs import models as m
from connector.systems.ifs.odata import Literal
from connector.systems.ifs.problems import SYSTEM, refusal
from connector.systems.ifs.reads import E, ProjectionReads, decode

# Every part of the client logs under the client's name, which log configurations select on.
log = logging.getLogger("connector.systems.ifs.client")


class EtagWrites(ProjectionReads):
    """Writes to one environment: :meth:`create`, :meth:`update`, :meth:`run_action`."""

    async def create(self, entity: type[E], body: m.WriteBody, *, record: str) -> E:
        """POST a new row; returns it as IFS stored it (server keys, first ETag).

        Never retried after a lost answer (IFS would create a second row): that is
        ``InDoubtError``, to be settled by the natural-key look-up.
        """
        response = await self._transport.write(
            "POST", self.set_url(entity), record, json=msgspec.json.encode(body)
        )
        if response.status != 201 and response.status != 200:
            raise refusal(response, record, write=True)
        return decode(response, entity, record)

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
            response = await self._transport.write(
                "PATCH", url, label, json=body, headers={"If-Match": current}
            )
            if response.status == 200:
                return decode(response, entity, label)
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
        url = URL(
            f"{self.row_url(entity, keys)}/IfsApp.{entity.projection}.{name}_{action}", encoded=True
        )
        current = etag or (await self._require(entity, keys, label)).etag
        for attempt in (1, 2):
            response = await self._transport.write(
                "POST", url, label, headers={"If-Match": current}
            )
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
                system=SYSTEM,
                record=label,
            )
        fresh = await self._require(entity, keys, label)
        if still_applies is not None and not still_applies(fresh):
            raise ConflictError(
                f"{label} was changed in IFS since it was read, and the connector's change no "
                "longer applies to the new version: review the row in IFS",
                system=SYSTEM,
                record=label,
            )
        log.info("ifs %s: ETag was stale (412); re-read and sending the change once more", label)
        return fresh.etag

    async def _require(self, entity: type[E], keys: Sequence[Literal], label: str) -> E:
        row = await self.get(entity, *keys)
        if row is None:
            raise RejectedError(
                f"{label} does not exist in IFS (any more): it was deleted or never created; "
                "look it up by its natural key and replay the record",
                system=SYSTEM,
                record=label,
                code="ODP_RESOURCE_NOTFOUND",
            )
        return row
