"""What every group of M3 calls shares: the MI client, the key-restart reader, and the
Get* convention that a "not found" refusal on the key field is an empty answer.

The M3 client is split by concern (suppliers and items in ``client.py``, purchase orders in
``orders.py``); each part builds on this base.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext

from connector.errors import RejectedError
from connector.systems.infor.mi import MIClient, Row
from connector.systems.infor.paging import KeyRestartReader


class M3Calls:
    """The MI client and reader of one M3 company/division, and the Get* helper."""

    def __init__(self, mi: MIClient, *, page_size: int = 500) -> None:
        self.mi = mi
        self.reader = KeyRestartReader(mi, page_size)

    @property
    def company(self) -> str:
        return self.mi.company

    @property
    def division(self) -> str:
        return self.mi.division

    def document(self) -> AbstractContextManager[None]:
        """Open around one document's look-up or write: with the coalescer on, its calls
        and those of the other documents in progress share requests step by step (see
        :meth:`~connector.systems.infor.mi.Coalescer.participant`)."""
        coalescer = self.mi.coalescer
        return coalescer.participant() if coalescer is not None else nullcontext()

    # -- helpers ------------------------------------------------------------------------
    async def _get(
        self, program: str, transaction: str, inputs: Mapping[str, str], key: str, record: str
    ) -> list[Row]:
        """A Get* transaction; a "not found" refusal on the key field is an empty answer.

        Only a refusal that blames ``key`` (or blames no field and says "does not exist")
        means "not found". Any other one, such as an unknown division, is raised: read as
        "not found" it would make the caller add a record that exists.
        """
        try:
            return await self.mi.call(program, transaction, inputs, write=False, record=record)
        except RejectedError as exc:
            if exc.field == key or (exc.field is None and "not exist" in exc.message.lower()):
                return []
            raise
