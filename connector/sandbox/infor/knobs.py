"""The Infor simulator's own knobs: every "Uncertain" item of the sheet (§9) is one of these.

Set them with ``POST /_sandbox/faults`` (they sit beside the shared fault knobs); ``POST
/_sandbox/reset`` restores the defaults below. Defaults are the strict reading of the sheet.
"""

from __future__ import annotations

from typing import Literal

import msgspec


class InforKnobs(msgspec.Struct, forbid_unknown_fields=True):
    """Behaviour switches of the simulated M3 tenant (SSO + ION API gateway + MI programs)."""

    token_lifetime_s: float = 7200.0
    """``expires_in`` of new access tokens; ``0`` makes every new token already expired."""

    issue_refresh_tokens: bool = True
    """Whether the authorized app has "Issue Refresh Tokens" ticked (else no refresh grant)."""

    refresh_token_lifetime_s: float = 0.0
    """Lifetime of refresh tokens; ``0`` means they never expire (Infor's own convention)."""

    unknown_transaction_style: Literal["http400", "ok200"] = "http400"
    """Unknown program/transaction: a bare HTTP 400, or (older grids) HTTP 200 with an MI
    result whose ``errorType`` is ``TransactionNotFound``."""

    bulk_stop_on_error: bool = False
    """Bulk POST: stop at the first failed transaction and answer ``wasTerminated: true``."""

    was_terminated_as_string: bool = False
    """Send ``wasTerminated`` as the string ``"false"``/``"true"`` (seen in the field)."""

    maxrecs_cap: int = 1000
    """Hard cap on rows per call whatever ``maxrecs`` says (``maxrecs=0`` included)."""

    query_maxrecs_honoured: bool = False
    """Whether a single GET honours ``maxrecs`` in the query string; by default only the
    matrix form counts, as on the grid the sheet reports (bulk always reads the query)."""

    pad_error_messages: bool = True
    """Right-pad ``errorMessage`` with blanks, as M3 does with its fixed-length texts."""

    master_add_duplicates: bool = False
    """``AddSupplier``/``AddItm*`` on an existing key: error (default) or store a duplicate."""

    addline_ait: bool = False
    """Accept ``AIT1..AIT7`` on ``APS450MI/AddLine`` (some versions); refused by default."""

    pps200_addhead: bool = True
    """Offer ``PPS200MI/AddHead`` (missing from the 15.x metadata; present in some grids)."""

    mms200_additmbasic: bool = True
    """Offer ``MMS200MI/AddItmBasic`` (present in the published metadata)."""

    validation_error_style: Literal["mi_error", "gethead_only"] = "mi_error"
    """How ``APS455MI/ValidByBatchNo`` reports a batch it cannot post: an MI error result
    (and the error text in ``GetHead``), or an OK answer with the error visible only in
    ``APS450MI/GetHead`` (``SUPA``/``IBHE``), which clients must then read."""

    requests_per_minute: int = 0
    """Gateway quota per OAuth client over a rolling 60 s window; ``0`` disables it."""

    retry_after_header: bool = True
    """Send ``Retry-After`` (seconds until a slot frees) on a throttled answer."""

    throttle_status: Literal[429, 503] = 429
    """HTTP status of a throttled answer."""
