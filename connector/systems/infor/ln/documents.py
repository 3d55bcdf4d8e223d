"""Writing an LN document (AP invoice, purchase order) with its lines in as few requests as
the service allows, without giving up exactly-once.

Three modes (``ln_write_mode``):

- ``deep``: one POST of the header with its lines nested in ``LineRefs`` (OData deep
  insert). OData makes it atomic — all created or none — so a lost reply leaves either
  nothing or the whole document, and the live lookup by natural key settles which.
- ``batch``: one JSON ``$batch`` whose single atomicity group POSTs the header (``id`` h)
  and each line to ``$h/LineRefs`` (the new header's lines, numbered by LN on create);
  also atomic. Lines missing from a header found earlier go as one group too.
- ``single``: one POST per header and per line, as every OData service allows; a cut
  leaves a header without some lines, which the next write finishes line by line.

``auto`` reads each service's ``$metadata`` once per connection and takes what the entity
container announces with the Capabilities vocabulary (``DeepInsertSupport``, then
``BatchSupport`` with the JSON format), else ``single``. Whether LN's generated metadata
carries those terms is not documented; a service without them is simply written line by
line, and ``ln_write_mode`` can name the mode outright. A 501 from either — nothing
written — downgrades that service to ``single`` for the rest of the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from connector.errors import ConfigurationError, RejectedError, UnavailableError
from connector.systems.infor.ln.odata import NotOfferedError, ODataService

MODES = ("auto", "deep", "batch", "single")
CAPABILITIES = "Org.OData.Capabilities.V1"
#: Navigation from a header to its lines.
LINE_REFS = "LineRefs"
_BODY = msgspec.json.Encoder(decimal_format="number")


class DocumentWriter:
    """Creates headers with lines, or adds lines to a header, in one OData service."""

    def __init__(self, service: ODataService, mode: str = "auto") -> None:
        if mode not in MODES:
            raise ConfigurationError(
                f"ln_write_mode {mode!r} is not one of {', '.join(MODES)}; fix it in the "
                "Infor system's configuration"
            )
        self.service = service
        self.configured = mode
        #: OData service → the mode found for it on this connection.
        self.modes: dict[str, str] = {}
        # Loader workers start together; one of them reads $metadata, the others wait.
        self._discovering = asyncio.Lock()

    async def mode(self, odata_service: str, record: str) -> str:
        """The mode for ``odata_service``, read from its ``$metadata`` once when ``auto``."""
        found = self.modes.get(odata_service)
        if found is not None:
            return found
        async with self._discovering:
            found = self.modes.get(odata_service)
            if found is None:
                found = self.configured
                if found == "auto":
                    found = await self._discover(odata_service, record)
                self.modes[odata_service] = found
            return found

    async def create(
        self,
        target: tuple[str, str],
        line_set: str,
        header: Mapping[str, Any],
        lines: Sequence[Mapping[str, Any]],
        parent_keys: Sequence[str],
        record: str,
    ) -> tuple[dict[str, Any], int]:
        """Create the header ``target`` (service, entity set) with ``lines`` (bodies without
        the header's key, which LN may number); the header as LN answered and the lines
        created. Raises whatever the requests raise (InDoubtError on a lost reply)."""
        odata_service, entity_set = target
        mode = await self.mode(odata_service, record)
        if mode == "deep" and lines:
            try:
                created = await self.service.post(
                    f"{odata_service}/{entity_set}",
                    {**header, LINE_REFS: list(lines)},
                    record,
                    prefer="return=representation",
                )
                return created, len(created.get(LINE_REFS, lines))
            except NotOfferedError:
                self.modes[odata_service] = "single"
        elif mode == "batch" and lines:
            requests = [
                _request("h", "POST", entity_set, header),
                *(
                    _request(f"l{n}", "POST", f"$h/{LINE_REFS}", line)
                    for n, line in enumerate(lines, start=1)
                ),
            ]
            answers = await self._batch(odata_service, requests, record)
            if answers is not None:
                return answers[0], len(answers) - 1
        created = await self.service.post(f"{odata_service}/{entity_set}", header, record)
        keys = {name: created[name] for name in parent_keys}
        await self._one_by_one(
            odata_service, line_set, [{**keys, **line} for line in lines], record
        )
        return created, len(lines)

    async def add_lines(
        self, odata_service: str, line_set: str, lines: Sequence[Mapping[str, Any]], record: str
    ) -> None:
        """Add ``lines`` (full bodies, header key included) to a header that exists: in one
        atomic ``$batch`` group when the service takes it, else one POST each."""
        if lines and await self.mode(odata_service, record) == "batch":
            requests = [
                _request(f"l{n}", "POST", line_set, line) for n, line in enumerate(lines, start=1)
            ]
            if await self._batch(odata_service, requests, record) is not None:
                return
        await self._one_by_one(odata_service, line_set, lines, record)

    # -- helpers ------------------------------------------------------------------------
    async def _one_by_one(
        self, odata_service: str, line_set: str, lines: Sequence[Mapping[str, Any]], record: str
    ) -> None:
        for line in lines:
            number = line.get("LineNumber", line.get("Line", "?"))
            await self.service.post(f"{odata_service}/{line_set}", line, f"{record} line {number}")

    async def _batch(
        self, odata_service: str, requests: list[dict[str, Any]], record: str
    ) -> list[dict[str, Any]] | None:
        """The answers' bodies of one all-or-nothing group, or None when the service turns
        ``$batch`` down (then it is written one by one from now on)."""
        for request in requests:
            request["atomicityGroup"] = "document"
        try:
            answers = await self.service.batch(odata_service, requests, record)
        except (NotOfferedError, ConfigurationError):
            # 501, or 404 for the $batch resource itself: nothing was written.
            self.modes[odata_service] = "single"
            return None
        failed = next((a for a in answers if int(a.get("status", 0)) >= 400), None)
        if failed is not None or len(answers) != len(requests):
            raise self._group_failure(odata_service, failed, requests, record)
        return [dict(answer.get("body") or {}) for answer in answers]

    def _group_failure(
        self,
        odata_service: str,
        failed: Mapping[str, Any] | None,
        requests: list[dict[str, Any]],
        record: str,
    ) -> Exception:
        """The error of a failed group: LN undid all of it, so it is the failed request's
        own refusal (a 5xx or 429 inside is retryable: nothing stayed written)."""
        if failed is None:
            return UnavailableError(
                f"LN answered {odata_service}/$batch for fewer requests than were sent; the "
                "group was not applied and will be retried",
                system="infor",
                record=record,
            )
        ident = str(failed.get("id", ""))
        status = int(failed["status"])
        which = next((r for r in requests if r["id"] == ident), None)
        what = f"{which['method']} {which['url']} in $batch" if which else "$batch"
        named = f"{record} line {ident[1:]}" if ident.startswith("l") else record
        if status >= 500 or status == 429:
            return UnavailableError(
                f"LN answered HTTP {status} to {what}; the group was undone and will be retried",
                system="infor",
                record=named,
            )
        return self.service.refusal(status, _BODY.encode(failed.get("body") or {}), what, named)

    async def _discover(self, odata_service: str, record: str) -> str:
        try:
            document = await self.service.metadata(odata_service, record)
        except (RejectedError, ConfigurationError, msgspec.DecodeError):
            # No JSON $metadata to read: nothing is assumed.
            return "single"
        return mode_from_metadata(document)


def mode_from_metadata(document: Any) -> str:
    """``deep``/``batch``/``single`` from a CSDL JSON document's container annotations."""
    if not isinstance(document, dict):
        return "single"
    name = str(document.get("$EntityContainer", ""))
    namespace, _, container_name = name.rpartition(".")
    schema = document.get(namespace)
    container = schema.get(container_name) if isinstance(schema, dict) else None
    if not isinstance(container, dict):
        return "single"
    deep = _term(container, "DeepInsertSupport")
    if deep.get("Supported") is True:
        return "deep"
    batch = _term(container, "BatchSupport")
    formats = batch.get("SupportedFormats")
    if batch.get("Supported") is True and (not formats or "application/json" in formats):
        return "batch"
    return "single"


def _term(container: Mapping[str, Any], term: str) -> dict[str, Any]:
    """A Capabilities term on the container, by full namespace or an alias."""
    for key, value in container.items():
        if key.startswith("@") and key.endswith(f".{term}") and isinstance(value, dict):
            return value
    return {}


def _request(ident: str, method: str, url: str, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": ident, "method": method, "url": url, "body": dict(body)}
