"""ServiceNow client: the three credential kinds, token reuse and refresh, auth refusals."""

from __future__ import annotations

import anyio
import pytest

from connector.config import ServiceNowSystem
from connector.errors import AuthError, ConfigurationError
from connector.http.limiter import LimiterRegistry
from connector.systems import open_connection
from connector.systems.servicenow import ServiceNowConnection
from connector.vault import Credential
from tests.systems.servicenow.conftest import Connect, Sandbox


@pytest.mark.parametrize("kind", ["oauth", "refresh", "basic"])
async def test_every_credential_kind_reads_suppliers(connect: Connect, kind: str) -> None:
    """Client credentials, a refresh token and Basic auth all reach the Table API."""
    connection = connect(kind=kind)
    await connection.client.check_plugin()
    assert await connection.client.find_supplier("V10001") is not None


async def test_token_is_fetched_once_and_reused(servicenow: ServiceNowConnection) -> None:
    """Many calls share one access token from one grant."""
    for code in ("V10000", "V10001", "V10002"):
        await servicenow.client.find_supplier(code)
    assert servicenow.tokens is not None and servicenow.tokens.refresh_total == 1


async def test_token_renewed_before_expiry(sandbox: Sandbox, connect: Connect) -> None:
    """A short token lifetime makes the cache fetch a new token before the old one lapses."""
    await sandbox.knobs(access_token_lifetime_s=0.4)
    connection = connect(token_refresh_margin_s=0.0)
    await connection.client.find_supplier("V10000")
    await anyio.sleep(0.5)
    await connection.client.find_supplier("V10000")
    assert connection.tokens is not None and connection.tokens.refresh_total == 2


async def test_revoked_token_is_refreshed_once_and_retried(
    sandbox: Sandbox, servicenow: ServiceNowConnection
) -> None:
    """A 401 on a revoked bearer makes the client fetch a new token and retry once."""
    await servicenow.client.find_supplier("V10000")
    assert servicenow.tokens is not None
    token = await servicenow.tokens.get()
    async with sandbox.http.get(f"{sandbox.sim.base_url}/oauth_revoke_token.do",
                                params={"token": token.access_token}):
        pass
    assert await servicenow.client.find_supplier("V10000") is not None
    assert servicenow.tokens.refresh_total == 2


async def test_disabled_client_credentials_grant_is_auth_error_naming_property(
    sandbox: Sandbox, servicenow: ServiceNowConnection
) -> None:
    """A refused client-credentials grant names the glide property and the app user."""
    await sandbox.knobs(client_credentials_enabled=False)
    with pytest.raises(AuthError) as caught:
        await servicenow.client.find_supplier("V10000")
    assert "client.credential.grant_type.enabled" in str(caught.value)
    assert "sn-oauth" in str(caught.value)


async def test_dead_refresh_token_says_to_consent_again(
    sandbox: Sandbox, credentials: dict[str, Credential]
) -> None:
    """A revoked refresh token is an AuthError telling to redo the authorization-code flow."""
    credential = credentials["refresh"]
    async with sandbox.http.get(f"{sandbox.sim.base_url}/oauth_revoke_token.do",
                                params={"token": credential.fields["refresh_token"]}):
        pass
    connection = open_connection(ServiceNowSystem(credential=credential.name), credential,
                                 LimiterRegistry())
    try:
        with pytest.raises(AuthError, match="authorization-code flow"):
            await connection.client.find_supplier("V10000")
    finally:
        await connection.aclose()


async def test_basic_auth_refused_for_interactive_user_names_the_fix(
    sandbox: Sandbox, credentials: dict[str, Credential]
) -> None:
    """Basic auth refused (wrong password or interactive user) says to use a service user."""
    creds = await sandbox.credentials()
    credential = Credential("sn-jane", "servicenow-basic", {
        "instance_url": creds["instance_url"], "username": creds["interactive_username"],
        "password": creds["interactive_password"]})
    await sandbox.knobs(refuse_basic_for_interactive=True)
    connection = open_connection(ServiceNowSystem(credential=credential.name), credential,
                                 LimiterRegistry())
    try:
        with pytest.raises(AuthError, match="web-service-only user"):
            await connection.client.find_supplier("V10000")
    finally:
        await connection.aclose()


async def test_basic_auth_mfa_refusal_is_named(sandbox: Sandbox, connect: Connect) -> None:
    """A 401 with X-MFA_TOKEN: invalid says MFA is the cause."""
    creds = await sandbox.credentials()
    await sandbox.knobs(basic_mfa_users=[creds["username"]])
    with pytest.raises(AuthError, match="multi-factor"):
        await connect(kind="basic").client.find_supplier("V10000")


def test_wrong_credential_kind_is_configuration_error(
    credentials: dict[str, Credential]
) -> None:
    """A ServiceNow system given another system's credential kind names the kinds it takes."""
    wrong = Credential("acu", "acumatica", {"client_id": "a", "client_secret": "b",
                                            "username": "c", "password": "d"})
    with pytest.raises(ConfigurationError, match="servicenow-oauth"):
        open_connection(ServiceNowSystem(credential="acu"), wrong, LimiterRegistry())


def test_missing_instance_url_is_configuration_error() -> None:
    """Without an instance URL in config or credential the error says where to set it."""
    credential = Credential("sn", "servicenow-oauth", {"client_id": "a", "client_secret": "b"})
    with pytest.raises(ConfigurationError, match="instance_url"):
        open_connection(ServiceNowSystem(credential="sn"), credential, LimiterRegistry())
