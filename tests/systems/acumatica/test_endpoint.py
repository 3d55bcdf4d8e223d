"""Acumatica endpoint pinning: the startup check and site-path instances."""

from __future__ import annotations

import pytest

from connector.errors import ConfigurationError
from connector.systems.acumatica.models import Subaccount
from tests.systems.acumatica.conftest import Connect, Sandbox


async def test_supported_version_passes_the_check(sandbox: Sandbox, connect: Connect) -> None:
    """The pinned Default/24.200.001 exists on the sandbox, so the check is silent."""
    connection = connect(version="24.200.001")
    await connection.client.check_endpoint()


async def test_unsupported_version_is_one_clear_configuration_error(
    sandbox: Sandbox, connect: Connect
) -> None:
    """A version the instance lacks stops startup, naming versions that do exist."""
    connection = connect(version="23.100.001")
    with pytest.raises(ConfigurationError) as caught:
        await connection.client.check_endpoint()
    message = str(caught.value)
    assert "no endpoint Default/23.100.001" in message
    assert "set `version`" in message
    assert "24.200.001" in message and "23.200.001" in message


async def test_unsupported_version_on_a_call_is_not_a_silent_miss(
    sandbox: Sandbox, connect: Connect
) -> None:
    """Without the check, a read under a missing version raises instead of returning None."""
    connection = connect(version="23.100.001")
    with pytest.raises(ConfigurationError) as caught:
        await connection.client.get(Subaccount, "HVAC-NORTH")
    assert "version" in str(caught.value)


async def test_instance_with_a_site_path(sandbox: Sandbox, connect: Connect) -> None:
    """Everything, the token included, is relative to an instance URL with a site path."""
    await sandbox.knobs(path_prefix="/AcumaticaERP")
    connection = connect(instance_url=f"{sandbox.sim.base_url}/AcumaticaERP/")
    await connection.client.check_endpoint()
    subaccount = await connection.client.get(Subaccount, "HVAC-NORTH")
    assert subaccount is not None and subaccount.subaccount_cd == "HVAC-NORTH"
