"""The SYSPRO simulator's own knobs: every "(inferred)" item of the sheet is one of these.

Set them with ``POST /_sandbox/faults`` (beside the shared fault knobs); ``POST
/_sandbox/reset`` restores the defaults below, which are the strict reading of the sheet.
"""

from __future__ import annotations

from typing import Literal

import msgspec


class SysproKnobs(msgspec.Struct, forbid_unknown_fields=True):
    """Behaviour switches of the simulated SYSPRO 8 company (e.net REST + OData)."""

    licence_seats: int = 10
    """e.net seats of the operator's licence class; a logon takes one. ``0`` = unlimited."""

    when_seats_full: Literal["take_over_longest_idle", "refuse"] = "take_over_longest_idle"
    """A logon when every seat is taken: the longest-idle session is dropped to make room
    (its UserId then answers "invalid"), or the logon is refused with an ``ERROR:`` text."""

    idle_timeout_s: float = 1200.0
    """A session unused this long is dropped (site-configured); ``0`` = never."""

    reject_concurrent_calls: bool = True
    """A second business-object call on a UserId while one is running answers ``ERROR:``."""

    call_duration_ms: float = 0.0
    """How long a business-object call holds its session (makes the concurrency rule testable)."""

    element_case: Literal["lower", "as_sent"] = "lower"
    """Casing of the item elements in XMLOUT: lower-cased (as recorded for setup objects) or
    as the XMLIN spelled them; status elements keep their own casing either way."""

    duplicate_invoice: Literal["reject", "allow"] = "reject"
    """APSTIN ``I`` with a supplier + invoice number already on file: per-field error, or a
    second invoice (sites that switch off the duplicate check)."""

    require_balanced_distribution: bool = True
    """APSTIN: the ledger distribution lines must add up to the value excluding tax."""

    require_grn_matching: bool = False
    """APSTIN: every invoice must carry ``GrnDetails`` (mandatory on some sites)."""

    closed_periods: list[str] = msgspec.field(default_factory=list)
    """AP periods (``"CCYY-MM"``) that are closed: a post into one is refused per item."""

    company_date: str = ""
    """The company date (``CCYY-MM-DD``) that decides the current period; blank = today (UTC)."""

    allow_negative_stock: bool = False
    """INVTMA: whether an adjustment may take a warehouse's quantity on hand below zero."""

    max_url_bytes: int = 16384
    """Longest request line HTTP.sys accepts before answering 414 (its 16 KiB default)."""

    odata_row_cap: int = 5000
    """Most rows one OData request returns, whatever ``$top`` asks."""

    odata_next_link: bool = True
    """Whether a capped OData page carries ``@odata.nextLink`` to the next one."""
