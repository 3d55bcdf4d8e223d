"""IFS client sign-in: client-credentials tokens, renewal before expiry, refusals."""

from __future__ import annotations

import asyncio

import pytest

from connector.errors import AuthError, ConfigurationError
from connector.systems.ifs import IfsConnection, models
from connector.vault import Credential
from tests.systems.ifs.conftest import Connect, Sandbox


async def test_token_is_fetched_once_and_shared_by_concurrent_reads(
    sandbox: Sandbox, ifs: IfsConnection
) -> None:
    """Many concurrent calls share one client-credentials token (single flight)."""
    await asyncio.gather(*(ifs.client.find_supplier(f"SUP{1001 + n}") for n in range(8)))
    assert (await sandbox.admin("GET", "state"))["tokens"]["requests"] == 1


async def test_token_is_renewed_before_it_expires(sandbox: Sandbox, connect: Connect) -> None:
    """With 2-second tokens, a call after 1.2 s goes out with a new token, never a 401."""
    await sandbox.knobs(token_lifetime_s=2)
    connection = connect(token_refresh_margin_s=0.5)
    await connection.client.find_supplier("SUP1001")
    await asyncio.sleep(1.6)
    assert await connection.client.find_supplier("SUP1001") is not None
    assert (await sandbox.admin("GET", "state"))["tokens"]["requests"] == 2
    assert connection.client.http.retries_total == 0


async def test_token_revoked_on_the_server_is_replaced_after_one_401(
    sandbox: Sandbox, ifs: IfsConnection
) -> None:
    """A 401 (token dropped by IAM) renews the token and retries the call once."""
    sandbox.sim.iam.access.clear()
    assert await ifs.client.find_purchase_order("P100231") is not None


async def test_redirect_to_sign_in_counts_as_401(sandbox: Sandbox, ifs: IfsConnection) -> None:
    """A 302 to /auth/ for a dead token renews the token and retries once (sheet §1)."""
    await sandbox.knobs(unauthorized_redirect=True)
    sandbox.sim.iam.access.clear()
    assert await ifs.client.get(models.Account, "10", "4000") is not None


async def test_wrong_secret_is_auth_error_naming_the_credential(
    credential: Credential, connect: Connect
) -> None:
    """A wrong client secret is AuthError telling which vault credential to fix."""
    bad = Credential("ifs-bad", "ifs", dict(credential.fields) | {"client_secret": "nope"})
    with pytest.raises(AuthError, match="credential 'ifs-bad'"):
        await connect(credential_=bad).client.find_supplier("SUP1001")


async def test_unknown_realm_is_configuration_error(connect: Connect) -> None:
    """A realm IAM does not know (404) is a ConfigurationError naming url and realm."""
    with pytest.raises(ConfigurationError, match="realm"):
        await connect(realm="nosuchrealm").client.find_supplier("SUP1001")


async def test_company_without_accounts_fails_the_startup_check(connect: Connect) -> None:
    """check() refuses a company id that has no accounts (a typo in `company`)."""
    with pytest.raises(ConfigurationError, match="company '99'"):
        await connect(company="99").client.check()
