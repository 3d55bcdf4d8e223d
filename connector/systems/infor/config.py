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
    """M3 company (CONO), sent on every call: omitted, M3 uses the account's default. On LN
    the company number (``X-Infor-LnCompany``), on FSM the finance company (also the vendor
    group and item group of what the connector creates), on SyteLine the site."""

    division: str = ""
    """M3 division (DIVI), sent on every call for the same reason; required when ``product``
    is m3, unused by the other lines."""

    requests_per_minute: Count = 300
    """Request budget towards the gateway (no published limit; tenants set their own)."""

    token_refresh_margin_s: Margin = 300.0
    """Renew the access token this long before ``expires_in`` says it ends."""

    timeout_s: Seconds = 60.0
    """Time allowed for one HTTP request."""

    product: Literal["m3", "syteline", "ln", "fsm"] = "m3"
    """Which CloudSuite line the flows talk to: M3 (MI programs), SyteLine (Mongoose IDOs),
    LN (OData v4) or FSM (Landmark REST)."""

    mongoose_config: str = ""
    """SyteLine only: the Mongoose configuration (``X-Infor-MongooseConfig``) of the site,
    such as ``ACME_DALS``; required when ``product = "syteline"``."""

    page_size: Annotated[int, Meta(ge=1, le=1000)] = 500
    """Rows per page of a list: M3 ``maxrecs`` per key-restart page (some grids cap at 1000
    whatever is asked), SyteLine ``recordCap``, FSM ``_limit``; LN sets its own page size."""

    coalesce_ms: Annotated[float, Meta(ge=0, le=1000)] = 100.0
    """M3 only. Longest wait (ms) of an MI call for other loader workers' calls, to go with
    them as one bulk request; 0 sends every call alone. AP documents in progress wait for each
    other step by step (the wait restarts on every answer, so it bounds a worker that
    stops calling, not M3's round trip); other calls wait only while requests are in the
    air, so a lone worker never waits. With four workers an invoice of 100 lines costs
    about 1.3 requests instead of 4.7, whatever M3's latency."""

    cost_center_ait: Annotated[int, Meta(ge=1, le=7)] = 2
    """M3 only. Which accounting dimension (AIT1..AIT7) holds the cost center in this
    company."""

    ln_write_mode: Literal["auto", "deep", "batch", "single"] = "auto"
    """LN only. How a document (AP invoice, PO) is written with its lines: ``deep`` one POST
    with the lines nested (OData deep insert), ``batch`` one ``$batch`` request holding the
    header and its lines as one atomic group, ``single`` one POST per header and per line.
    ``auto`` reads each service's ``$metadata`` once per connection and uses deep insert or
    ``$batch`` where the service announces it (Capabilities vocabulary), else ``single``.
    A service that answers 501 to either falls back to ``single`` for the connection."""
