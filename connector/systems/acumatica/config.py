"""The ``[systems.X]`` table of an Acumatica system (``kind = "acumatica"``).

Field docstrings are the documentation; connector.example.toml repeats them. Importable as
``connector.config.AcumaticaSystem`` too.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from msgspec import Meta

from connector.config.models import Count, Margin, NonEmpty, Seconds, SystemConfigBase

__all__ = ["AcumaticaSystem"]


class AcumaticaSystem(SystemConfigBase, frozen=True, tag="acumatica"):
    """An Acumatica instance and contract-based endpoint version."""

    kind: ClassVar[str] = "acumatica"

    instance_url: str | None = None
    """Instance base URL; None = the ``instance_url`` stored in the credential."""

    endpoint: NonEmpty = "Default"
    """Contract-based endpoint name."""

    version: NonEmpty = "24.200.001"
    """Endpoint version, pinned to the customer's ERP release (others answer 404)."""

    requests_per_minute: Annotated[int, Meta(ge=0)] = 0
    """Request budget set by the licence; 0 = no budget enforced."""

    max_concurrent: Count = 4
    """Requests in flight at once (licences also cap concurrency)."""

    token_refresh_margin_s: Margin = 120.0
    """Renew the access token this long before ``expires_in`` says it ends."""

    timeout_s: Seconds = 60.0
    """Time allowed for one HTTP request."""
