"""Requests generated from Acumatica's endpoint definition for the contract test (no tests here).

Every request is valid against the definition (right paths, parameter types and value-object
types), with values drawn at random: names of fields the schema has and has not, keys of
records that exist and do not, amounts, dates, flags. Which operations the simulator serves
is derived from the definition's ``operationId``s, so a served operation without cases is a
test failure, not a silent gap.
"""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.sandbox.acumatica.definition import document, schema_fields

#: The seeded company's records a request can name (see ``seed.py``): enough to reach 200s.
VALID_BODIES: dict[str, dict[str, Any]] = {
    "Customer": {"CustomerName": "Generated Customer"},
    "Vendor": {"VendorName": "Generated Vendor"},
    "Account": {"Type": "Expense", "Description": "Generated"},
    "Subaccount": {"Description": "Generated"},
    "ItemClass": {"Description": "Generated"},
    "StockItem": {"Description": "Generated part", "ItemClass": "PARTS"},
    "NonStockItem": {"Description": "Generated service", "ItemClass": "SERVICES"},
    "Bill": {"Vendor": "V10001", "VendorRef": "GEN-1", "Description": "Generated"},
    "Invoice": {"Customer": "C20001", "Description": "Generated"},
    "Payment": {"CustomerID": "C20001", "CashAccount": "10100", "PaymentAmount": 10.0},
    "SalesOrder": {"CustomerID": "C20001", "Description": "Generated"},
    "JournalTransaction": {"Description": "Generated"},
    "Check": {"Vendor": "V10001", "CashAccount": "10100", "PaymentAmount": 10.0},
}
#: Detail lines that make a valid document of each kind, for records the cases can act on.
DETAIL_LINES: dict[str, list[dict[str, Any]]] = {
    "Bill": [{"Account": "50000", "Subaccount": "HVAC-NORTH", "Qty": 1.0, "UnitCost": 90.0}],
    "Invoice": [{"Account": "40000", "Subaccount": "HVAC-NORTH", "Qty": 1.0,
                 "UnitPrice": 150.0}],
    "SalesOrder": [{"InventoryID": "P30001", "OrderQty": 2.0, "UnitPrice": 20.0}],
    "JournalTransaction": [
        {"Account": "61000", "Subaccount": "HVAC-NORTH", "DebitAmount": 50.0},
        {"Account": "21000", "Subaccount": "HVAC-NORTH", "CreditAmount": 50.0}],
}
#: Key fields, in URL order, of the entities the simulator stores.
KEYS: dict[str, tuple[str, ...]] = {
    "Customer": ("CustomerID",), "Vendor": ("VendorID",), "Account": ("AccountCD",),
    "Subaccount": ("SubaccountCD",), "ItemClass": ("ClassID",),
    "StockItem": ("InventoryID",), "NonStockItem": ("InventoryID",),
    "Bill": ("Type", "ReferenceNbr"), "Invoice": ("Type", "ReferenceNbr"),
    "Payment": ("Type", "ReferenceNbr"), "SalesOrder": ("OrderType", "OrderNbr"),
    "JournalTransaction": ("Module", "BatchNbr"), "Check": ("Type", "ReferenceNbr"),
}
#: The inquiry entity the simulator serves besides the stored ones.
INQUIRY = "CompaniesStructure"
#: Screen actions a custom action may name (Hold/Remove Hold exist on documents only).
CUSTOM_ACTIONS = ("putOnHold", "releaseFromHold", "Hold", "RemoveHold")
#: Card transaction codes CardOperation takes (plus, at random, a wrong one).
CARD_CODES = ("AUT", "AAC", "PAC", "CDT", "VDG")
#: Value-object schema → the scalar kind a generated value takes.
_VALUE_KINDS = {"StringValue": "str", "DecimalValue": "dec", "DateTimeValue": "dt",
                "BooleanValue": "bool", "IntValue": "int", "LongValue": "int",
                "ShortValue": "int", "GuidValue": "guid", "DoubleValue": "dec"}


def served_operations() -> list[str]:
    """Every operationId the definition documents for the served entities and the inquiry,
    in definition order: the simulator answers all of them."""
    entities = {*KEYS, INQUIRY}
    found = [operation["operationId"] for item in document()["paths"].values()
             for operation in item.values()]
    return [op for op in found if op.partition("_")[0] in entities]


def action_parameters(action: str) -> dict[str, str]:
    """The documented parameters of a named action, by name → scalar kind."""
    schema = document()["components"]["schemas"].get(action, {})
    params = schema.get("properties", {}).get("parameters", {}).get("properties", {})
    return {name: _VALUE_KINDS.get(spec.get("$ref", "").rsplit("/", 1)[-1], "str")
            for name, spec in params.items()}


@dataclass
class Case:
    """One request: what is sent, and the documented path the validator matches it against."""

    operation: str
    method: str
    path: str
    documented_path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw: bytes | None = None
    """A file's content (PutFile sends bytes, not JSON)."""


@dataclass
class Known:
    """Keys and ids of records that exist, gathered from the simulator before generating."""

    keys: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)


class Generator:
    """Random, seeded, definition-valid requests for one operation at a time."""

    def __init__(self, rng: random.Random, known: Known) -> None:
        self.rng = rng
        self.known = known

    def case(self, operation: str) -> Case:
        entity, _, name = operation.partition("_")
        if name == "PutFile":
            return self._put_file(operation, entity)
        if name == "InvokeAction_CustomAction":
            action = self.rng.choice([*CUSTOM_ACTIONS, self._word()])
            body: dict[str, Any] = {"entity": self._key_body(entity)}
            if self.rng.random() < 0.5:
                body["parameters"] = {"custom": {}}
            return Case(operation, "POST", f"/{entity}/{action}", f"/{entity}/{action}",
                        body=body)
        if name.startswith("InvokeAction_"):
            action = name.removeprefix("InvokeAction_")
            body = {"entity": self._key_body(entity)}
            kinds = action_parameters(action)
            if kinds:
                body["parameters"] = self._parameters(action, kinds)
            return Case(operation, "POST", f"/{entity}/{action}", f"/{entity}/{action}",
                        body=body)
        if name == "GetAdHocSchema":
            path = f"/{entity}/$adHocSchema"
            return Case(operation, "GET", path, path)
        if name == "GetList":
            return Case(operation, "GET", f"/{entity}", f"/{entity}",
                        query=self._list_query(entity))
        if name == "PutEntity":
            return self._put(operation, entity)
        if name.endswith("ById"):
            record_id = self._pick(self.known.ids.get(entity, []), self._uuid())
            path = f"/{entity}/{record_id}"
            return Case(operation, "GET" if name == "GetById" else "DELETE", path, path,
                        query=self._shape_query(entity) if name == "GetById" else {})
        keys = self._pick(self.known.keys.get(entity, []), self._random_keys(entity))
        joined = "|".join(keys)
        sent = joined if self.rng.random() < 0.5 else "/".join(keys)
        return Case(operation, "GET" if name == "GetByKeys" else "DELETE", f"/{entity}/{sent}",
                    f"/{entity}/{joined}",
                    query=self._shape_query(entity) if name == "GetByKeys" else {})

    def _put_file(self, operation: str, entity: str) -> Case:
        keys = self._pick(self.known.keys.get(entity, []), self._random_keys(entity))
        joined = "|".join(keys)
        sent = joined if self.rng.random() < 0.5 else "/".join(keys)
        name = self.rng.choice(["scan.pdf", "photo.jpg", "notes.txt", f"{self._word()}.csv"])
        content = bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(0, 64)))
        return Case(operation, "PUT", f"/{entity}/{sent}/files/{name}",
                    f"/{entity}/{joined}/files/{name}", raw=content)

    def _parameters(self, action: str, kinds: dict[str, str]) -> dict[str, Any]:
        """Values for an action's parameters: mostly all of them, sometimes a few."""
        chosen = [n for n in kinds if self.rng.random() < 0.8]
        values: dict[str, Any] = {n: {"value": self._scalar(kinds[n])} for n in chosen}
        if action == "CardOperation" and "TranType" in values and self.rng.random() < 0.8:
            values["TranType"] = {"value": self.rng.choice(CARD_CODES)}
        return values

    # -- query options ------------------------------------------------------------------
    def _list_query(self, entity: str) -> dict[str, str]:
        query = self._shape_query(entity)
        if self.rng.random() < 0.6:
            query["$top"] = str(self.rng.randint(0, 8))
        if self.rng.random() < 0.4:
            query["$skip"] = str(self.rng.randint(0, 30))
        if self.rng.random() < 0.5:
            query["$filter"] = self._filter(entity)
        return query

    def _shape_query(self, entity: str) -> dict[str, str]:
        fields = schema_fields(entity)
        query: dict[str, str] = {}
        nested = [n for n, f in fields.items() if f.target is not None]
        if nested and self.rng.random() < 0.4:
            query["$expand"] = ",".join(self.rng.sample(nested, min(2, len(nested))))
        if self.rng.random() < 0.4:
            names = [*self.rng.sample(list(fields), min(3, len(fields)))]
            if self.rng.random() < 0.1:
                names.append(self._word())  # a field the entity lacks: an error answer
            query["$select"] = ",".join(names)
        return query

    def _filter(self, entity: str) -> str:
        scalars = [f for f in schema_fields(entity).values() if f.target is None]
        if not scalars or self.rng.random() < 0.1:
            return f"{self._word()} eq 'x'"
        chosen = self.rng.choice(scalars)
        operator = self.rng.choice(["eq", "ne", "gt", "ge", "lt", "le"])
        literal = {
            "str": lambda: "'" + self._word() + "'",
            "dec": lambda: str(round(self.rng.uniform(0, 1000), 2)),
            "int": lambda: str(self.rng.randint(0, 1000)),
            "bool": lambda: self.rng.choice(["true", "false"]),
            "dt": lambda: f"datetimeoffset'{self._moment()}'".replace("+", "%2B"),
            "guid": lambda: f"guid'{self._uuid()}'",
        }[chosen.kind]()
        return f"{chosen.name} {operator} {literal}"

    # -- bodies -------------------------------------------------------------------------
    def _put(self, operation: str, entity: str) -> Case:
        if entity == INQUIRY:
            return Case(operation, "PUT", f"/{entity}", f"/{entity}",
                        query={"$expand": "Results"}, body={})
        body: dict[str, Any] = {}
        if self.rng.random() < 0.7:
            body = {name: {"value": v} for name, v in VALID_BODIES[entity].items()}
            existing = self.known.keys.get(entity, [])
            if existing and self.rng.random() < 0.3:
                body |= self._key_values(entity, self.rng.choice(existing))
            elif len(KEYS[entity]) == 1:
                body[KEYS[entity][0]] = {"value": f"G{self.rng.randint(10000, 99999)}"}
        for name in self.rng.sample(list(schema_fields(entity)), 2):
            body[name] = self._value(entity, name, depth=0)
        headers = {}
        condition = self.rng.random()
        if condition < 0.15:
            headers["If-None-Match"] = "*"
        elif condition < 0.3:
            headers["If-Match"] = "*"
        return Case(operation, "PUT", f"/{entity}", f"/{entity}",
                    query=self._shape_query(entity), headers=headers, body=body)

    def _value(self, schema: str, name: str, depth: int) -> Any:
        spec = schema_fields(schema)[name]
        if spec.target is None:
            return {"value": self._scalar(spec.kind)}
        if depth > 0:
            return {} if spec.kind == "obj" else []
        fields = list(schema_fields(spec.target))
        if spec.kind == "obj":
            return {n: self._value(spec.target, n, depth + 1)
                    for n in self.rng.sample(fields, min(2, len(fields)))}
        return [{n: self._value(spec.target, n, depth + 1)
                 for n in self.rng.sample(fields, min(2, len(fields)))}
                for _ in range(self.rng.randint(0, 2))]

    def _scalar(self, kind: str) -> Any:
        return {
            "str": self._word,
            "dec": lambda: round(self.rng.uniform(0, 1000), 2),
            "int": lambda: self.rng.randint(0, 1000),
            "bool": lambda: self.rng.random() < 0.5,
            "dt": self._moment,
            "guid": self._uuid,
        }[kind]()

    def _key_body(self, entity: str) -> dict[str, Any]:
        keys = self._pick(self.known.keys.get(entity, []), self._random_keys(entity))
        return self._key_values(entity, keys)

    def _key_values(self, entity: str, keys: tuple[str, ...]) -> dict[str, Any]:
        names = KEYS.get(entity, ())
        return {name: {"value": key} for name, key in zip(names, keys, strict=False)}

    # -- primitive values ---------------------------------------------------------------
    def _pick(self, existing: list[Any], invented: Any) -> Any:
        return self.rng.choice(existing) if existing and self.rng.random() < 0.7 else invented

    def _random_keys(self, entity: str) -> tuple[str, ...]:
        # The inquiry has no key fields; a client can still send one segment.
        return tuple(self._word() for _ in KEYS.get(entity, ("",)))

    def _word(self) -> str:
        return "".join(self.rng.choices(string.ascii_uppercase + string.digits,
                                        k=self.rng.randint(1, 8)))

    def _moment(self) -> str:
        start = datetime(2025, 1, 1, tzinfo=UTC)
        return (start + timedelta(minutes=self.rng.randint(0, 1_000_000))).isoformat()

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
