"""Infor FSM (CloudSuite Financials, Landmark REST) as a CloudSuite product line; see
:mod:`.client`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.systems.infor.fsm.client import FsmLine
from connector.systems.infor.fsm.landmark import LandmarkService, LinksReader

if TYPE_CHECKING:
    from connector.http.client import HttpClient
    from connector.systems.infor.config import InforSystem

__all__ = ["FsmLine", "LandmarkService", "LinksReader", "open_line"]


def open_line(http: HttpClient, gateway_base: str, config: InforSystem) -> FsmLine:
    """The FSM client of ``config.company`` (vendor group, item group and company), paging
    lists ``config.page_size`` records at a time."""
    return FsmLine(LandmarkService(http, gateway_base), config.company, config.page_size)
