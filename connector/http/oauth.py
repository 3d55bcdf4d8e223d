"""The OAuth 2.0 token grant (RFC 6749 §4.4, §6) as identity providers answer it.

A system's auth module says where its token endpoint is and what a 404 there means for its
configuration; the POST of the client id and secret with the grant's form, the answer
statuses worth reading and the decoding of a token or an error answer are the same for
Acumatica's identity server and IFS IAM (Keycloak), so they live here once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec

from connector.errors import ConnectorError
from connector.http.client import HttpClient, HttpResponse
from connector.http.tokens import Token

#: Token endpoint answers the caller reads itself (a refusal is an answer, not an outage).
TOKEN_ANSWERS = frozenset({200, 400, 401, 404})


class TokenResponse(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: float | None = None
    refresh_token: str | None = None


class OAuthError(msgspec.Struct, frozen=True):
    error: str = ""
    error_description: str = ""


async def token_grant(
    http: HttpClient,
    url: str,
    *,
    client_id: str,
    client_secret: str,
    form: Mapping[str, str],
    default_expires_in: float,
    not_found: Callable[[HttpResponse], ConnectorError],
) -> Token | OAuthError:
    """POST one grant; the token, or the provider's refusal for the caller to explain.

    ``not_found`` turns a 404 (no token endpoint at that URL: a configuration mistake)
    into the caller's error; ``default_expires_in`` stands in for a missing ``expires_in``.
    """
    response = await http.request(
        "POST",
        url,
        data={"client_id": client_id, "client_secret": client_secret, **form},
        idempotent=True,
        record=f"{form['grant_type']} grant",
        ok_statuses=TOKEN_ANSWERS,
    )
    if response.status == 404:
        raise not_found(response)
    if response.status != 200:
        return oauth_error(response)
    body = response.json(TokenResponse)
    expires_in = body.expires_in if body.expires_in is not None else default_expires_in
    return Token.expiring_in(body.access_token, expires_in, body.refresh_token)


def oauth_error(response: HttpResponse) -> OAuthError:
    """The provider's ``{error, error_description}``, or one naming the HTTP status."""
    try:
        return msgspec.json.decode(response.body, type=OAuthError)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return OAuthError(error=f"http_{response.status}")
