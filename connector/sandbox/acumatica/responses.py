"""The bodies the real API answers with, in one place so every handler says it the same way.

Errors follow the contract's ``HttpError`` schema (``message``, ``exceptionMessage``,
``exceptionType``, ``stackTrace``); the token endpoint answers in OAuth 2.0 form
(``{"error": "invalid_client"}``).
"""

from __future__ import annotations

from aiohttp import web

from connector.sandbox.base import json_response


def http_error(
    status: int,
    message: str,
    detail: str | None = None,
    exception_type: str = "PX.Data.PXException",
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An ``HttpError`` body; ``detail`` is the exceptionMessage (defaults to ``message``)."""
    body = {
        "message": message,
        "exceptionMessage": detail or message,
        "exceptionType": exception_type,
        "stackTrace": None,
    }
    return json_response(body, status, headers)


def not_found(detail: str) -> web.Response:
    """404 for a record that does not exist, worded like the real exception."""
    return http_error(
        404,
        "No entity satisfies the condition.",
        f"No entity satisfies the condition. {detail}",
        "PX.Api.ContractBased.NoEntitySatisfiesTheConditionException",
    )


def no_route(path: str, why: str) -> web.Response:
    """404 for a URL the instance does not serve (unknown endpoint, version or entity)."""
    return json_response(
        {"message": f"No HTTP resource was found that matches the request URI '{path}'. {why}"},
        404,
    )


def unauthorized(why: str) -> web.Response:
    """401 for a missing, unknown or expired bearer token or session cookie."""
    return json_response(
        {"message": f"Authorization has been denied for this request. {why}"},
        401,
        {"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def bad_request(detail: str) -> web.Response:
    return http_error(400, "The request is invalid.", detail, "System.ArgumentException")


def oauth_error(error: str, description: str) -> web.Response:
    """400 from the token endpoint; the description never echoes a secret."""
    return json_response(
        {"error": error, "error_description": description},
        400,
        {"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def license_limit(detail: str, retry_after_s: float | None) -> web.Response:
    """429 for a licence limit (requests per minute, concurrent requests)."""
    headers = None
    if retry_after_s is not None:
        headers = {"Retry-After": str(max(1, int(retry_after_s + 0.999)))}
    return http_error(
        429,
        "The request was refused because of the limits of the license.",
        detail,
        headers=headers,
    )
