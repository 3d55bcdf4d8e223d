"""The bodies the IFS OData provider and IFS IAM (Keycloak) answer with, in one place.

Projection errors are OData JSON errors, ``{"error": {"code", "message", "details": [{"code",
"message", "target"}]}}``, where ``target`` names the attribute at fault (sheet §6). The token
endpoint answers in Keycloak's OAuth form (``{"error", "error_description"}``).
"""

from __future__ import annotations

from aiohttp import web

from connector.sandbox.base import json_response


def odata_error(
    status: int,
    code: str,
    message: str,
    *,
    target: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An OData error; with ``target`` a ``details`` entry names the attribute."""
    error: dict[str, object] = {"code": code, "message": message}
    if target is not None:
        error["details"] = [{"code": code, "message": message, "target": target}]
    return json_response({"error": error}, status, headers)


def not_found(what: str) -> web.Response:
    return odata_error(
        404, "ODP_RESOURCE_NOTFOUND", f"The requested resource {what} was not found."
    )


def bad_request(message: str, target: str | None = None) -> web.Response:
    return odata_error(400, "ODP_BAD_REQUEST", message, target=target)


def not_allowed(message: str) -> web.Response:
    return odata_error(405, "ODP_METHOD_NOT_ALLOWED", message)


def deserialization_error(why: str, target: str | None = None) -> web.Response:
    """400 for a body that is not JSON, has no JSON content type, or misfits an attribute."""
    return odata_error(
        400,
        "ODP_DESERIALIZATION_ERROR",
        f"Error while de-serializing contents. {why}",
        target=target,
    )


def oauth_error(status: int, error: str, description: str) -> web.Response:
    return json_response(
        {"error": error, "error_description": description},
        status,
        {"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
