"""The MI layer through M3Client: company context, business errors, the envelope's quirks.

M3 answers business errors with HTTP 200 and ``errorMessage``/``errorType``/``errorCode``/
``errorField``; the client turns them into the error tree. What stops the flow (wrong
company or division, a transaction this M3 lacks) must be a ConfigurationError, what a
record can fix a RejectedError naming the field.
"""

from __future__ import annotations

import pytest

from connector.errors import ConfigurationError, RejectedError
from tests.systems.infor.conftest import InforSandbox


@pytest.mark.parametrize("company", ["300", "999"])
async def test_unusable_company_is_a_configuration_error(infor: InforSandbox, company: str) -> None:
    """Company 300 (not authorized) and 999 (unknown) stop validate_company, naming the CONO."""
    client = infor.connect(company=company).client
    with pytest.raises(ConfigurationError) as caught:
        await client.validate_company()
    assert f"company {company}" in str(caught.value)
    assert "`company`" in caught.value.message  # says which setting to fix


async def test_unknown_division_is_a_configuration_error(infor: InforSandbox) -> None:
    """Division ZZZ in company 100 stops validate_company with a message naming the division."""
    with pytest.raises(ConfigurationError) as caught:
        await infor.connect(division="ZZZ").client.validate_company()
    assert "ZZZ" in str(caught.value) and "division" in caught.value.message
    assert "`division`" in caught.value.message


async def test_division_of_another_company_is_a_configuration_error(infor: InforSandbox) -> None:
    """Division HLD exists, but in company 200: company 100 with HLD is refused at startup."""
    with pytest.raises(ConfigurationError, match="HLD"):
        await infor.connect(division="HLD").client.validate_company()


async def test_unknown_division_is_not_mistaken_for_not_found(infor: InforSandbox) -> None:
    """A look-up refused for its division raises; None would make the caller add a duplicate."""
    supplier = (await infor.entities("suppliers"))[0]["SUNO"]
    client = infor.connect(division="ZZZ").client
    with pytest.raises(RejectedError) as caught:
        await client.get_supplier(supplier)
    assert caught.value.field == "DIVI"


async def test_business_error_is_rejected_with_field_and_code(infor: InforSandbox) -> None:
    """An MI NOK (HTTP 200) becomes RejectedError with .field and .code, message unpadded."""
    client = infor.connect().client
    suno = (await infor.entities("suppliers"))[0]["SUNO"]
    with pytest.raises(RejectedError) as caught:
        await client.add_head(
            {"SUNO": suno, "IVDT": "20240612", "CUCD": "XYZ"}, record="invoice ST-1"
        )
    error = caught.value
    assert (error.field, error.system, error.record) == ("CUCD", "infor", "invoice ST-1")
    assert error.code and error.code in error.message
    assert "XYZ" in error.message and "  " not in error.message  # M3 pads; we do not
    assert (await infor.state())["counts"]["invoice_batches"] == 0


async def test_bad_date_input_is_rejected_on_its_field(infor: InforSandbox) -> None:
    """A date M3 cannot read (not yyyyMMdd) is refused on that field, nothing is written."""
    suno = (await infor.entities("suppliers"))[0]["SUNO"]
    with pytest.raises(RejectedError) as caught:
        await infor.connect().client.add_head({"SUNO": suno, "IVDT": "2024-06-12"}, record="x")
    assert caught.value.field == "IVDT" and caught.value.code


async def test_missing_mandatory_input_names_the_field(infor: InforSandbox) -> None:
    """A blank mandatory input is left out of the call, and M3's refusal names that field."""
    with pytest.raises(RejectedError) as caught:
        await infor.connect().client.add_head({"SUNO": "SUP00001", "IVDT": ""}, record="x")
    assert caught.value.field == "IVDT"
    assert "IVDT" in str(caught.value)


@pytest.mark.parametrize("style", ["http400", "ok200"])
async def test_missing_transaction_is_a_configuration_error(
    infor: InforSandbox, style: str
) -> None:
    """A transaction this M3 lacks (bare 400 or 200 TransactionNotFound) stops the flow."""
    await infor.knobs(pps200_addhead=False, unknown_transaction_style=style)
    client = infor.connect().client
    with pytest.raises(ConfigurationError) as caught:
        await client.add_purchase_order({"SUNO": "SUP00001"}, record="po 1")
    assert "PPS200MI/AddHead" in str(caught.value)
    assert "MRS001MI" in caught.value.message


async def test_was_terminated_sent_as_a_string_is_accepted(infor: InforSandbox) -> None:
    """wasTerminated "false" (a string, seen in the field) reads like the boolean."""
    await infor.knobs(was_terminated_as_string=True)
    suno = (await infor.entities("suppliers"))[0]["SUNO"]
    supplier = await infor.connect().client.get_supplier(suno)
    assert supplier is not None and supplier.SUNO == suno


async def test_outputs_are_trimmed(infor: InforSandbox) -> None:
    """M3 right-pads A fields (no righttrim sent): every value the client returns is trimmed."""
    suno = (await infor.entities("suppliers"))[0]["SUNO"]
    client = infor.connect().client
    supplier = await client.get_supplier(suno)
    assert supplier is not None
    assert supplier.SUNO == suno and supplier.SUNM == supplier.SUNM.strip() != ""
    fields = await client.supplier_template("TEMPLATE")
    assert all(value == value.strip() for value in fields.values())


async def test_writes_land_in_the_configured_company_only(infor: InforSandbox) -> None:
    """CONO/DIVI go with every call: nothing is written to the account's default company 200."""
    client = infor.connect().client
    fields = await client.supplier_template("TEMPLATE")
    await client.add_supplier({**fields, "SUNO": "CONOCHK1", "SUNM": "Company check"})
    await client.add_item({"ITTY": "PRT", "ITNO": "CONOCHK1", "ITDS": "Company check"})
    inbn = await client.add_head({"SUNO": "CONOCHK1", "IVDT": "20240612"}, record="x")
    state = await infor.state()
    entities = state["entities"]
    assert [s["CONO"] for s in entities["suppliers"] if s["SUNO"] == "CONOCHK1"] == ["100"]
    assert [i["CONO"] for i in entities["items"] if i["ITNO"] == "CONOCHK1"] == ["100"]
    batches = [(b["INBN"], b["CONO"], b["DIVI"]) for b in entities["invoice_batches"]]
    assert batches == [(inbn, "100", "AAA")]
