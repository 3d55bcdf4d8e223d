"""`check` verifies the state database and the service's own credentials too."""

from __future__ import annotations

import msgspec

from connector import demo
from tests.commands.support import cli


async def test_check_reports_the_state_and_a_missing_admin_token_with_its_fix(
    env: demo.DemoEnvironment,
) -> None:
    """The state passes PRAGMA integrity_check; an admin token named in the config but
    absent from the vault is a FAIL that gives the exact `creds set` command."""
    code, out, err = await cli(env, "check", "--json")
    assert code == 0, err
    rows = {r["system"]: r for r in msgspec.json.decode(out)}
    assert rows["state"]["status"] == "OK" and "integrity ok" in rows["state"]["detail"]

    with env.config_path.open("a") as config:
        config.write('admin_token_credential = "admin-token"\n')
    code, out, err = await cli(env, "check", "--json")
    assert code == 1, err
    rows = {r["system"]: r for r in msgspec.json.decode(out)}
    admin = rows["admin token"]
    assert admin["status"] == "FAIL"
    assert "`ml-connector creds set admin-token --kind bearer`" in admin["detail"]
