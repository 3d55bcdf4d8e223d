"""The Acumatica simulator's own knobs (``POST /_sandbox/faults``) and its test tenant."""

from __future__ import annotations

from typing import Final

import msgspec

from connector.sandbox.acumatica.tenant import TenantRules

COMPANY: Final = "MLSandbox"
CLIENT_ID: Final = f"6B1C5A0E-2F4D-4E8B-9A37-1D2C3B4A5F60@{COMPANY}"
CLIENT_SECRET: Final = "sandbox-acumatica-client-secret"
USERNAME: Final = "ml-connector"
PASSWORD: Final = "sandbox-acumatica-password"
SESSION_COOKIE: Final = "ASP.NET_SessionId"


class AcumaticaKnobs(msgspec.Struct, forbid_unknown_fields=True):
    """Settings of the simulated instance and its licence."""

    path_prefix: str = ""
    """Site path of the instance (``/AcumaticaERP``); every URL lives under it."""
    token_lifetime_s: float = 3600.0
    """``expires_in`` of access tokens; 0 makes every token expire at once."""
    refresh_token_lifetime_s: float = 30 * 86400.0
    """Refresh tokens live 30 days from issue."""
    api_login_limit: int = 2
    """Cookie sessions the licence allows at once (trial: 2); 0 = unlimited."""
    session_timeout_s: float = 600.0
    """Idle time after which a cookie session ends and frees its API login."""
    endpoint_versions: list[str] = msgspec.field(
        default_factory=lambda: ["23.200.001", "24.200.001"]
    )
    """Versions of the Default endpoint the instance serves; others answer 404."""
    requests_per_minute: int = 0
    """Licence limit on API requests per minute; 0 = off."""
    max_concurrent: int = 0
    """Licence limit on API requests handled at once; 0 = off."""
    retry_after_header: bool = False
    """Whether licence 429s carry Retry-After (unverified on real instances, so off)."""
    handler_delay_ms: float = 0.0
    """Extra time each entity request holds its concurrency slot (lets tests overlap calls)."""
    action_pending_polls: int = 1
    """How many polls of an action's Location answer 202 before it answers 204."""
    manual_numbering: bool = False
    """Every numbering sequence is manual (documents must carry their ReferenceNbr)."""
    manual_sequences: list[str] = msgspec.field(default_factory=list)
    """Numbering sequences switched to manual one by one (``APBILL``, ``ARINVOICE``…)."""
    reject_duplicate_vendor_ref: bool = False
    applications_require_release: bool = True

    def rules(self) -> TenantRules:
        """The company preferences among these knobs."""
        return TenantRules(
            manual_numbering=self.manual_numbering,
            manual_sequences=frozenset(self.manual_sequences),
            reject_duplicate_vendor_ref=self.reject_duplicate_vendor_ref,
            applications_require_release=self.applications_require_release,
        )

    def instance_path(self) -> str:
        """``path_prefix`` normalised to ``""`` or ``/Site`` (leading slash, none trailing)."""
        stripped = self.path_prefix.strip("/")
        return f"/{stripped}" if stripped else ""
