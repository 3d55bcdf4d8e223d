"""Acumatica contract-based REST client: endpoint check, upserts, reads, natural-key look-ups.

:class:`AcumaticaClient` is the one class callers use. Its parts live in modules of their
own: URLs and decoding in :mod:`.endpoint`, reads and paging in :mod:`.reads`, the PUT and
the release action in :mod:`.writes`, the natural-key look-ups in :mod:`.lookups`; the
startup check of the pinned endpoint version stays here.

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
  :func:`.odata.odata_string` (single quotes doubled), never pasted in.
"""

from __future__ import annotations

import msgspec

from connector.errors import ConfigurationError
from connector.systems.acumatica import models as m
from connector.systems.acumatica.endpoint import DEFAULT_PAGE_SIZE, READ_OK
from connector.systems.acumatica.lookups import NaturalKeyLookups
from connector.systems.acumatica.odata import odata_datetime, odata_string
from connector.systems.acumatica.problems import SYSTEM
from connector.systems.acumatica.writes import EntityWrites

# odata_string, odata_datetime and DEFAULT_PAGE_SIZE live with the parts that use them;
# callers keep importing them from here.
__all__ = [
    "DEFAULT_PAGE_SIZE",
    "KNOWN_VERSIONS",
    "AcumaticaClient",
    "EndpointList",
    "ListedEndpoint",
    "odata_datetime",
    "odata_string",
]

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


class ListedEndpoint(msgspec.Struct, frozen=True):
    """One endpoint in ``GET {instance}/entity``."""

    name: str
    version: str


class EndpointList(msgspec.Struct, frozen=True):
    """``GET {instance}/entity``: the endpoints the instance serves."""

    endpoints: list[ListedEndpoint] = []


class AcumaticaClient(NaturalKeyLookups, EntityWrites):
    """Typed access to one endpoint of one Acumatica instance (see the module contract).

    Built by :func:`connector.systems.acumatica.open_connection`, which owns the session,
    token cache and limiter that ``http`` uses.
    """

    def __repr__(self) -> str:
        return (
            f"AcumaticaClient(instance_url={self.instance_url!r}, "
            f"endpoint={self.endpoint}/{self.version})"
        )

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

    async def offered_versions(self) -> list[str]:
        """Versions of this endpoint the instance serves: from ``GET /entity`` when the
        instance lists them, else by probing :data:`KNOWN_VERSIONS`."""
        response = await self.http.request(
            "GET",
            f"{self.instance_url}/entity",
            idempotent=True,
            record="endpoint list",
            ok_statuses=READ_OK,
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
