"""What every console handler shares: the service, the templates, flash messages."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

import jinja2
import markupsafe
from aiohttp import web

from connector.console.auth import Session, Sessions
from connector.runtime.runner import FlowRunner
from connector.store import Store

if TYPE_CHECKING:
    from connector.service import Service

NAV = (
    ("/console/", "Flows"),
    ("/console/runs", "Runs"),
    ("/console/errors", "Errors"),
    ("/console/review", "Review"),
    ("/console/audit", "Audit"),
    ("/console/mappings", "Mappings"),
    ("/console/reconcile", "Reconcile"),
)


def when(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


class ConsoleBase:
    def __init__(self, service: Service, sessions: Sessions) -> None:
        self.service = service
        self.sessions = sessions
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("connector.console", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["when"] = when

    @property
    def store(self) -> Store:
        return self.service.app.store

    def render(self, request: web.Request, template: str, **context: Any) -> web.Response:
        session: Session = request["session"]
        messages, session.flash = session.flash, []
        html = self.templates.get_template(template).render(
            csrf=session.csrf,
            csrf_input=markupsafe.Markup('<input type="hidden" name="csrf" value="{}">').format(
                session.csrf
            ),
            nav=NAV,
            path=request.path,
            messages=messages,
            login=self.sessions.token is not None,
            **context,
        )
        return web.Response(text=html, content_type="text/html")

    @staticmethod
    def back(request: web.Request, message: str, to: str) -> web.HTTPFound:
        """Redirect after a POST (so a reload never repeats it), with what it did."""
        session: Session = request["session"]
        session.flash.append(message)
        return web.HTTPFound(to)

    def runner(self, flow: str) -> FlowRunner:
        runner = self.service.flows.get(flow)
        if runner is None:
            raise web.HTTPConflict(
                text=f"flow {flow} is not running in this service (disabled, or it failed "
                "to start: see the Flows page)"
            )
        return runner


def parse_day(text: str | None, default: dt.date) -> dt.date:
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{text!r} is not a date like 2026-01-31") from None
