"""The ``[systems.X]`` table of a SYSPRO system (``kind = "syspro"``).

Field docstrings are the documentation; connector.example.toml repeats them. Importable as
``connector.config.SysproSystem`` too.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from msgspec import Meta

from connector.config.models import NonEmpty, Seconds, SystemConfigBase

__all__ = ["SysproSystem"]


class SysproSystem(SystemConfigBase, frozen=True, tag="syspro"):
    """A SYSPRO company reached through e.net Solutions (REST) and, for polling, OData."""

    kind: ClassVar[str] = "syspro"

    enet_url: NonEmpty
    """e.net REST base, ``http(s)://host:port/SYSPROWCFService/Rest``; the port differs per
    installation, so it is always configured."""

    odata_url: NonEmpty | None = None
    """OData service base (``https://host/SYSPRO8Odata/SYSPROOData``); None = no OData polling."""

    requests_per_second: Seconds = 10.0
    """Request budget towards the e.net server, shared by every flow using it."""

    timeout_s: Seconds = 120.0
    """Time allowed for one HTTP request (a business-object post can take a while)."""

    max_url_bytes: Annotated[int, Meta(ge=2048)] = 16384
    """Longest request line the web server accepts (HTTP.sys default 16 KiB); longer
    documents are refused before sending."""

    page_size: Annotated[int, Meta(ge=1, le=5000)] = 1000
    """OData rows per page (the service caps pages at 5,000)."""
