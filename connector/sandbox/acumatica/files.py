"""Files attached to records, as the contract-based API handles them.

``PUT /{Entity}/{keys}/files/{filename}`` attaches the request body to the record (204 with
a ``Location`` to read it back); the same name on the same record replaces the content
(Acumatica keeps it as a new revision of that file). ``GET`` of the record with
``$expand=files`` lists them as ``FileLink``s (``id``, ``filename`` shown as
"Screen (keys)\\name", ``href``, ``comment``), and ``GET /files/{id}`` returns the content.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

#: The screen each entity is maintained on: Acumatica names stored files after it.
SCREENS = {
    "Customer": "Customers", "Vendor": "Vendors", "Account": "Chart of Accounts",
    "Subaccount": "Subaccounts", "Invoice": "Invoices and Memos",
    "Bill": "Bills and Adjustments", "Payment": "Payments and Applications",
    "ItemClass": "Item Classes", "StockItem": "Stock Items", "NonStockItem": "Non-Stock Items",
    "SalesOrder": "Sales Orders", "JournalTransaction": "Journal Transactions",
    "Check": "Checks and Payments",
}  # fmt: skip


class Attachment(msgspec.Struct):
    id: str
    record_id: str
    filename: str
    content: bytes
    content_type: str


class Files:
    """Every attached file of one tenant, by file id and by record."""

    def __init__(self) -> None:
        self._by_id: dict[str, Attachment] = {}
        self._by_record: dict[str, list[str]] = {}

    def attach(
        self,
        entity: str,
        record_id: str,
        keys: list[str],
        name: str,
        content: bytes,
        content_type: str,
    ) -> Attachment:
        shown = f"{SCREENS.get(entity, entity)} ({' '.join(keys)})\\{name}"
        for file_id in self._by_record.get(record_id, []):
            existing = self._by_id[file_id]
            if existing.filename.casefold() == shown.casefold():
                existing.content, existing.content_type = content, content_type
                return existing
        attachment = Attachment(str(uuid.uuid4()), record_id, shown, content, content_type)
        self._by_id[attachment.id] = attachment
        self._by_record.setdefault(record_id, []).append(attachment.id)
        return attachment

    def get(self, file_id: str) -> Attachment | None:
        return self._by_id.get(file_id.casefold())

    def links(self, record_id: str, files_url: str) -> list[dict[str, Any]]:
        """The record's files as the ``files`` array of a GET with ``$expand=files``."""
        return [
            {
                "id": file_id,
                "filename": self._by_id[file_id].filename,
                "href": f"{files_url}/{file_id}",
                "comment": None,
            }
            for file_id in self._by_record.get(record_id, [])
        ]

    def forget(self, record_id: str) -> None:
        """A deleted record's files go with it."""
        for file_id in self._by_record.pop(record_id, []):
            self._by_id.pop(file_id, None)
