"""The operator's console: server-rendered pages on the admin port, beside /healthz.

Everything a person does day to day without a terminal: flows and their next run, runs
with a chart, errors grouped by cause (retry one, retry the group, dismiss with a reason),
the review queue (add the missing mapping and resume; accept a document changed after
posting), a record's audit, the mapping tables and a reconciliation report with CSV. It
acts through the same store and flow runners as the service's own runs and the CLI, so a
retry here is exactly ``errors retry``. Nothing is served on the webhook port.

Pages are Jinja2 templates (package data, autoescaped); forms are plain HTML posts that
redirect back (no script, no build step). Access: see :mod:`connector.console.auth`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from connector.console.auth import Sessions, guard
from connector.console.pages import Console

if TYPE_CHECKING:
    from connector.service import Service


def mount(admin: web.Application, service: Service, token: str | None) -> None:
    """Add the console's routes and its access guard to the admin application."""
    sessions = Sessions(token)
    admin.middlewares.append(guard(sessions))
    Console(service, sessions).add_routes(admin.router)
