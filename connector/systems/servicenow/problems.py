"""ServiceNow's error answers turned into the error tree.

REST errors come as ``{"error": {"message", "detail"}, "status": "failure"}`` (``detail`` may
be null). Three of them mean the operator must act, not the record:

- **400 "Invalid table …"** on an S2P table: the Source-to-Pay plugin is not active on the
  instance (a base-ITSM instance has none of its tables) → ``ConfigurationError``;
- **403**: an ACL, business rule or data policy refused the call; for an ACL the credential's
  user lacks a role, and the client, which knows what each call needs, names the roles →
  ``ConfigurationError``;
- **200 with an HTML page**: a hibernating developer instance (or a login page in front of
  the API) → ``UnavailableError``, since waking the instance up fixes it.
"""

from __future__ import annotations

import msgspec

from connector.errors import ConfigurationError, ConnectorError, RejectedError, UnavailableError
from connector.http.client import HttpResponse

SYSTEM = "servicenow"

READ_ROLES = ("sn_ap_apm.reader", "sn_spend_intg.procurement_integrator")
IMPORT_ROLES = ("sn_spend_intg.procurement_integrator", "sn_spend_intg.admin")


class ErrorDetail(msgspec.Struct, frozen=True):
    message: str | None = None
    detail: str | None = None


class ErrorBody(msgspec.Struct, frozen=True):
    error: ErrorDetail = msgspec.field(default_factory=ErrorDetail)
    status: str | None = None


def said(response: HttpResponse) -> str:
    """What the instance said, message and detail, or the HTTP status when it said nothing."""
    try:
        body = msgspec.json.decode(response.body, type=ErrorBody)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return f"HTTP {response.status}"
    parts = [part for part in (body.error.message, body.error.detail) if part]
    return ": ".join(parts) if parts else f"HTTP {response.status}"


def is_html(response: HttpResponse) -> bool:
    return "text/html" in response.headers.get("Content-Type", "")


def hibernating(response: HttpResponse, instance_url: str) -> UnavailableError:
    return UnavailableError(
        f"{response.method} {response.path}: {instance_url} answered an HTML page instead of "
        "JSON; a developer instance hibernates when idle: wake it up by signing in at "
        f"{instance_url}, then the records are tried again",
        system=SYSTEM,
    )


def plugin_missing(response: HttpResponse, table: str, instance_url: str) -> ConfigurationError:
    return ConfigurationError(
        f"{instance_url} has no table {table} ({said(response)}): the Source-to-Pay plugin "
        "(Source-to-Pay Operations and its integration framework) is not active on this "
        "instance. Ask the ServiceNow administrator to activate it, or point the config at "
        "the instance that runs Source-to-Pay",
        system=SYSTEM,
    )


def missing_role(
    response: HttpResponse, action: str, roles: tuple[str, ...], credential: str, record: str | None
) -> ConfigurationError:
    return ConfigurationError(
        f"{response.method} {response.path} → HTTP 403 ({said(response)}): the user of "
        f"credential {credential!r} may not {action}; grant it one of the roles "
        f"{', '.join(roles)} in ServiceNow, then run the flow again",
        system=SYSTEM,
        record=record,
    )


def unexpected(response: HttpResponse, record: str | None) -> ConnectorError:
    return RejectedError(
        f"{response.method} {response.path} → HTTP {response.status} ({said(response)}); "
        "the instance refused the request: fix the record or its mapping, then replay it",
        system=SYSTEM,
        record=record,
        code=f"http_{response.status}",
    )
