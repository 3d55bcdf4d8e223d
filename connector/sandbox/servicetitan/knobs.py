"""The ServiceTitan simulator's own knobs (set through ``POST /_sandbox/faults``)."""

from __future__ import annotations

from typing import Literal

import msgspec


class ServiceTitanKnobs(msgspec.Struct, forbid_unknown_fields=True):
    """Tenant settings and unpublished behaviours a test may want to change."""

    #: Seconds an access token lives (``expires_in``); ServiceTitan issues 900 s tokens.
    token_lifetime_s: float = 900.0
    #: Status for a tenant id the token is not bound to (403 observed; some gateways 404).
    wrong_tenant_status: Literal[403, 404] = 403
    #: Calls per rolling second per (app key, tenant); 0 turns the limit off.
    rate_limit_per_s: int = 60
    #: Whether 429 replies carry ``Retry-After`` (the header is seen in the field, not
    #: documented, so clients must cope without it).
    retry_after_header: bool = True
    #: The tenant setting "automatically create bill when PO is received".
    auto_create_bill: bool = True
    #: Rows per export-feed response (the server decides; clients must not assume).
    export_chunk: int = 500
    #: Give every record of a seed or generate batch the same ``modifiedOn``, to prove that
    #: clients do not skip rows sharing a timestamp.
    same_modified_on: bool = False
    #: Multiplies the webhook retry schedule (10, 30, 60, 300 s); 0.001 makes it milliseconds.
    webhook_time_scale: float = 1.0
    #: Probability that a successful delivery is sent again (same eventId, same body).
    duplicate_delivery_rate: float = 0.0
    #: Signature header name (ServiceTitan does not publish it).
    signature_header: str = "X-ServiceTitan-Signature"
    #: Signature encoding of the HMAC-SHA256 digest.
    signature_encoding: Literal["base64", "hex"] = "base64"
