"""The ServiceNow simulator's own knobs (``POST /_sandbox/faults``) and its test tenant.

Every point the system sheet marks uncertain (§9) is a knob here, so a test can pin the
client against either answer.
"""

from __future__ import annotations

import msgspec

INSTANCE = "acme"
CLIENT_ID = "8f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f"
CLIENT_SECRET = "sn-sandbox-client-secret"
#: The web-service-only integration user (Basic auth, password grant, OAuth app user).
SERVICE_USER = "svc.m3.integration"
SERVICE_PASSWORD = "sn-sandbox-service-password"
#: An interactive user: hardened instances refuse Basic auth for such users.
INTERACTIVE_USER = "jane.buyer"
INTERACTIVE_PASSWORD = "sn-sandbox-interactive-password"

READER = "sn_ap_apm.reader"
INTEGRATOR = "sn_spend_intg.procurement_integrator"
S2P_ADMIN = "sn_spend_intg.admin"
ADMIN = "admin"

DEFAULT_ROLES: dict[str, list[str]] = {
    SERVICE_USER: [INTEGRATOR, READER],
    INTERACTIVE_USER: [S2P_ADMIN, READER],
}


class ServiceNowKnobs(msgspec.Struct, forbid_unknown_fields=True):
    """Simulator-specific knobs; the shared fault knobs live in ``FaultKnobs``."""

    #: False = a base-ITSM instance: the Source-to-Pay plugin and its tables do not exist.
    s2p_plugin_active: bool = True
    #: Access token lifetime (s); responses say one second less, as real instances do.
    access_token_lifetime_s: float = 1800.0
    refresh_token_lifetime_s: float = 8_640_000.0
    #: ``glide.oauth.inbound.client.credential.grant_type.enabled``.
    client_credentials_enabled: bool = True
    #: Hardened instances refuse Basic auth for users who can log in interactively.
    refuse_basic_for_interactive: bool = False
    #: Users whose Basic auth needs an MFA token (401 with ``X-MFA_TOKEN: invalid``).
    basic_mfa_users: list[str] = msgspec.field(default_factory=list)
    #: Roles per user name, replacing :data:`DEFAULT_ROLES` for the users named.
    user_roles: dict[str, list[str]] = msgspec.field(default_factory=dict)
    #: ``glide.invalid_query.returns_no_rows``: an unknown query field matches nothing.
    invalid_query_returns_no_rows: bool = False
    #: Hide every row whose sys_id, read as a number, is divisible by this (0 = none). The
    #: ACL runs after the limit, so pages come back short or empty mid-scan.
    acl_hide_every: int = 0
    #: Whether X-Total-Count counts rows the ACL hides (uncertain on real instances).
    total_count_includes_hidden: bool = True
    #: Coalesce columns per staging table; none = every replay inserts again (the default).
    coalesce: dict[str, list[str]] = msgspec.field(default_factory=dict)
    #: A non-string import value: refused with 400 ("reject", the sheet's rule) or stored
    #: converted the way instances do ("store": nested objects come out as ``{a=b}``).
    import_non_strings: str = "reject"
    #: HTTP status of a single-row import whose row failed to transform (200 or 201).
    import_error_http_status: int = 201
    #: The name of the PO header staging table (docs also say sn_fcms_intg_imp_po_response).
    po_staging_table: str = "sn_fcms_intg_imp_order"
    #: Delay before an ``insertMultiple`` set is transformed (it is asynchronous).
    multi_transform_delay_ms: float = 50.0
    #: Staging rows are purged: ``GET /api/now/import/{staging}/{sys_id}`` answers 404.
    purge_staging_rows: bool = False
    #: Hourly rate limit rule (requests per hour, 0 = no rule) and its scope.
    rate_limit_per_hour: int = 0
    #: The user the rule applies to (None = all users).
    rate_limit_user: str | None = None
    #: The table the rule applies to (None = every table and API).
    rate_limit_table: str | None = None
    #: A hibernating developer instance: every API call answers 200 with an HTML page.
    hibernating: bool = False
