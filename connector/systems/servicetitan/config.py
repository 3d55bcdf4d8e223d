"""The ``[systems.X]`` table of a ServiceTitan system (``kind = "servicetitan"``).

Field docstrings are the documentation; connector.example.toml repeats them. Importable as
``connector.config.ServiceTitanSystem`` too.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from msgspec import Meta

from connector.config.models import Margin, NonEmpty, Seconds, SystemConfigBase

__all__ = ["ServiceTitanSystem"]


class ServiceTitanSystem(SystemConfigBase, frozen=True, tag="servicetitan"):
    """A ServiceTitan tenant, in production or in the integration environment."""

    kind: ClassVar[str] = "servicetitan"

    tenant: Annotated[int, Meta(ge=1)]
    """Numeric tenant id; it is part of every API path."""

    environment: Literal["production", "integration"] = "production"
    """Which ServiceTitan environment; integration holds no production data."""

    api_url: str | None = None
    """API base URL; None = the environment's (``https://api.servicetitan.io``)."""

    auth_url: str | None = None
    """Auth server base URL; None = the environment's (``https://auth.servicetitan.io``)."""

    rate_per_second: Seconds = 60.0
    """Request budget shared by every flow using this tenant."""

    token_refresh_after_s: Seconds = 750.0
    """Age at which an access token (valid 900 s) is replaced."""

    timeout_s: Seconds = 30.0
    """Time allowed for one HTTP request."""

    webhook_secret_credential: NonEmpty | None = None
    """Vault credential (kind ``webhook-hmac``) verifying webhooks; None = webhooks off."""

    signature_header: NonEmpty = "X-ServiceTitan-Signature"
    """Header carrying the webhook HMAC signature."""

    signature_encoding: Literal["base64", "hex"] = "base64"
    """Encoding of the signature in that header."""

    page_size: Annotated[int, Meta(ge=1, le=5000)] = 500
    """Records asked for per page."""

    overlap_s: Margin = 300.0
    """Incremental reads restart this far before the cursor to catch late commits."""

    @property
    def resolved_api_url(self) -> str:
        """The API base URL actually used, without a trailing slash."""
        if self.api_url is not None:
            return self.api_url.rstrip("/")
        if self.environment == "integration":
            return "https://api-integration.servicetitan.io"
        return "https://api.servicetitan.io"

    @property
    def resolved_auth_url(self) -> str:
        """The auth server base URL actually used, without a trailing slash."""
        if self.auth_url is not None:
            return self.auth_url.rstrip("/")
        if self.environment == "integration":
            return "https://auth-integration.servicetitan.io"
        return "https://auth.servicetitan.io"
