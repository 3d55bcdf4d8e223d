"""SYSPRO client, e.net sessions: a logon per block and a logoff always, one re-logon on an
expired UserId, refusals classified, calls serialised, secrets kept out of messages."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from connector.errors import AuthError, ConfigurationError, UnavailableError
from connector.http.limiter import LimiterRegistry
from connector.systems import open_connection
from connector.vault import Credential
from tests.systems.syspro.conftest import SysproSandbox


async def test_a_session_logs_on_for_the_block_and_off_after_it(syspro: SysproSandbox) -> None:
    """connection.session() holds one UserId inside the block and none after it."""
    connection = syspro.connect()
    async with connection.session() as client:
        assert await client.find_supplier("0001") is not None
        assert await syspro.open_sessions() == 1
    assert await syspro.open_sessions() == 0


async def test_the_logon_profile_names_company_and_operator(syspro: SysproSandbox) -> None:
    """GetLogonProfile is parsed into the company name, operator and company date."""
    await syspro.knobs(company_date="2024-06-20")
    async with syspro.connect().session() as client:
        profile = await client.logon_profile()
    assert (profile.operator_code, profile.company_date) == ("ADMIN", dt.date(2024, 6, 20))
    assert profile.company_name and profile.local_currency == "$"


async def test_the_session_logs_off_when_the_block_raises(syspro: SysproSandbox) -> None:
    """The logoff runs in a finally: an error inside the block still frees the seat."""
    connection = syspro.connect()
    with pytest.raises(ZeroDivisionError):
        async with connection.session():
            raise ZeroDivisionError
    assert await syspro.open_sessions() == 0


async def test_an_expired_user_id_is_replaced_by_one_new_logon(syspro: SysproSandbox) -> None:
    """'UserID is invalid' (idle timeout) makes the session log on again once and retry."""
    connection = syspro.connect()
    async with connection.session() as client:
        await syspro.knobs(idle_timeout_s=0.3)
        await asyncio.sleep(0.4)
        assert await client.find_supplier("0002") is not None
        assert client.session.logons == 2


async def test_a_user_id_taken_over_for_a_seat_is_replaced_too(syspro: SysproSandbox) -> None:
    """A UserId whose seat another logon took over is replaced by a fresh logon."""
    await syspro.knobs(licence_seats=1)
    connection = syspro.connect()
    async with connection.session() as first, connection.session() as second:
        assert await second.find_supplier("0001") is not None
        assert await first.find_supplier("0001") is not None
        assert first.session.logons == 2


async def test_a_wrong_password_is_an_auth_error_naming_the_credential(
    syspro: SysproSandbox,
) -> None:
    """'ERROR: Invalid operator password' becomes AuthError naming the vault credential."""
    connection = syspro.connect(syspro.credential(operator_password="not-it"))
    with pytest.raises(AuthError) as caught:
        async with connection.session():
            pass
    message = str(caught.value)
    assert "Invalid operator password" in message and "credential 'syspro'" in message
    assert "not-it" not in message


async def test_a_full_licence_is_retryable(syspro: SysproSandbox) -> None:
    """A logon refused because every seat is taken is UnavailableError (tried again later)."""
    await syspro.knobs(licence_seats=1, when_seats_full="refuse")
    connection = syspro.connect()
    async with connection.session():
        with pytest.raises(UnavailableError, match="licence seat is in use"):
            async with connection.session():
                pass


async def test_calls_on_one_session_run_one_at_a_time(syspro: SysproSandbox) -> None:
    """Concurrent calls on one client are serialised, so SYSPRO never sees two on a UserId."""
    await syspro.knobs(call_duration_ms=50)
    connection = syspro.connect()
    async with connection.session() as client:
        found = await asyncio.gather(*(client.find_supplier("0001") for _ in range(4)))
    assert all(record is not None for record in found)


async def test_open_connection_refuses_a_credential_of_another_kind(
    syspro: SysproSandbox,
) -> None:
    """A syspro system with, say, an acumatica credential is a ConfigurationError."""
    wrong = Credential("syspro", "acumatica", {"client_id": "x"})
    with pytest.raises(ConfigurationError, match="needs one of kind 'syspro'"):
        open_connection(syspro.config(), wrong, LimiterRegistry())


async def test_reprs_never_show_the_passwords(syspro: SysproSandbox) -> None:
    """Neither the connection nor the client prints a password in its repr."""
    connection = syspro.connect()
    async with connection.session() as client:
        shown = repr(connection) + repr(client)
    assert syspro.creds["operator_password"] not in shown
