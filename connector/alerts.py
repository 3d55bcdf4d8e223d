"""Alerts: a JSON POST when a run stops or a flow's open errors grow.

Delivery is best effort and never holds up a run: one attempt with a short timeout, a
failure logged (the alert is also in /metrics and the console, so nothing depends on it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import aiohttp

from connector.runtime.causes import group_dead_letters
from connector.runtime.runner import CycleReport
from connector.store import Store

log = logging.getLogger("connector.alerts")

TIMEOUT_S = 10.0


@dataclass
class Alerts:
    url: str | None
    #: Open dead letters per flow when last alerted (or first seen): alerts fire on growth.
    open_errors: dict[str, int] = field(default_factory=dict)

    async def after_run(self, store: Store, report: CycleReport) -> None:
        url = self.url
        if url is None:
            return
        if not report.ok:
            await _send(
                url,
                {
                    "event": "run_failed",
                    "flow": report.flow,
                    "run_id": report.run_id,
                    "trigger": report.trigger,
                    "error": report.error,
                }
            )
        letters = await store.dead_letters(flow=report.flow)
        before = self.open_errors.get(report.flow, 0)
        self.open_errors[report.flow] = len(letters)
        if len(letters) > before:
            largest = group_dead_letters(letters)[0]
            await _send(
                url,
                {
                    "event": "errors_growing",
                    "flow": report.flow,
                    "run_id": report.run_id,
                    "open_errors": len(letters),
                    "new_errors": len(letters) - before,
                    "largest_group": {
                        "group": largest.cause.group_id,
                        "count": largest.count,
                        "cause": largest.cause.template,
                    },
                }
            )



async def _send(url: str, body: dict[str, object]) -> None:
    try:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)
        ) as session, session.post(url, json=body) as response:
            if response.status >= 300:
                log.warning("alert %s refused by %s: HTTP %d", body["event"], url, response.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("alert %s not delivered to %s: %s", body["event"], url, exc)
