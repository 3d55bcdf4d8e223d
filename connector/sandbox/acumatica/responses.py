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
    """A record that does not exist, answered as live instances do: HTTP 500 (the definition
    documents only 200, 401 and 500 for reads and deletes by key) carrying the exception."""
    return http_error(
        500,
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


def query_error(detail: str) -> web.Response:
    """A ``$filter``/``$select``/``$expand`` a GET cannot apply: 500, the only error status
    the definition documents for reads besides 401."""
    return http_error(500, "An error has occurred.", detail, "System.ArgumentException")


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
