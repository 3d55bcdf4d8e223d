"""Infor LN (OData v4 REST services) as a CloudSuite product line; see :mod:`.client`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.systems.infor.ln.client import LnLine
from connector.systems.infor.ln.odata import NextLinkReader, ODataService

if TYPE_CHECKING:
    from connector.http.client import HttpClient
    from connector.systems.infor.config import InforSystem

__all__ = ["LnLine", "NextLinkReader", "ODataService", "open_line"]


def open_line(http: HttpClient, gateway_base: str, config: InforSystem) -> LnLine:
    """The LN client of ``config.company`` (the ``X-Infor-LnCompany`` number)."""
    return LnLine(ODataService(http, gateway_base, config.company), config.ln_write_mode)
