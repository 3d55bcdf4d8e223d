"""APSSSP, supplier maintenance (``Setup/Add|Update|Delete``, root ``SetupApSupplier``).

Each ``<Item>`` names its supplier in ``<Key><Supplier>`` (inferred layout). Add refuses a
supplier already on file and needs ``SupplierName``; Update and Delete refuse one that is not;
Delete also refuses a supplier with invoices. ``Currency`` and ``TermsCode`` must be known
codes when given. Errors on the key sit under ``<key><supplier>`` in the XMLOUT item.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Literal

from connector.sandbox.syspro.business import (
    ALREADY_EXISTS,
    INVALID_VALUE,
    MANDATORY,
    NOT_ON_FILE,
    Checked,
    Checker,
    Context,
)
from connector.sandbox.syspro.company import CURRENCIES, TERMS_CODES
from connector.sandbox.syspro.xmlio import child, text

ROOT = "SetupApSupplier"
#: Fields an Add or Update may set (anything else in the item is ignored, as SYSPRO does).
FIELDS = (
    "SupplierName",
    "SupShortName",
    "Branch",
    "TermsCode",
    "Currency",
    "SupAddr1",
    "SupAddr2",
    "SupAddr3",
    "SupAddr4",
    "SupAddr5",
    "SupPostalCode",
    "Email",
    "OnHold",
    "SupplierClass",
    "DefTaxCode",
)


def supplier_checker(action: Literal["add", "update", "delete"]) -> Checker:
    def check(ctx: Context, item: ET.Element) -> Checked:
        code = text(child(item, "Key"), "Supplier")
        # The key is echoed as a <key> block, like the recorded setup XMLOUT.
        result = Checked(echo=[("Key/Supplier", code)])
        company = ctx.company
        existing = company.find("ApSupplier", Supplier=code) if code else None
        if not code:
            result.error("Supplier", code, MANDATORY, "XML element 'Supplier' cannot be spaces")
        elif action == "add" and existing is not None:
            result.error("Supplier", code, ALREADY_EXISTS, f"Supplier '{code}' already exists")
        elif action != "add" and existing is None:
            result.error("Supplier", code, NOT_ON_FILE, f"Supplier '{code}' not found")
        elif action == "delete" and company.find("ApInvoice", Supplier=code) is not None:
            result.error(
                "Supplier",
                code,
                INVALID_VALUE,
                f"Supplier '{code}' has invoices and cannot be deleted",
            )
        values = {name: text(item, name) for name in FIELDS if child(item, name) is not None}
        if action == "add" and not values.get("SupplierName"):
            result.error(
                "SupplierName", "", MANDATORY, "XML element 'SupplierName' cannot be spaces"
            )
        currency = values.get("Currency")
        if currency and currency not in CURRENCIES:
            result.error("Currency", currency, NOT_ON_FILE, f"Currency '{currency}' not found")
        terms = values.get("TermsCode")
        if terms and terms not in TERMS_CODES:
            result.error("TermsCode", terms, NOT_ON_FILE, f"Terms code '{terms}' not found")

        def apply() -> list[tuple[str, str]]:
            if action == "add":
                defaults = {"OnHold": "N", "Currency": "$", "TermsCode": "30"}
                company.insert("ApSupplier", defaults | values | {"Supplier": code})
            elif action == "update" and existing is not None:
                existing.update(values)
                company.touch(existing)
            elif existing is not None:
                company.tables["ApSupplier"].remove(existing)
            return []

        result.apply = apply
        return result

    return check
