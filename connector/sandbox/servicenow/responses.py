"""ServiceNow's reply shapes: the ``{"error": {message, detail}, "status": "failure"}`` body
of the REST APIs and the token endpoint's one opaque refusal."""

from __future__ import annotations

from aiohttp import web

from connector.sandbox.base import json_response


def sn_error(
    status: int, message: str, detail: str | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    """A REST API error in ServiceNow's own shape (``detail`` may be null)."""
    return json_response(
        {"error": {"message": message, "detail": detail}, "status": "failure"}, status, headers
    )


def not_authenticated() -> web.Response:
    """Bad, missing or expired credentials on an API call (the same body for all three)."""
    return sn_error(401, "User Not Authenticated", "Required to provide Auth information")


def token_refused() -> web.Response:
    """Any token endpoint failure: the cause is only written to the instance log."""
    return json_response({"error_description": "access_denied", "error": "server_error"}, 401)


def invalid_table(table: str) -> web.Response:
    return sn_error(400, f"Invalid table {table}", f"Table {table} does not exist")


def no_record(
    detail: str = "Record doesn't exist or ACL restricts the record retrieval",
) -> web.Response:
    return sn_error(404, "No Record found", detail)


def hibernating_page() -> web.Response:
    """What a sleeping developer instance answers to anything: 200 and an HTML page."""
    return web.Response(
        status=200,
        content_type="text/html",
        text="<html><head><title>Instance Hibernating page</title></head>"
        "<body>Your instance is hibernating. Sign in to wake it up.</body></html>",
    )
