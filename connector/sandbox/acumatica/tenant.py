"""One simulated Acumatica company: its records and the business rules a PUT must pass.

:meth:`Tenant.upsert` is the contract-based ``PUT``: find the record by ``id`` or key fields,
honour ``If-None-Match: *`` / ``If-Match: *``, check every reference, merge, apply defaults
and numbering, compute document totals and balances, stamp ``LastModifiedDateTime``. It
raises :class:`Invalid` (→ 422), :class:`PreconditionFailed` (→ 412) or :class:`NotFound`
(→ 500 ``NoEntitySatisfiesTheConditionException``, as live instances answer) and changes
nothing when it does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from connector.sandbox.acumatica.documents import (
    Applications,
    InvoiceKey,
    application_errors,
    derive,
    invoice_key,
)
from connector.sandbox.acumatica.files import Files
from connector.sandbox.acumatica.rules import (
    FINAL_STATUSES,
    apply_terms,
    check_applications,
    credit_hold,
    paid_by_checks,
    release_errors,
)
from connector.sandbox.acumatica.schema import (
    ACCOUNT_STATUSES,
    ACCOUNT_TYPES,
    BRANCH,
    CASH_ACCOUNT,
    ENTITIES,
    ITEM,
    REFERENCES,
    TERMS,
    TERMS_ID,
    EntityDef,
    computed_fields,
    fields_of,
)
from connector.sandbox.acumatica.store import Clock, Record, Table, merge, stamp
from connector.sandbox.acumatica.values import FieldError

#: The numbering sequence (Numbering Sequences, CS201010) each numbered entity draws from,
#: as a new company is set up: AR/AP preferences and the GL/SO/CA setup name them.
NUMBERING_OF: dict[str, str] = {
    "Invoice": "ARINVOICE",
    "Payment": "ARPAYMENT",
    "Bill": "APBILL",
    "Check": "APPAYMENT",
    "JournalTransaction": "BATCH",
    "SalesOrder": "SOORDER",
}
DEFAULT_BRANCH = "HQ"
DEFAULT_BRANCHES: dict[str, str] = {
    "HQ": "Headquarters",
    "NORTH": "North Branch",
    "SOUTH": "South Branch",
}


class TenantRules(msgspec.Struct, frozen=True):
    """Company preferences that change what a PUT accepts (knobs of the simulator)."""

    manual_numbering: bool = False
    """Every numbering sequence is manual: documents keep the ReferenceNbr the client sends
    instead of taking the next number."""
    manual_sequences: frozenset[str] = frozenset()
    """Numbering sequences (``ARINVOICE``, ``APBILL``…) that are manual on their own."""

    def is_manual(self, numbering_id: str) -> bool:
        """Whether the numbering sequence ``numbering_id`` takes numbers from the user."""
        return self.manual_numbering or numbering_id in self.manual_sequences

    reject_duplicate_vendor_ref: bool = False
    """AP preference "raise an error on duplicate vendor reference number"."""
    applications_require_release: bool = True
    """A payment can only be applied to a released (Open) invoice."""


class Invalid(Exception):
    """The record breaks a rule; ``errors`` name each field and say why."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class PreconditionFailed(Exception):
    """``If-None-Match: *`` met an existing record, or ``If-Match: *`` found none."""


class NotFound(Exception):
    """No record matches the given id or keys."""


class Tenant:
    """Records, branches and the clock of one company, with the rules writes must pass."""

    def __init__(self) -> None:
        self.tables = {name: Table(entity) for name, entity in ENTITIES.items()}
        self.branches: dict[str, str] = dict(DEFAULT_BRANCHES)
        self.clock = Clock()
        self.applications = Applications()
        self.files = Files()
        self._shipment_numbers = 0

    # -- reads --------------------------------------------------------------------------
    def find(self, entity: str, parts: list[str]) -> Record:
        """The record at ``/Entity/{key...}`` or ``/Entity/{id}``; NotFound otherwise."""
        table = self.tables[entity]
        if len(parts) == 1:
            record = table.get(parts[0].lower())
            if record is not None:
                return record
        if len(parts) == len(table.entity.keys):
            record = table.find(tuple(part.casefold() for part in parts))
            if record is not None:
                return record
        raise NotFound(f"No {entity} with keys {'/'.join(parts)!r} exists.")

    def is_branch(self, code: str) -> bool:
        return code.casefold() in {b.casefold() for b in self.branches}

    def default_branch(self) -> str:
        """The branch a caller works in unless it names one: HQ, else the first branch."""
        return DEFAULT_BRANCH if self.is_branch(DEFAULT_BRANCH) else next(iter(self.branches))

    # -- writes -------------------------------------------------------------------------
    def upsert(
        self,
        entity: str,
        patch: dict[str, Any],
        *,
        insert_only: bool,
        update_only: bool,
        branch: str,
        rules: TenantRules,
    ) -> Record:
        """Create or update one record from a decoded PUT body (see the module docstring)."""
        definition = ENTITIES[entity]
        table = self.tables[entity]
        errors = self.check_references(entity, patch, ())
        patch = {k: v for k, v in patch.items() if k not in computed_fields(entity)}
        self._check_account_status(entity, patch, errors)
        existing = self._target(definition, table, patch, errors)
        if insert_only and existing is not None:
            raise PreconditionFailed(
                f"{entity} {'/'.join(self._keys(definition, existing.values))} already exists "
                "and If-None-Match: * asks for an insert only; read it instead."
            )
        if update_only and existing is None:
            raise PreconditionFailed(
                f"No {entity} matches the record sent and If-Match: * asks for an update only."
            )
        values = merge(entity, existing.values if existing else {}, patch)
        if existing is None:
            self._apply_defaults(definition, values, branch, rules, errors)
        errors.extend(self._business_errors(definition, values, existing, rules))
        if errors:
            raise Invalid(errors)
        number = definition.number_field
        if existing is None and definition.numbered and not values.get(number):
            values[number] = table.take_number()
        return self._commit(definition, table, existing, values)

    def locate(self, entity: str, keys: dict[str, Any]) -> Record:
        """The record an action's ``entity`` names, by ``id`` or key fields (a document's
        type defaults to the first one, as the screen's does)."""
        definition = ENTITIES[entity]
        table = self.tables[entity]
        record = table.get(str(keys["id"])) if "id" in keys else None
        if record is None:
            defaults = {definition.type_field: definition.types[0]} if definition.types else {}
            key = table.key_of({**defaults, **keys})
            record = table.find(key) if key is not None else None
        if record is None:
            raise NotFound(f"No {entity} matches the keys sent with the action.")
        return record

    def label(self, entity: str, record: Record) -> str:
        """``Bill Bill 000001``: how messages name a record."""
        return " ".join([entity, *self._keys(ENTITIES[entity], record.values)])

    def release(self, entity: str, keys: dict[str, Any]) -> Record:
        """Release a document (ReleaseBill/ReleaseInvoice/ReleasePayment)."""
        return self.release_record(entity, self.locate(entity, keys))

    def release_record(self, entity: str, record: Record) -> Record:
        definition = ENTITIES[entity]
        label = self.label(entity, record)
        if record.released:
            raise Invalid([FieldError(("Status",), f"{label} is already released.")])
        if record.values.get("Hold"):
            raise Invalid(
                [
                    FieldError(
                        ("Hold",), f"{label} is on hold; set Hold to false before releasing it."
                    )
                ]
            )
        problems = release_errors(entity, record.values, label)
        if problems:
            raise Invalid(problems)
        record.released = True
        self._derive(definition, record)
        self._touch(definition, record)
        if entity == "Check":
            self._refresh_paid_bills(record)
        return record

    def delete(self, entity: str, parts: list[str]) -> None:
        record = self.find(entity, parts)
        self.tables[entity].delete(record)
        self.files.forget(record.id)
        if entity == "Payment":
            self._refresh_invoices(self.applications.record(record.id, []))

    def seed_record(self, entity: str, values: dict[str, Any], moment: datetime) -> Record:
        """Store a generated record as if it had been saved at ``moment``."""
        definition = ENTITIES[entity]
        record = Record(values["id"], values, moment)
        self._stamp(definition, record)
        self.tables[entity].put(record)
        self.clock.at_least(moment)
        return record

    # -- changes made by actions ---------------------------------------------------------
    def save(self, entity: str, record: Record) -> Record:
        """Recompute and stamp a record an action changed."""
        self._derive(ENTITIES[entity], record)
        if entity == "SalesOrder":
            credit_hold(record.values, self.tables["Customer"])
        self._touch(ENTITIES[entity], record)
        self.tables[entity].put(record)
        return record

    def insert_system_document(self, entity: str, values: dict[str, Any]) -> Record:
        """Store a document the system made (a voiding check), released as it is made."""
        record = Record(values["id"], values, self.clock.now())
        record.released = True
        self._touch(ENTITIES[entity], record, created=True)
        self.tables[entity].put(record)
        return record

    def void(self, entity: str, record: Record) -> None:
        """Mark a released payment or check Voided and undo what it paid."""
        record.values["Status"] = "Voided"
        self._touch(ENTITIES[entity], record)
        if entity == "Payment":
            self._refresh_invoices(self.applications.record(record.id, []))
        elif entity == "Check":
            self._refresh_paid_bills(record)

    def next_shipment_number(self) -> str:
        self._shipment_numbers += 1
        return f"{self._shipment_numbers:06d}"

    # -- references ---------------------------------------------------------------------
    def check_references(
        self, schema: str, plain: dict[str, Any], path: tuple[str | int, ...]
    ) -> list[FieldError]:
        """Errors for every reference in ``plain`` that names nothing; found references are
        rewritten to the stored spelling (keys are case-insensitive on input)."""
        errors: list[FieldError] = []
        references = REFERENCES.get(schema, {})
        for name, value in list(plain.items()):
            field = fields_of(schema).get(name)
            if field is None:
                continue
            if field.kind == "list" and field.target is not None:
                for index, row in enumerate(value):
                    errors.extend(self.check_references(field.target, row, (*path, name, index)))
            elif field.kind == "obj" and field.target is not None:
                errors.extend(self.check_references(field.target, value, (*path, name)))
            elif name in references and isinstance(value, str) and value:
                canonical = self._resolve(references[name], value)
                if canonical is None:
                    errors.append(
                        FieldError((*path, name), _not_found(name, references[name], value))
                    )
                else:
                    plain[name] = canonical
        return errors

    def _resolve(self, target: str, value: str) -> str | None:
        if target == BRANCH:
            return next((b for b in self.branches if b.casefold() == value.casefold()), None)
        if target == TERMS_ID:
            return next((t for t in TERMS if t.casefold() == value.casefold()), None)
        if target == ITEM:
            return self._resolve("StockItem", value) or self._resolve("NonStockItem", value)
        table = self.tables["Account" if target == CASH_ACCOUNT else target]
        record = table.find((value.casefold(),))
        if record is None or (target == CASH_ACCOUNT and not record.values.get("CashAccount")):
            return None
        key: str = record.values[table.entity.keys[0]]
        return key

    # -- upsert steps -------------------------------------------------------------------
    def _target(
        self,
        definition: EntityDef,
        table: Table,
        patch: dict[str, Any],
        errors: list[FieldError],
    ) -> Record | None:
        for name in definition.keys:
            if definition.uppercase_keys and isinstance(patch.get(name), str):
                patch[name] = patch[name].upper()
        kind = definition.type_field
        if definition.types and kind in patch and patch[kind] not in definition.types:
            errors.append(
                FieldError(
                    (kind,),
                    f"'{kind}' must be one of {', '.join(definition.types)}; got {patch[kind]!r}.",
                )
            )
        if "id" in patch:
            existing = table.get(patch["id"])
            if existing is None:
                raise NotFound(f"No {definition.name} has id {patch['id']}.")
            for name in definition.keys:
                sent, stored = patch.get(name), existing.values.get(name)
                if (
                    isinstance(sent, str)
                    and isinstance(stored, str)
                    and (sent.casefold() != stored.casefold())
                ):
                    errors.append(
                        FieldError(
                            (name,),
                            f"'{name}' is a key and cannot be changed "
                            f"from {stored!r} by PUT; use the ChangeID action.",
                        )
                    )
            return existing
        if definition.types:
            patch.setdefault(kind, definition.types[0])
        key = table.key_of(patch)
        return table.find(key) if key is not None else None

    @staticmethod
    def _check_account_status(entity: str, patch: dict[str, Any], errors: list[FieldError]) -> None:
        allowed = ACCOUNT_STATUSES.get(entity)
        status = patch.get("Status")
        if allowed is not None and status is not None and status not in allowed:
            errors.append(
                FieldError(
                    ("Status",), f"'{status}' is not a valid {entity} status: {', '.join(allowed)}."
                )
            )

    def _apply_defaults(
        self,
        definition: EntityDef,
        values: dict[str, Any],
        branch: str,
        rules: TenantRules,
        errors: list[FieldError],
    ) -> None:
        if definition.name in ("Customer", "Vendor"):
            values.setdefault("Status", "Active")
        if definition.name in ("Account", "Subaccount"):
            values.setdefault("Active", True)
        for name, default in definition.defaults:
            values.setdefault(name, default)
        if not definition.numbered:
            return
        number = definition.number_field
        sequence = NUMBERING_OF[definition.name]
        if not rules.is_manual(sequence):
            values.pop(number, None)  # the numbering sequence assigns it on save
        elif not values.get(number):
            errors.append(
                FieldError(
                    (number,),
                    f"'{number}' cannot be empty: the numbering sequence {sequence} is manual.",
                )
            )
        fields = fields_of(definition.name)
        if "Hold" in fields:
            values.setdefault("Hold", False)
        if "CurrencyID" in fields:
            values.setdefault("CurrencyID", "USD")
        today = self.clock.now().replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
        date_field = "ApplicationDate" if definition.name == "Payment" else definition.date_field
        values.setdefault(date_field, today)
        branch_field = next((f for f in ("BranchID", "Branch") if f in fields), None)
        if branch_field is not None:
            values.setdefault(branch_field, branch)
        apply_terms(definition.name, values, self.tables)

    def _business_errors(
        self,
        definition: EntityDef,
        values: dict[str, Any],
        existing: Record | None,
        rules: TenantRules,
    ) -> list[FieldError]:
        errors = [
            FieldError((name,), f"'{name}' cannot be empty; a {definition.name} needs it.")
            for name in definition.required
            if values.get(name) in (None, "")
        ]
        if definition.name == "Account" and values.get("Type") not in (None, *ACCOUNT_TYPES):
            errors.append(
                FieldError(
                    ("Type",),
                    f"'Type' must be one of {', '.join(ACCOUNT_TYPES)}; got {values['Type']!r}.",
                )
            )
        if definition.name == "Bill" and rules.reject_duplicate_vendor_ref:
            errors.extend(self._duplicate_vendor_ref(values, existing))
        if definition.name == "Payment":
            errors.extend(
                application_errors(
                    values,
                    self.tables["Invoice"],
                    self.applications,
                    rules.applications_require_release,
                )
            )
        if definition.name == "Check":
            errors.extend(check_applications(values, self.tables["Bill"]))
        if existing is not None and existing.values.get("Status") in FINAL_STATUSES:
            label = " ".join([definition.name, *self._keys(definition, existing.values)])
            errors.append(
                FieldError(
                    ("Status",),
                    f"{label} is {existing.values['Status']}; it cannot be changed any more.",
                )
            )
        return errors

    def _duplicate_vendor_ref(
        self, values: dict[str, Any], existing: Record | None
    ) -> list[FieldError]:
        ref, vendor = values.get("VendorRef"), values.get("Vendor")
        if not isinstance(ref, str) or not ref:
            return []
        for record in self.tables["Bill"].records.values():
            if record is existing or record.values.get("Vendor") != vendor:
                continue
            if str(record.values.get("VendorRef", "")).casefold() == ref.casefold():
                number = record.values.get("ReferenceNbr")
                return [
                    FieldError(
                        ("VendorRef",),
                        f"Vendor {vendor} already has bill {number} "
                        f"with Vendor Ref. {ref!r}; update that bill instead.",
                    )
                ]
        return []

    def _commit(
        self,
        definition: EntityDef,
        table: Table,
        existing: Record | None,
        values: dict[str, Any],
    ) -> Record:
        record = existing or Record(values["id"], values, self.clock.now())
        record.values = values
        self._derive(definition, record)
        if definition.name == "SalesOrder":
            credit_hold(values, self.tables["Customer"])
        self._touch(definition, record, created=existing is None)
        table.put(record)
        if definition.name == "Payment":
            rows = values.get("DocumentsToApply") or []
            self._refresh_invoices(self.applications.record(record.id, rows))
        return record

    def _derive(self, definition: EntityDef, record: Record) -> None:
        applied = 0.0
        if definition.name == "Invoice":
            key = invoice_key(record.values.get("Type"), record.values.get("ReferenceNbr"))
            applied = self.applications.applied(key)
        elif definition.name == "Bill":
            applied = paid_by_checks(self.tables["Check"], record.values)
        derive(definition.name, record.values, record.released, applied)

    def _refresh_paid_bills(self, check: Record) -> None:
        """A released check lowers the balance of every bill it pays (and may close it)."""
        bills = self.tables["Bill"]
        for row in check.values.get("Details") or []:
            key = (
                str(row.get("DocType", "")).casefold(),
                str(row.get("ReferenceNbr", "")).casefold(),
            )
            bill = bills.find(key)
            if bill is not None:
                self._derive(ENTITIES["Bill"], bill)
                self._touch(ENTITIES["Bill"], bill)

    def _refresh_invoices(self, keys: set[InvoiceKey]) -> None:
        invoices = self.tables["Invoice"]
        for key in keys:
            invoice = invoices.find(key)
            if invoice is None:
                continue
            before = (invoice.values.get("Balance"), invoice.values.get("Status"))
            self._derive(ENTITIES["Invoice"], invoice)
            if before != (invoice.values.get("Balance"), invoice.values.get("Status")):
                self._touch(ENTITIES["Invoice"], invoice)

    def _touch(self, definition: EntityDef, record: Record, created: bool = False) -> None:
        now = self.clock.now()
        record.modified = now
        if created:
            record.created = now
        self._stamp(definition, record)

    def _stamp(self, definition: EntityDef, record: Record) -> None:
        fields = fields_of(definition.name)
        if "LastModifiedDateTime" in fields:
            record.values["LastModifiedDateTime"] = stamp(record.modified)
        if "CreatedDateTime" in fields:
            record.values["CreatedDateTime"] = stamp(record.created)

    @staticmethod
    def _keys(definition: EntityDef, values: dict[str, Any]) -> list[str]:
        return [str(values.get(name)) for name in definition.keys]


def _not_found(field: str, target: str, value: str) -> str:
    what = {BRANCH: "branch", CASH_ACCOUNT: "cash account"}.get(target, target)
    return (
        f"'{field}' cannot be found in the system. No {what} {value!r} exists; "
        "create it first or correct the mapping."
    )
