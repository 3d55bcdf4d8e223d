"""The Import Set API: ``/api/now/import/{staging}`` (one row, transformed synchronously),
``…/{staging}/insertMultiple`` (transformed later, answers only the set ids) and
``GET …/{staging}/{sys_id}`` (the row's transform result, 404 once staging rows are purged).

Values must be strings. A row that fails to transform still answers with the HTTP status of
the knob ``import_error_http_status`` (201 by default): the outcome is in
``result[].status``. Single-row inserts share one synchronous import set per staging table;
every ``insertMultiple`` call opens its own asynchronous set.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from connector.sandbox.base import json_response, read_json
from connector.sandbox.servicenow.knobs import ServiceNowKnobs
from connector.sandbox.servicenow.query import Record
from connector.sandbox.servicenow.responses import no_record, sn_error
from connector.sandbox.servicenow.schema import TABLES, Staging
from connector.sandbox.servicenow.store import Instance, new_sys_id
from connector.sandbox.servicenow.transform import transform

_RUN_COUNTS = {
    "inserted": "inserts",
    "updated": "updates",
    "ignored": "ignored",
    "skipped": "skipped",
    "error": "errors",
}


class ImportRoutes:
    """Mixin of the simulator: the Import Set API handlers."""

    knobs: ServiceNowKnobs
    instance: Instance
    base_url: str

    def __init__(self) -> None:
        self._sync_sets: dict[str, Record] = {}
        self._pending: set[asyncio.Handle] = set()

    def cancel_pending_transforms(self) -> None:
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
        self._sync_sets = {}

    def _open_set(self, staging: Staging, mode: str, user: str) -> Record:
        import_set = self.instance.insert(
            TABLES["sys_import_set"],
            {"table_name": staging.name, "state": "loaded", "mode": mode},
            user=user,
        )
        self.instance.insert(
            TABLES["sys_import_set_run"],
            {
                "set": import_set["sys_id"],
                "transform_map": staging.map_name,
                "state": "complete",
                "total": "0",
                "inserts": "0",
                "updates": "0",
                "ignored": "0",
                "skipped": "0",
                "errors": "0",
            },
            user=user,
        )
        return import_set

    def _count(self, import_set: Record, status: str) -> None:
        run = self.instance.find("sys_import_set_run", set=import_set["sys_id"])
        if run is None:
            return
        for column in ("total", _RUN_COUNTS[status]):
            run[column] = str(int(run[column]) + 1)

    def _stage(
        self, staging: Staging, values: dict[str, str], import_set: Record, user: str
    ) -> Record:
        row = {c: values.get(c, "") for c in staging.columns}
        row |= {"sys_import_set": import_set["sys_id"], "sys_import_state": "pending"}
        return self.instance.insert(TABLES[staging.name], row, user=user)

    def _run(self, staging: Staging, row: Record, import_set: Record, user: str) -> str:
        coalesce = self.knobs.coalesce.get(staging.name, [])
        outcome = transform(self.instance, staging, row, coalesce, user)
        self._count(import_set, outcome.status)
        return outcome.status

    def _result(self, staging: Staging, row: Record) -> dict[str, Any]:
        target_table = TABLES[staging.target]
        target = self.instance.get(staging.target, row["sys_target_sys_id"])
        result: dict[str, Any] = {
            "transform_map": staging.map_name,
            "table": staging.target,
            "display_name": target_table.display,
            "display_value": target.get(target_table.display, "") if target else "",
            "record_link": (
                f"{self.base_url}/api/now/table/{staging.target}/{target['sys_id']}"
                if target
                else ""
            ),
            "status": row["sys_import_state"],
            "sys_id": target["sys_id"] if target else row["sys_id"],
        }
        if row["sys_import_state"] == "error":
            result["error_message"] = row["sys_row_error"]
        elif row["sys_import_state_comment"]:
            result["status_message"] = row["sys_import_state_comment"]
        return result

    async def import_one(self, request: web.Request, staging: Staging, user: str) -> web.Response:
        body = await read_json(request)
        values = _string_values(
            body, staging, by_label=False, store=self.knobs.import_non_strings == "store"
        )
        if isinstance(values, web.Response):
            return values
        import_set = self._sync_sets.get(staging.name)
        if import_set is None or self.instance.get("sys_import_set", import_set["sys_id"]) is None:
            import_set = self._sync_sets[staging.name] = self._open_set(
                staging, "synchronous", user
            )
        row = self._stage(staging, values, import_set, user)
        status = self._run(staging, row, import_set, user)
        http_status = self.knobs.import_error_http_status if status == "error" else 201
        return json_response(
            {
                "import_set": import_set["number"],
                "staging_table": staging.name,
                "result": [self._result(staging, row)],
            },
            http_status,
        )

    async def import_many(self, request: web.Request, staging: Staging, user: str) -> web.Response:
        body = await read_json(request)
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records:
            return sn_error(
                400,
                "Invalid request body",
                'insertMultiple takes {"records": […]} with at least one record',
            )
        import_set = self._open_set(staging, "asynchronous", user)
        rows = []
        for record in records:
            values = _string_values(
                record, staging, by_label=True, store=self.knobs.import_non_strings == "store"
            )
            if isinstance(values, web.Response):
                return values
            rows.append(self._stage(staging, values, import_set, user))

        def run_all() -> None:
            for row in rows:
                if self.instance.get(staging.name, row["sys_id"]) is not None:
                    self._run(staging, row, import_set, user)
            import_set["state"] = "processed"

        loop = asyncio.get_running_loop()
        self._pending.add(loop.call_later(self.knobs.multi_transform_delay_ms / 1000, run_all))
        return json_response(
            {"import_set_id": import_set["sys_id"], "multi_import_set_id": new_sys_id()}, 201
        )

    async def import_get(self, staging: Staging, sys_id: str) -> web.Response:
        row = self.instance.get(staging.name, sys_id)
        if row is None or self.knobs.purge_staging_rows:
            return no_record()
        import_set = self.instance.get("sys_import_set", row["sys_import_set"])
        return json_response(
            {
                "import_set": import_set["number"] if import_set else "",
                "staging_table": staging.name,
                "result": [self._result(staging, row)],
            }
        )


def _string_values(
    body: Any, staging: Staging, *, by_label: bool, store: bool
) -> dict[str, str] | web.Response:
    if not isinstance(body, dict):
        return sn_error(
            400,
            "Invalid request body",
            "Send one JSON object of staging column names and string values",
        )
    labels: dict[str, str] = staging.label_to_column() if by_label else {}
    values: dict[str, str] = {}
    for key, value in body.items():
        if not isinstance(value, str):
            if not store:
                return sn_error(
                    400,
                    "Invalid value",
                    f"Field {key!r} of {staging.name} must be "
                    f"a string, not {type(value).__name__}: the Import Set API "
                    "takes strings only",
                )
            value = _as_stored(value)
        values[labels[key] if key in labels else str(key)] = value
    return values


def _as_stored(value: Any) -> str:
    """A non-string value as an instance stores it (documented: ':' in objects becomes '=')."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_as_stored(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_as_stored(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
