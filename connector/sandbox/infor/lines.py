"""Hook for the simulated CloudSuite lines beside M3: SyteLine, LN and FSM.

They sit on the same ION API gateway as M3 — same tenant segment, same bearer, same quota
(sheet §2) — under their own first path segment: ``/{ti}/CSI/IDORequestService/…``
(SyteLine Mongoose IDOs), ``/{ti}/LN/lnapi/odata/…`` (LN OData v4) and
``/{ti}/FSM/fsm/…`` (FSM Landmark REST). The gateway authenticates and throttles, then hands
the request to the line's :class:`LineApp`, which enforces its own API style and answers
errors in that API's shape.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from aiohttp import web

#: Gateway segment after the tenant → module exposing ``make_app() -> LineApp``.
LINE_APPS: dict[str, str] = {
    "CSI": "connector.sandbox.infor.syteline",
    "LN": "connector.sandbox.infor.ln",
    "FSM": "connector.sandbox.infor.fsm",
}


class LineApp(Protocol):
    """One simulated product line's routes and data."""

    async def handle(self, request: web.Request, segments: list[str]) -> web.StreamResponse:
        """Answer a gateway request; ``segments`` are the path segments after the tenant
        (the line's own segment first), percent-decoded."""
        ...

    def is_write(self, request: web.Request) -> bool:
        """Whether the request changes data (for the write fault knobs)."""
        ...

    def state(self) -> dict[str, Any]: ...

    def seed(self, params: dict[str, Any]) -> dict[str, Any]: ...

    def reset(self) -> None: ...


def make_line_apps() -> dict[str, LineApp]:
    """A fresh app for every line whose module exists."""
    apps: dict[str, LineApp] = {}
    for segment, module_name in LINE_APPS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        apps[segment] = module.make_app()
    return apps
