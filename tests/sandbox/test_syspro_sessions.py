"""SYSPRO simulator, e.net sessions: logon, UserIds, licence seats, idle timeout, logoff and
the one-call-per-UserId rule — over raw loopback HTTP (sheet rules 1, 2 and 6)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import StartSimulator
from tests.sandbox.syspro_company import (
    SysproCompany,
    ap_parameters,
    invoice_doc,
    open_company,
)


@pytest.fixture
async def company(start_simulator: StartSimulator) -> AsyncIterator[SysproCompany]:
    """A SYSPRO simulator with reference data and a raw-HTTP handle on it."""
    async with aiohttp.ClientSession() as session:
        yield await open_company(start_simulator, session)


async def test_logon_returns_34_hex_user_id_and_two_spaces_as_octet_stream(
    company: SysproCompany,
) -> None:
    """Rule 1: Logon answers 200, application/octet-stream, 34 hex digits + two spaces."""
    status, content_type, body = await company.enet(
        "Logon", Operator="ADMIN", OperatorPassword=company.creds["operator_password"],
        CompanyId="EDU1", CompanyPassword="",
    )
    assert (status, content_type) == (200, "application/octet-stream")
    assert re.fullmatch(r"[0-9A-F]{34}  ", body)


async def test_logon_with_a_bad_password_answers_error_text_with_200(
    company: SysproCompany,
) -> None:
    """Rule 1: a wrong operator password is HTTP 200 with 'ERROR: Invalid operator password'."""
    status, _, body = await company.enet(
        "Logon", Operator="ADMIN", OperatorPassword="wrong", CompanyId="EDU1", CompanyPassword=""
    )
    assert (status, body) == (200, "ERROR: Invalid operator password")


async def test_paths_and_parameter_names_are_case_insensitive(company: SysproCompany) -> None:
    """e.net paths and query parameter names match in any case (logon, userid…)."""
    status, _, body = await company.enet(
        "logon", operator="ADMIN", operatorpassword=company.creds["operator_password"],
        companyid="EDU1", companypassword="",
    )
    assert status == 200 and not body.startswith("ERROR")
    assert (await company.enet("LOGOFF", userid=body))[2] == "0"


async def test_licence_seat_limit_takes_over_the_longest_idle_session(
    company: SysproCompany,
) -> None:
    """Rule 1: with every seat taken, a logon drops the longest-idle session's UserId."""
    await company.knobs(licence_seats=2)
    oldest = await company.logon()
    newer = await company.logon()
    await company.enet("GetLogonProfile", UserId=oldest)  # now `newer` is the longest idle
    third = await company.logon()
    assert not third.startswith("ERROR")
    assert (await company.enet("GetLogonProfile", UserId=newer))[2] == (
        "ERROR: The supplied UserID is invalid."
    )
    assert (await company.enet("GetLogonProfile", UserId=oldest))[2].startswith("<?xml")


async def test_licence_seat_limit_refuses_a_logon_when_the_knob_says_refuse(
    company: SysproCompany,
) -> None:
    """Rule 1 (knob): when_seats_full=refuse answers the extra logon with ERROR text."""
    await company.knobs(licence_seats=1, when_seats_full="refuse")
    await company.logon()
    refused = await company.logon()
    assert refused.startswith("ERROR: All 1 e.net licences")


async def test_idle_timeout_ends_a_session(company: SysproCompany) -> None:
    """Rule 1: a session idle past idle_timeout_s answers 'UserID is invalid'."""
    await company.knobs(idle_timeout_s=0.05)
    user_id = await company.logon()
    await asyncio.sleep(0.1)
    assert (await company.enet("GetLogonProfile", UserId=user_id))[2] == (
        "ERROR: The supplied UserID is invalid."
    )


@pytest.mark.parametrize(
    "operation", ["Logoff", "GetLogonProfile", "Query/Query", "Setup/Add", "Transaction/Post"]
)
async def test_an_unknown_user_id_is_invalid_on_every_call(
    company: SysproCompany, operation: str
) -> None:
    """Rule 2: any call with an unknown UserId answers 200 'ERROR: … UserID is invalid.'."""
    status, _, body = await company.enet(
        operation, UserId="0" * 34 + "  ", BusinessObject="APSTIN", XmlIn=invoice_doc()
    )
    assert (status, body) == (200, "ERROR: The supplied UserID is invalid.")


async def test_the_user_id_must_be_sent_back_with_its_trailing_spaces(
    company: SysproCompany,
) -> None:
    """Rule 2: the UserId without its two trailing spaces names no session."""
    user_id = await company.logon()
    body = (await company.enet("GetLogonProfile", UserId=user_id.strip()))[2]
    assert body == "ERROR: The supplied UserID is invalid."


async def test_logoff_answers_zero_and_ends_the_session(company: SysproCompany) -> None:
    """Rule 2: Logoff answers '0'; the UserId is invalid afterwards."""
    user_id = await company.logon()
    assert (await company.enet("Logoff", UserId=user_id))[2] == "0"
    assert (await company.enet("Logoff", UserId=user_id))[2] == (
        "ERROR: The supplied UserID is invalid."
    )
    assert (await company.admin("GET", "state"))["sessions"] == 0


async def test_two_posts_on_one_user_id_at_once_answer_error(company: SysproCompany) -> None:
    """Rule 6: a second business-object call while one runs on the same UserId is refused."""
    await company.knobs(call_duration_ms=200)
    user_id = await company.logon()
    answers = await asyncio.gather(
        company.post(user_id, "APSTIN", invoice_doc("INV-A"), ap_parameters()),
        company.post(user_id, "APSTIN", invoice_doc("INV-B"), ap_parameters()),
    )
    refused = [a for a in answers if a.startswith("ERROR: The UserID is already processing")]
    assert len(refused) == 1 and sum(a.startswith("<?xml") for a in answers) == 1
    assert len(await company.rows("ApInvoice")) == 1


async def test_every_enet_call_is_a_get(company: SysproCompany) -> None:
    """e.net answers 405 to a POST: every call, posts included, is a GET."""
    url = f"{company.creds['enet_url']}/Logon"
    async with company.session.post(url) as resp:
        assert resp.status == 405


async def test_a_request_line_past_the_http_sys_limit_answers_414(
    company: SysproCompany,
) -> None:
    """A URL longer than max_url_bytes (HTTP.sys's 16 KiB) is refused with 414, unprocessed."""
    user_id = await company.logon()
    long_notation = "x" * 17000
    status, _, _ = await company.enet(
        "Transaction/Post", UserId=user_id, BusinessObject="APSTIN",
        XmlIn=invoice_doc(JournalNotation=long_notation),
    )
    assert status == 414
    assert await company.rows("ApInvoice") == []


async def test_reset_logs_everyone_off_and_keeps_the_credentials(
    company: SysproCompany,
) -> None:
    """/_sandbox/reset drops sessions and posted data; the credentials stay the same."""
    user_id = await company.logon()
    await company.post(user_id, "APSTIN", invoice_doc(), ap_parameters())
    await company.admin("POST", "reset")
    assert (await company.enet("GetLogonProfile", UserId=user_id))[2] == (
        "ERROR: The supplied UserID is invalid."
    )
    assert await company.rows("ApInvoice") == []
    assert await company.admin("GET", "credentials") == company.creds
