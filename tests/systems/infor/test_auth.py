"""ION API tokens through a real connection: grants, renewal, recovery from a 401, revoke.

The simulator's token store is the referee: a refresh grant rotates the refresh token, an
expired or revoked bearer gets ``401 {"error":"Unauthorized"}``, and revoking a refresh
token kills its access tokens. Where a test must know which grant was sent, it counts the
successful refresh grants the simulator's token store granted.
"""

from __future__ import annotations

from typing import Any

import pytest

from connector.errors import AuthError
from connector.sandbox.infor import InforSimulator
from tests.systems.infor.conftest import InforSandbox

PROBE = "MNS150MI/GetUserData"


def count_refresh_grants(infor: InforSandbox, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that gains one entry per refresh grant the simulator accepts."""
    assert isinstance(infor.sim, InforSimulator)
    store = infor.sim.tokens
    granted: list[int] = []
    use_refresh = store.use_refresh

    def spy(token: str, client_id: str) -> Any:
        issued = use_refresh(token, client_id)
        if issued is not None:
            granted.append(issued.family)
        return issued

    monkeypatch.setattr(store, "use_refresh", spy)
    return granted


async def test_first_call_logs_in_once(infor: InforSandbox) -> None:
    """The first call fetches one token (password grant); later calls reuse it."""
    connection = infor.connect()
    await connection.client.validate_company()
    await connection.client.get_supplier("SUP00001")
    assert connection.tokens.refresh_total == 1
    assert connection.tokens.state().status == "valid"
    assert (await infor.state())["counters"]["token_requests"] == 1


async def test_short_lived_tokens_are_renewed_with_the_refresh_grant(
    infor: InforSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tokens that lapse mid-run are renewed before use, with the refresh token; calls succeed."""
    granted = count_refresh_grants(infor, monkeypatch)
    # expires_in is a whole number of seconds: 0.5 s is announced as 0, so every call renews.
    await infor.knobs(token_lifetime_s=0.5)
    connection = infor.connect()
    client = connection.client
    await client.validate_company()  # two MI calls
    for suno in ("SUP00001", "SUP00002", "SUP00003"):
        assert await client.get_supplier(suno) is not None
    assert connection.tokens.refresh_total == 5
    # One password grant, then only refresh grants, all in that first grant's family.
    assert len(granted) == 4 and len(set(granted)) == 1
    assert (await infor.state())["counters"]["token_requests"] == 5


async def test_password_grant_is_repeated_when_refresh_tokens_are_off(
    infor: InforSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without refresh tokens each renewal is a new password grant, and calls still succeed."""
    granted = count_refresh_grants(infor, monkeypatch)
    await infor.knobs(token_lifetime_s=0.5, issue_refresh_tokens=False)
    connection = infor.connect()
    for _ in range(3):
        assert await connection.client.get_supplier("SUP00001") is not None
    assert connection.tokens.refresh_total == 3
    assert granted == []
    assert (await infor.state())["counters"]["token_requests"] == 3


async def test_token_the_server_forgot_is_replaced_after_one_401(infor: InforSandbox) -> None:
    """A bearer the gateway no longer knows gets 401; the client logs in again and carries on."""
    connection = infor.connect()
    assert await connection.client.get_supplier("SUP00001") is not None
    # A reset forgets every issued token (refresh tokens too) while ours still looks valid.
    await infor.admin("POST", "reset")
    await infor.admin("POST", "seed", {"seed": 1})
    assert await connection.client.get_supplier("SUP00001") is not None
    assert connection.tokens.refresh_total == 2
    # The dead refresh token was tried first (refused), then the password grant.
    assert (await infor.state())["counters"]["token_requests"] == 2


@pytest.mark.parametrize("refresh_tokens", [True, False])
async def test_aclose_revokes_the_token(infor: InforSandbox, refresh_tokens: bool) -> None:
    """aclose() revokes the token (the refresh token, or the access token if there is none)."""
    await infor.knobs(issue_refresh_tokens=refresh_tokens)
    connection = infor.connect()
    assert await connection.client.get_supplier("SUP00001") is not None
    token = await connection.tokens.get()
    assert (token.refresh_token is not None) is refresh_tokens
    assert await infor.raw_status(PROBE, token.access_token) == 200
    await connection.aclose()
    assert connection.session.closed
    assert await infor.raw_status(PROBE, token.access_token) == 401
    assert connection.tokens.state().status == "none"


async def test_wrong_service_account_secret_is_an_auth_error(infor: InforSandbox) -> None:
    """A wrong sask fails the password grant: AuthError naming the tenant, no secret in it."""
    credential = infor.credential(sask="not-the-secret-key")
    client = infor.connect(credential=credential).client
    with pytest.raises(AuthError) as caught:
        await client.get_supplier("SUP00001")
    text = str(caught.value)
    assert "ACME_TST" in text and "password grant" in text
    for secret in ("not-the-secret-key", infor.ionapi["cs"], infor.ionapi["saak"]):
        assert secret not in text and secret not in repr(caught.value)


async def test_wrong_client_secret_is_an_auth_error(infor: InforSandbox) -> None:
    """A wrong cs (invalid_client) is an AuthError that tells how to get a good .ionapi file."""
    credential = infor.credential(cs="not-the-client-secret")
    client = infor.connect(credential=credential).client
    with pytest.raises(AuthError) as caught:
        await client.validate_company()
    assert ".ionapi" in caught.value.message
    assert "not-the-client-secret" not in str(caught.value)
    assert infor.ionapi["sask"] not in str(caught.value)
