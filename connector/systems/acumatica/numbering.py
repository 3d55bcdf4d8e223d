"""Which numbering sequence each document type draws from, and whether it is manual.

The Default contract-based endpoint has no entity for numbering sequences (screen CS201010)
or for the AR/AP preferences that name them, so this reads the DAC-based OData v4
interface Acumatica documents for such tables (2022 R2 on):
``GET {instance}/t/{tenant}/api/odata/dac/{DAC}`` with the same bearer token, answering
``{"value": [plain records]}``. ``ARSetup``/``APSetup`` say which ``NumberingID`` a document
type uses; ``Numbering.UserNumbering`` is the "Manual Numbering" box of that sequence.
"""

from __future__ import annotations

from urllib.parse import quote

import msgspec

from connector.errors import ConfigurationError
from connector.http.client import HttpClient
from connector.systems.acumatica.problems import SYSTEM

#: (document type, setup DAC, its field naming the sequence).
DOCUMENT_SETUP: tuple[tuple[str, str, str], ...] = (
    ("AR invoice", "ARSetup", "InvoiceNumberingID"),
    ("AR payment", "ARSetup", "PaymentNumberingID"),
    ("AP bill", "APSetup", "InvoiceNumberingID"),
)


class _Numbering(msgspec.Struct, frozen=True):
    NumberingID: str
    UserNumbering: bool = False


class _ODataList(msgspec.Struct, frozen=True):
    """An OData v4 collection; ``@odata.context`` and the rest are not needed."""

    value: list[dict[str, object]]


class DocumentNumbering(msgspec.Struct, frozen=True):
    """How one document type is numbered in the company."""

    document: str
    """``AR invoice``, ``AR payment``, ``AP bill``."""
    setting: str
    """Where the sequence is chosen, e.g. ``ARSetup.InvoiceNumberingID`` (AR Preferences)."""
    numbering_id: str
    manual: bool


async def document_numbering(
    http: HttpClient, instance_url: str, tenant: str
) -> list[DocumentNumbering]:
    """The numbering of every document type in :data:`DOCUMENT_SETUP`; ConfigurationError
    when the instance does not serve the DAC-based interface or a sequence is missing."""
    setups = {
        dac: await _rows(http, instance_url, tenant, dac)
        for dac in sorted({dac for _, dac, _ in DOCUMENT_SETUP})
    }
    sequences = {
        row["NumberingID"]: msgspec.convert(row, _Numbering)
        for row in await _rows(http, instance_url, tenant, "Numbering")
    }
    found: list[DocumentNumbering] = []
    for document, dac, field in DOCUMENT_SETUP:
        numbering_id = str((setups[dac][0] if setups[dac] else {}).get(field) or "")
        sequence = sequences.get(numbering_id)
        if sequence is None:
            raise ConfigurationError(
                f"{dac}.{field} names numbering sequence {numbering_id!r}, which does not "
                f"exist: choose a sequence for {document}s in Acumatica's preferences",
                system=SYSTEM,
            )
        found.append(
            DocumentNumbering(document, f"{dac}.{field}", numbering_id, sequence.UserNumbering)
        )
    return found


async def _rows(
    http: HttpClient, instance_url: str, tenant: str, dac: str
) -> list[dict[str, object]]:
    url = f"{instance_url}/t/{quote(tenant, safe='')}/api/odata/dac/{dac}"
    response = await http.request(
        "GET", url, idempotent=True, record=f"DAC {dac}", ok_statuses=frozenset({200, 404})
    )
    if response.status == 404:
        raise ConfigurationError(
            f"GET {url} → 404: the instance does not serve the DAC-based OData interface for "
            f"tenant {tenant!r} (Acumatica 2022 R2 and later); check the tenant (the "
            "credential's `company`) or check the numbering sequences by hand in CS201010",
            system=SYSTEM,
        )
    try:
        return msgspec.json.decode(response.body, type=_ODataList).value
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigurationError(
            f"GET {url}: the answer is not an OData list ({exc})", system=SYSTEM
        ) from exc
