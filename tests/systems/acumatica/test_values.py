"""Value objects: the models wrap on write and unwrap on read, driven by their own types."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import msgspec
import pytest

from connector.sandbox.acumatica.schema import SCHEMAS
from connector.systems.acumatica import models as m
from connector.systems.acumatica.client import odata_datetime, odata_string
from connector.systems.acumatica.problems import field_problems
from connector.systems.acumatica.values import (
    decode_record,
    encode_record,
    expand_paths,
    shape_of,
)

#: Each model and the contract schema (Default/24.200.001) it mirrors.
CONTRACT = {
    m.Customer: "Customer",
    m.Vendor: "Vendor",
    m.Contact: "Contact",
    m.Address: "Address",
    m.Account: "Account",
    m.Subaccount: "Subaccount",
    m.Invoice: "Invoice",
    m.InvoiceDetail: "InvoiceDetail",
    m.Payment: "Payment",
    m.PaymentDetail: "PaymentDetail",
    m.Bill: "Bill",
    m.BillDetail: "BillDetail",
    m.Branch: "CompaniesStructureDetail",
    m.CompaniesStructure: "CompaniesStructure",
}


@pytest.mark.parametrize("model", list(CONTRACT), ids=lambda model: model.__name__)
def test_every_model_field_is_a_field_of_the_contract(model: type[msgspec.Struct]) -> None:
    """Wire names come from the OpenAPI definition: a typo would be a 422 in production."""
    contract = SCHEMAS[CONTRACT[model]]
    for field in shape_of(model):
        if field.wire in ("id", "note"):
            continue
        assert field.wire in contract, f"{model.__name__}.{field.attr} → {field.wire}"


def test_write_wraps_every_field_and_leaves_out_unset_and_computed_ones() -> None:
    """Scalars become {"value": …}; None and ReadOnly fields are not sent at all."""
    bill = m.Bill(
        type="Bill",
        vendor="V10001",
        vendor_ref="INV-1",
        branch_id="HQ",
        date=dt.date(2026, 1, 15),
        hold=False,
        status="Open",
        amount=Decimal("99"),
        details=[m.BillDetail(qty=Decimal("2"), unit_cost=Decimal("10.10"), po_line=3)],
    )
    body = json.loads(encode_record(bill))
    assert body == {
        "Type": {"value": "Bill"},
        "Vendor": {"value": "V10001"},
        "VendorRef": {"value": "INV-1"},
        "BranchID": {"value": "HQ"},
        "Date": {"value": "2026-01-15"},
        "Hold": {"value": False},
        "Details": [{"Qty": {"value": 2}, "UnitCost": {"value": 10.10}, "POLine": {"value": 3}}],
    }


def test_decimals_go_out_as_exact_json_numbers() -> None:
    """DecimalValue is a JSON number; the text is the Decimal's, with no float rounding."""
    line = m.InvoiceDetail(unit_price=Decimal("1234567.89"))
    assert encode_record(line) == b'{"UnitPrice":{"value":1234567.89}}'


def test_nested_entities_are_objects_of_value_objects() -> None:
    """A linked entity is a plain object whose own fields are value objects."""
    customer = m.Customer(
        customer_id="C1",
        main_contact=m.Contact(email="a@b.example", address=m.Address(city="Denver")),
    )
    assert json.loads(encode_record(customer)) == {
        "CustomerID": {"value": "C1"},
        "MainContact": {
            "Email": {"value": "a@b.example"},
            "Address": {"City": {"value": "Denver"}},
        },
    }


def test_read_unwraps_values_and_keeps_the_document_day() -> None:
    """{} is None, numbers are exact Decimals, a midnight date keeps its day, extras ignored."""
    line_id = "5c7b2d1e-0000-4000-8000-000000000002"
    body = {
        "id": "5c7b2d1e-0000-4000-8000-000000000001",
        "rowNumber": 1,
        "note": {"value": ""},
        "Type": {"value": "Invoice"},
        "Customer": {"value": "C20001"},
        "Date": {"value": "2026-01-15T00:00:00-05:00"},
        "DueDate": {},
        "Amount": {"value": 0.1},
        "LastModifiedDateTime": {"value": "2026-01-15T10:00:00.123+00:00"},
        "NotInTheModel": {"value": "ignored"},
        "Details": [{"id": line_id, "Qty": {"value": 3}}],
        "custom": {},
        "_links": {"self": "/x"},
    }
    invoice = decode_record(json.dumps(body).encode(), m.Invoice)
    assert invoice.customer == "C20001"
    assert invoice.date == dt.date(2026, 1, 15)
    assert invoice.due_date is None
    assert invoice.amount == Decimal("0.1")
    assert invoice.last_modified_date_time == dt.datetime(
        2026, 1, 15, 10, 0, 0, 123000, tzinfo=dt.UTC
    )
    assert invoice.details == [m.InvoiceDetail(id=line_id, qty=Decimal(3))]


def test_read_rejects_a_value_of_the_wrong_type() -> None:
    """A string where the contract has a number is a decode error, not a silent None."""
    with pytest.raises(msgspec.ValidationError):
        decode_record(b'{"Amount": {"value": "lots"}}', m.Bill)


def test_expand_paths_cover_every_linked_entity_and_detail() -> None:
    """The default $expand reads back everything the model declares."""
    assert expand_paths(m.Customer) == ("MainContact", "MainContact/Address")
    assert expand_paths(m.Bill) == ("Details",)
    assert expand_paths(m.Payment) == ("DocumentsToApply",)
    assert expand_paths(m.Account) == ()


def test_field_problems_name_header_and_detail_fields() -> None:
    """A 422 echo yields every blamed field, detail lines as Details[i].Field."""
    echoed = {
        "Vendor": {"value": "NOPE", "error": "'Vendor' cannot be found in the system."},
        "Details": [
            {"Account": {"value": "50000"}},
            {},
            {"Account": {"value": "99999", "error": "'Account' cannot be found."}},
        ],
        "error": "Bill record raised at least one error.",
    }
    assert [tuple(p) for p in field_problems(echoed)] == [
        ("Vendor", "'Vendor' cannot be found in the system."),
        ("Details[2].Account", "'Account' cannot be found."),
    ]


def test_filter_literals_are_quoted_safely() -> None:
    """Single quotes are doubled; date-times carry their offset; naive ones are refused."""
    assert odata_string("O'Brien's") == "'O''Brien''s'"
    moment = dt.datetime(2026, 1, 15, 10, 0, 0, 123000, tzinfo=dt.UTC)
    assert odata_datetime(moment) == "datetimeoffset'2026-01-15T10:00:00.123000+00:00'"
    with pytest.raises(ValueError, match="time zone"):
        odata_datetime(dt.datetime(2026, 1, 15))
