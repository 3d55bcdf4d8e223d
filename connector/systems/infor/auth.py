"""Infor ION API tokens: password grant with the service account, refresh, revoke.

From the ``.ionapi`` file: token URL ``pu+ot``, revoke URL ``pu+or``; client ``ci``/``cs``
sent as HTTP Basic; the service account ``saak`` (already ``TENANT#…``) and ``sask`` as
username/password. The lifetime is the tenant's to configure, so ``expires_in`` is always
trusted. When the app issues refresh tokens they are used (and rotate); a refresh that fails
falls back to the password grant once.
"""

from __future__ import annotations

import base64

import msgspec

from connector.errors import AuthError, RejectedError, clause
from connector.http.client import HttpClient
from connector.http.tokens import Token
from connector.systems.infor.ionapi import IonApi

SYSTEM = "infor"


class TokenResponse(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: float = 7200
    refresh_token: str | None = None


def _basic(ionapi: IonApi) -> dict[str, str]:
    pair = f"{ionapi.ci}:{ionapi.cs}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


async def fetch_token(http: HttpClient, ionapi: IonApi, previous: Token | None) -> Token:
    """A new token: refresh grant when we hold a refresh token, else the password grant."""
    if previous is not None and previous.refresh_token:
        try:
            return await _grant(
                http,
                ionapi,
                {"grant_type": "refresh_token", "refresh_token": previous.refresh_token},
            )
        except (RejectedError, AuthError):
            pass  # refresh token expired or revoked: log in again with the service account
    return await _grant(
        http,
        ionapi,
        {"grant_type": "password", "username": ionapi.saak, "password": ionapi.sask},
    )


async def _grant(http: HttpClient, ionapi: IonApi, form: dict[str, str]) -> Token:
    try:
        response = await http.request(
            "POST",
            ionapi.token_url,
            data=form,
            headers=_basic(ionapi),
            idempotent=True,
            record=f"{form['grant_type']} grant",
        )
    except (RejectedError, AuthError) as exc:
        raise AuthError(
            f"Infor refused the {form['grant_type']} grant for tenant {ionapi.ti}: "
            f"{clause(exc.message)}. Re-download the .ionapi file for the Backend Service app "
            "(with 'Create Service Account') and import it again with "
            "`ml-connector creds import-ionapi`.",
            system=SYSTEM,
        ) from exc
    body = response.json(TokenResponse)
    return Token.expiring_in(body.access_token, body.expires_in, body.refresh_token)


async def revoke_token(http: HttpClient, ionapi: IonApi, token: Token) -> None:
    """Revoke on shutdown: the refresh token if any (it takes its access tokens along)."""
    value, hint = (
        (token.refresh_token, "refresh_token")
        if token.refresh_token
        else (token.access_token, "access_token")
    )
    await http.request(
        "POST",
        ionapi.revoke_url,
        data={"token": value, "token_type_hint": hint},
        headers=_basic(ionapi),
        idempotent=True,
        record="token revoke",
    )
