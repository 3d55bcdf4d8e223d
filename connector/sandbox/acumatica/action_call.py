"""What every action handler receives, and how it refuses (shared by the action modules)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connector.sandbox.acumatica.store import Record
from connector.sandbox.acumatica.tenant import Invalid, Tenant, TenantRules
from connector.sandbox.acumatica.values import FieldError


@dataclass
class ActionCall:
    """One invocation: the record acted on and the action's parameters (plain values)."""

    tenant: Tenant
    entity: str
    record: Record
    params: dict[str, Any]
    rules: TenantRules
    branch: str

    @property
    def values(self) -> dict[str, Any]:
        return self.record.values

    @property
    def label(self) -> str:
        return self.tenant.label(self.entity, self.record)

    def refuse(self, message: str, field: str = "Status") -> Invalid:
        """The 422 an action answers when the record is not in a state it applies to."""
        return Invalid([FieldError((field,), message)])


#: An action returns the record its finished operation points at (a new document or the
#: record acted on).
Action = Callable[[ActionCall], Record]


def plain_parameters(raw: Any) -> dict[str, Any]:
    """``{"ShipmentDate": {"value": …}}`` → ``{"ShipmentDate": …}`` (custom fields dropped)."""
    if not isinstance(raw, dict):
        return {}
    return {
        name: value.get("value")
        for name, value in raw.items()
        if isinstance(value, dict) and name != "custom"
    }
