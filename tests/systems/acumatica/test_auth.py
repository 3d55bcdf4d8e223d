"""Acumatica sign-in: OAuth tokens reused and renewed, cookie sessions always logged out."""

from __future__ import annotations

import logging

import pytest

from connector.config import AcumaticaSystem
from connector.errors import AuthError, ConfigurationError
from connector.http.client import HttpClient
from connector.http.limiter import LimiterRegistry, RateLimiter
from connector.systems.acumatica import AcumaticaConnection, open_connection
from connector.systems.acumatica.auth import ApiUser, TokenGrants
from connector.systems.acumatica.models import Account, Vendor
from connector.vault import Credential
from tests.systems.acumatica.conftest import Connect, Sandbox


class Boom(Exception):
    """Raised inside a cookie session to prove the logout still happens."""


async def test_token_is_fetched_once_and_reused(sandbox: Sandbox, connect: Connect) -> None:
    """Many calls, including concurrent ones, share one password-grant token."""
    connection = connect()
    client = connection.client
    await client.check_endpoint()
    for _ in range(3):
        assert await client.find_vendor("V10001") is not None
    assert (await sandbox.counters())["token_requests"] == 1
    assert connection.tokens.refresh_total == 1


async def test_expiring_token_is_renewed_before_any_call_fails(
    sandbox: Sandbox, connect: Connect
) -> None:
    """With 1 s tokens, calls keep succeeding across renewals: no 401 is ever retried."""
    await sandbox.knobs(token_lifetime_s=1, handler_delay_ms=60)
    connection = connect(token_refresh_margin_s=0.3)
    for _ in range(200):
        if connection.tokens.refresh_total >= 3:
            break
        assert await connection.client.get(Account, "10100") is not None
    assert connection.tokens.refresh_total >= 3
    assert connection.client.http.retries_total == 0
    assert (await sandbox.counters())["token_requests"] == connection.tokens.refresh_total


async def test_token_revoked_on_the_server_is_replaced_once(
    sandbox: Sandbox, connect: Connect
) -> None:
    """A token the instance forgot (its 401) is refreshed once and the call succeeds."""
    connection = connect()
    assert await connection.client.get(Account, "10100") is not None
    async with sandbox.http.post(f"{sandbox.sim.base_url}/_sandbox/reset") as response:
        assert response.status == 200
    await sandbox.seed()
    assert await connection.client.get(Account, "10100") is not None
    assert connection.tokens.refresh_total == 2
    assert connection.client.http.retries_total == 1


async def test_refresh_grant_is_used_and_a_spent_refresh_token_falls_back(
    sandbox: Sandbox, credential: Credential
) -> None:
    """offline_access yields a refresh token; a used one falls back to the password grant."""
    creds = await sandbox.credentials()
    user = ApiUser(
        credential_name=credential.name,
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        username=creds["username"],
        password=creds["password"],
    )
    http = HttpClient(
        "acumatica identity",
        sandbox.http,
        limiter=RateLimiter(100, 1.0, name="test identity"),
        tokens=None,
        auth_headers=None,
    )
    grants = TokenGrants(http, creds["instance_url"], user)
    first = await grants(None)
    assert first.refresh_token
    refreshed = await grants.refresh(first.refresh_token)
    assert refreshed is not None and refreshed.refresh_token not in (None, first.refresh_token)
    assert await grants.refresh(first.refresh_token) is None  # refresh tokens are one-time
    again = await grants(first)  # refresh refused → password grant
    assert again.access_token not in (first.access_token, refreshed.access_token)
    assert (await sandbox.counters())["token_requests"] == 5


async def test_wrong_client_secret_is_an_auth_error_without_the_secret(
    sandbox: Sandbox, credential: Credential
) -> None:
    """invalid_client names the credential to fix and never echoes the secret."""
    wrong = "not-the-real-secret-123"
    fields = dict(credential.fields) | {"client_secret": wrong}
    bad = Credential(credential.name, "acumatica", fields)
    connection = open_connection(AcumaticaSystem(credential=bad.name), bad, LimiterRegistry())
    try:
        with pytest.raises(AuthError) as caught:
            await connection.client.check_endpoint()
    finally:
        await connection.aclose()
    message = str(caught.value)
    assert "invalid_client" in message and credential.name in message
    assert wrong not in message and credential.fields["password"] not in message


async def test_wrong_instance_path_is_a_configuration_error(
    sandbox: Sandbox, connect: Connect
) -> None:
    """An instance URL missing its site path fails with advice about instance_url."""
    await sandbox.knobs(path_prefix="/AcumaticaERP")
    connection = connect(instance_url=sandbox.sim.base_url)
    with pytest.raises(ConfigurationError) as caught:
        await connection.client.check_endpoint()
    assert "instance_url" in str(caught.value)


async def test_cookie_session_is_logged_out_when_the_block_raises(
    sandbox: Sandbox, acumatica: AcumaticaConnection
) -> None:
    """A failure inside session_login still logs out, so no API login is left held."""
    with pytest.raises(Boom):
        async with acumatica.cookie_session() as client:
            assert await client.find_vendor("V10001") is not None
            assert (await sandbox.state())["sessions"]["open"] == 1
            raise Boom
    assert (await sandbox.state())["sessions"]["open"] == 0


async def test_cookie_sessions_never_exhaust_the_api_login_limit(
    sandbox: Sandbox, acumatica: AcumaticaConnection
) -> None:
    """More sessions than the licence's API logins work one after another when each ends."""
    await sandbox.knobs(api_login_limit=1)
    for vendor_id in ("V10001", "V10002", "V10003"):
        async with acumatica.cookie_session() as client:
            vendor = await client.get(Vendor, vendor_id)
            assert vendor is not None and vendor.vendor_id == vendor_id
    assert (await sandbox.state())["sessions"]["open"] == 0


async def test_secrets_stay_out_of_reprs_and_logs(
    sandbox: Sandbox,
    credential: Credential,
    acumatica: AcumaticaConnection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Neither the connection's reprs nor debug logs show secrets or tokens."""
    caplog.set_level(logging.DEBUG)
    token = await acumatica.tokens.get()
    async with acumatica.cookie_session() as client:
        await client.find_vendor("V10001")
    await acumatica.client.find_vendor("V10001")
    shown = " ".join(
        [
            repr(acumatica),
            repr(acumatica.client),
            repr(acumatica.tokens),
            repr(token),
            repr(acumatica.user),
            caplog.text,
        ]
    )
    secrets = [
        credential.fields["client_secret"],
        credential.fields["password"],
        token.access_token,
        token.refresh_token or "<none>",
    ]
    for secret in secrets:
        assert secret not in shown
