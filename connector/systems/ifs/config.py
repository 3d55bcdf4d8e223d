"""The ``[systems.X]`` table of an IFS Cloud system (``kind = "ifs"``).

Field docstrings are the documentation; connector.example.toml repeats them. Importable as
``connector.config.IfsSystem`` too.
"""

from __future__ import annotations

from typing import ClassVar

from connector.config.models import Count, Margin, NonEmpty, Seconds, SystemConfigBase

__all__ = ["IfsSystem"]


class IfsSystem(SystemConfigBase, frozen=True, tag="ifs"):
    """An IFS Cloud environment: IFS IAM for tokens, OData projections for data."""

    kind: ClassVar[str] = "ifs"

    company: NonEmpty
    """IFS company id used by look-ups and by rows the connector posts (e.g. ``10``)."""

    url: str | None = None
    """Environment base URL (``https://acme.ifs.cloud``); None = the credential's ``url``."""

    realm: NonEmpty | None = None
    """IAM realm (the IFS namespace) in ``/auth/realms/<realm>/``; None = the credential's."""

    requests_per_minute: Count = 1000
    """Request budget towards the environment (IFS publishes no limit; capacity is per
    environment)."""

    token_refresh_margin_s: Margin = 30.0
    """Renew the access token this long before ``expires_in`` says it ends (tokens live
    180 s unless the IAM client is set otherwise)."""

    timeout_s: Seconds = 60.0
    """Time allowed for one HTTP request."""
