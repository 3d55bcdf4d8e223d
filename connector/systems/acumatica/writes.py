"""Writing to Acumatica: the create-or-update PUT and the release action.

:class:`EntityWrites` adds the write side to :class:`~.endpoint.EndpointAccess`. A PUT of a
document without a ``ReferenceNbr`` creates a *new* document every time, so only master data
(``repeatable_put``) is resent after a lost answer; a document's lost answer, like a lost
release, is ``InDoubtError``, settled by the look-ups of :mod:`.lookups`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import anyio
import msgspec

from connector.errors import ConflictError, ConnectorError, RejectedError
from connector.systems.acumatica.endpoint import WRITE_OK, E, EndpointAccess
from connector.systems.acumatica.problems import SYSTEM, is_no_entity, refused, unprocessable
from connector.systems.acumatica.values import encode_record


class EntityWrites(EndpointAccess):
    """Writes to one endpoint: :meth:`put` and :meth:`release`."""

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
            ok_statuses=WRITE_OK,
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
        self,
        entity: type[E],
        doc_type: str,
        reference_nbr: str,
        *,
        polls: int = 60,
        confirm: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Run the entity's ``Release<Entity>`` action on one document and wait for it.

        Acumatica answers 202 with a ``Location`` to poll until 204. Releasing is not
        repeatable, so a lost answer is in doubt: callers check the document's status (e.g.
        ``Open``) before releasing again.

        ``confirm`` (the document's status read back, True once released) is asked first
        when given: a caller whose look-ups are shared with other documents confirms the
        release for a fraction of a request instead of two polls of its own. Polling stays
        the fallback when the status has not moved (yet), and it carries Acumatica's reason
        when the release failed.
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
        if response.status == 202 and confirm is not None and await _confirmed(confirm):
            return
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


async def _confirmed(confirm: Callable[[], Awaitable[bool]]) -> bool:
    """The caller's confirmation; a read that failed confirms nothing (the poll decides)."""
    try:
        return await confirm()
    except ConnectorError:
        return False
