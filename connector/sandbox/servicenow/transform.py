"""Transform maps: one staging row becomes (or updates) one target row, synchronously.

A row's outcome is written on the row itself (``sys_import_state``: ``inserted``,
``updated``, ``ignored``, ``skipped``, ``error``; ``sys_row_error`` / comment) and counted on
the import set's run. Missing mandatory fields, or a reference that names no existing record
(a supplier, GL account, cost center, legal entity, parent header), make the row ``error``.
Without coalesce columns (the default) every row inserts a new target row, so a replay
duplicates; with them a replay updates the match, or is ``ignored`` when nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.sandbox.servicenow.query import Record
from connector.sandbox.servicenow.schema import TABLES, Staging
from connector.sandbox.servicenow.store import Instance


@dataclass
class Outcome:
    status: str
    target: Record | None
    message: str = ""


def transform(
    instance: Instance, staging: Staging, row: Record, coalesce: list[str], user: str
) -> Outcome:
    """Run the map on ``row`` (already stored in the staging table) and record the outcome."""
    outcome = _apply(instance, staging, row, coalesce, user)
    row["sys_import_state"] = outcome.status
    row["sys_target_table"] = staging.target
    row["sys_transform_map"] = staging.map_name
    row["sys_target_sys_id"] = outcome.target["sys_id"] if outcome.target else ""
    row["sys_row_error"] = outcome.message if outcome.status == "error" else ""
    row["sys_import_state_comment"] = outcome.message
    return outcome


def _apply(
    instance: Instance, staging: Staging, row: Record, coalesce: list[str], user: str
) -> Outcome:
    missing = [c for c in staging.mandatory if not row.get(c)]
    if missing:
        named = ", ".join(f"{staging.columns[c][0]} ({c})" for c in missing)
        return Outcome("error", None, f"Mandatory field(s) missing: {named}")
    values = {
        target: row[column]
        for column, (_, target) in staging.columns.items()
        if target is not None and row.get(column)
    }
    for column, (table, lookups) in staging.resolve.items():
        if not row.get(column):
            continue
        found = next(
            (
                r
                for r in instance.table_rows(table)
                if any(r.get(key) == row[column] for key in lookups)
            ),
            None,
        )
        if found is None:
            return Outcome(
                "error",
                None,
                f"{staging.columns[column][0]} {row[column]!r} matches "
                f"no {table} record by {' or '.join(lookups)}; load it first",
            )
        values[staging.columns[column][1] or column] = found["sys_id"]
    if staging.parent is not None:
        target_column, table, pairs = staging.parent
        parent = instance.find(table, **{key: row.get(col, "") for col, key in pairs})
        if parent is None:
            keys = ", ".join(f"{col}={row.get(col, '')!r}" for col, _ in pairs)
            return Outcome("error", None, f"no {table} header with {keys}; import the header first")
        values[target_column] = parent["sys_id"]
    if staging.target == "sn_fin_supplier":
        company = instance.find("core_company", name=row["company"]) or instance.insert(
            TABLES["core_company"], {"name": row["company"], "vendor": "true"}, user=user
        )
        values["company"] = company["sys_id"]
        values.setdefault("name", row["company"])
    if staging.target == "sn_shop_invoice":
        values.setdefault("state", "draft")
    target_table = TABLES[staging.target]
    if coalesce:
        match = {staging.columns[c][1] or c: row.get(c, "") for c in coalesce}
        if not all(match.values()):
            return Outcome(
                "skipped",
                None,
                f"coalesce value missing: {', '.join(k for k, v in match.items() if not v)}",
            )
        existing = instance.find(staging.target, **match)
        if existing is not None:
            if all(existing.get(k) == v for k, v in values.items()):
                return Outcome("ignored", existing, "No field values changed")
            instance.update(target_table, existing, values, user=user)
            return Outcome("updated", existing)
    return Outcome("inserted", instance.insert(target_table, values, user=user))
