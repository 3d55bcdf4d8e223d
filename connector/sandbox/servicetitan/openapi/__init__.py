"""ServiceTitan's own OpenAPI documents, cut down to what the simulator serves.

Each ``{module}.json`` here is the vendor's v2 document for that module (downloaded from
developer.servicetitan.io, 2026-05) with its operations kept (reads and writes), the schemas
those reach, and the ``example`` values dropped; nothing else is edited, so the simulator's
parameters and the contract test's schemas are the vendor's words. Regenerate with::

    python -m connector.sandbox.servicetitan.openapi.extract <dir with *-v2.json>
"""

from __future__ import annotations

MODULES = ("accounting", "crm", "inventory", "jpm", "pricebook", "settings")
