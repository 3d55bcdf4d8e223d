"""SyteLine (CloudSuite Industrial) as an :class:`~connector.systems.infor.lines.InforLine`.

Mongoose IDO REST through the ION API gateway, on the same token and request budget as M3:
``load`` with ``properties``/``filter``/``orderBy``/``recordCap`` and bookmark paging,
``update`` with ``Changes`` and ``_ItemId`` optimistic locking (:mod:`.ido`,
:mod:`.paging`). Vendors and items are :mod:`.master`, vouchers and purchase orders
:mod:`.documents`; SyteLine's value conventions (right-justified keys, dates) are
:mod:`.values`. The configured ``company`` is the site; ``mongoose_config`` names the
Mongoose configuration that opens it.

Cost per flow record, in requests: a supplier or item look-up 1, its insert or update 1; an
AP invoice look-up 2 (header, then its distributions) and its write 2 (header, then all
distributions in one atomic update); a purchase order the same. Nothing is cached between
records, so every look-up is live.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from connector.errors import ConfigurationError
from connector.http.client import HttpClient
from connector.systems.infor.config import InforSystem
from connector.systems.infor.lines import InforLine
from connector.systems.infor.syteline.documents import Documents
from connector.systems.infor.syteline.ido import IdoClient
from connector.systems.infor.syteline.master import MasterData
from connector.systems.infor.syteline.values import VEND_NUM

__all__ = ["SyteLineClient", "open_line"]


class SyteLineClient(MasterData, Documents):
    """One SyteLine site through Mongoose IDOs; see the package docstring."""

    product: ClassVar[str] = "syteline"
    supplier_code_length: ClassVar[int] = VEND_NUM


def open_line(http: HttpClient, gateway_base: str, config: InforSystem) -> SyteLineClient:
    """The SyteLine client of ``config`` over the gateway's authenticated HTTP client."""
    if not config.mongoose_config:
        raise ConfigurationError(
            f"the Infor system logging in with credential {config.credential!r} is SyteLine "
            'but has no mongoose_config: add mongoose_config = "<configuration>" (the '
            "X-Infor-MongooseConfig of the site) to its [systems.…] table"
        )
    ido = IdoClient(http, gateway_base, config.mongoose_config)
    return SyteLineClient(ido, config.company, config.page_size)


# mypy checks here that the client really is an InforLine (LINE_MODULES imports it by name).
_FACTORY: Callable[[HttpClient, str, InforSystem], InforLine] = open_line
