"""The ``[systems.X]`` table of an Infor CloudSuite system (``kind = "infor"``).

Field docstrings are the documentation; connector.example.toml repeats them. Importable as
``connector.config.InforSystem`` too.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from msgspec import Meta

from connector.config.models import Count, Margin, NonEmpty, Seconds, SystemConfigBase

__all__ = ["InforSystem"]


class InforSystem(SystemConfigBase, frozen=True, tag="infor"):
    """An Infor CloudSuite tenant reached through the ION API gateway."""

    kind: ClassVar[str] = "infor"

    company: NonEmpty
    """M3 company (CONO), sent on every call: omitted, M3 uses the account's default."""

    division: NonEmpty
    """M3 division (DIVI), sent on every call for the same reason."""

    requests_per_minute: Count = 300
    """Request budget towards the gateway (no published limit; tenants set their own)."""

    token_refresh_margin_s: Margin = 300.0
    """Renew the access token this long before ``expires_in`` says it ends."""

    timeout_s: Seconds = 60.0
    """Time allowed for one HTTP request."""

    product: Literal["m3"] = "m3"
    """Which CloudSuite line the flows talk to."""

    page_size: Annotated[int, Meta(ge=1, le=1000)] = 500
    """``maxrecs`` per key-restart page; some grids cap at 1000 whatever is asked."""

    cost_center_ait: Annotated[int, Meta(ge=1, le=7)] = 2
    """Which accounting dimension (AIT1..AIT7) holds the cost center in this company."""
