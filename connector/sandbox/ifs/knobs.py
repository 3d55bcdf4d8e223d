"""The IFS simulator's own knobs (``POST /_sandbox/faults``) and its test tenant.

Every point ``systems/ifs.md`` §9 marks uncertain is a knob, defaulting to the sheet's best
guess, so a client can be tested against each alternative.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

REALM: Final = "mlsandbox"
CLIENT_ID: Final = "MLCONNECTOR"
CLIENT_SECRET: Final = "sandbox-ifs-client-secret"
USERNAME: Final = "IFSCONNECT"
PASSWORD: Final = "sandbox-ifs-password"
COMPANY: Final = "10"


class IfsKnobs(msgspec.Struct, forbid_unknown_fields=True):
    """Settings of the simulated tenant and its IAM."""

    token_lifetime_s: float = 180.0
    """``expires_in`` of access tokens (IFS 24R2 default 180 s; per-client overridable)."""
    refresh_token_lifetime_s: float = 1800.0
    """``refresh_expires_in`` (24R2 default 1800 s)."""
    refresh_token_on_client_credentials: bool = False
    """Whether the client credentials grant also returns a refresh token (Keycloak: off)."""
    unauthorized_redirect: bool = False
    """Answer a missing or dead bearer with 302 to ``/auth/…`` instead of 401."""
    page_size: int = 100
    """Rows per server page before ``@odata.nextLink``; 0 = never page."""
    honour_maxpagesize: bool = False
    """Whether ``Prefer: odata.maxpagesize=N`` shrinks the page (unverified on IFS)."""
    patch_without_if_match: Literal["reject", "upsert"] = "reject"
    """PATCH without If-Match: 428 (before 24R1) or an upsert from the URL keys (24R1+)."""
    missing_precondition_status: int = 428
    """Status of ``ODP_MISSING_PRECONDITION`` (428 per OData; unverified)."""
    patch_response: Literal["entity", "no_content"] = "entity"
    """PATCH answers 200 with the entity, or 204 with only the ETag header."""
    etag_header: bool = True
    """Whether single-entity answers carry an ``ETag`` header besides ``@odata.etag``."""
    precondition_failed_code: str = "ODP_PRECONDITION_FAILED"
    """Error code of the 412 body (assumed)."""
    business_error_status: int = 400
    """Status of ``ORA-20111`` business-rule errors (400 inferred)."""
    business_error_code: str = "DATABASE_ERROR"
    """Error code carrying an ``ORA-20111`` message (unverified)."""
    create_unknown_loads: bool = False
    """Whether posting a row with an unknown ``LoadId`` creates the external load; the field
    reports ``ExtLoadInfo.FND_RECORD_NOT_EXIST``, so off by default."""
    site_utc_offset_h: float = -5.0
    """The site's zone: timestamps are stored and compared in its wall-clock time."""
    timestamps_say_utc: bool = True
    """Write site wall-clock timestamps with a ``Z`` suffix, as real tenants do."""
    mi_modified_errors: int = 0
    """The next N distinct requests fail once with 500 ``MI_MODIFIED_ERROR``; the same
    request sent again succeeds (projection metadata changed)."""
    requests_per_minute: int = 1000
    """Projection requests allowed per rolling minute, then 429; 0 = no limit."""
    retry_after_header: bool = False
    """Whether that 429 carries Retry-After (IFS publishes no rate-limit headers)."""
