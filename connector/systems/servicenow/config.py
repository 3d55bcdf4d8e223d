"""The ``[systems.X]`` table of a ServiceNow system (``kind = "servicenow"``).

Field docstrings are the documentation; connector.example.toml repeats them. Importable as
``connector.config.ServiceNowSystem`` too.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from msgspec import Meta

from connector.config.models import Count, Margin, NonEmpty, Seconds, SystemConfigBase

__all__ = ["ServiceNowSystem"]


class ServiceNowSystem(SystemConfigBase, frozen=True, tag="servicenow"):
    """A ServiceNow instance with Source-to-Pay (Table API, Import Set API)."""

    kind: ClassVar[str] = "servicenow"

    instance_url: str | None = None
    """Instance base URL (https://acme.service-now.com); None = the credential's."""

    erp_source: NonEmpty = "M3"
    """The ERP source value written on imports and used by every natural-key lookup."""

    page_size: Annotated[int, Meta(ge=1, le=10000)] = 500
    """Rows asked for per Table API page (sysparm_limit)."""

    requests_per_hour: Annotated[int, Meta(ge=0)] = 0
    """The instance's hourly rate-limit rule for this user; 0 = no rule known."""

    max_concurrent: Count = 4
    """Requests in flight at once."""

    token_refresh_margin_s: Margin = 60.0
    """Renew the OAuth access token this long before ``expires_in`` says it ends."""

    timeout_s: Seconds = 60.0
    """Time allowed for one HTTP request (a synchronous import transforms in it)."""
