"""The console's pages (GET): flows, runs, errors, review, audit, mappings, reconcile."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from aiohttp import web

from connector.config.schedule import IntervalSchedule, parse_schedule
from connector.console import chart
from connector.console.actions import Actions
from connector.console.base import parse_day, when
from connector.runtime.causes import find_group, group_dead_letters
from connector.runtime.parking import CHANGED_AFTER_POSTING
from connector.runtime.reconcile import differences_csv, reconcilable, reconcile
from connector.runtime.runner import describe_status
from connector.runtime.scheduler import next_run
from connector.store import ReviewItem, RunRow


def _totals(run: RunRow) -> dict[str, int]:
    totals: dict[str, int] = {}
    for per_stream in run.counts.values():
        for outcome, n in per_stream.items():
            totals[outcome] = totals.get(outcome, 0) + n
    return totals


class Console(Actions):
    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/console", self._home)
        router.add_get("/console/", self.flows)
        router.add_get("/console/login", self.login_page)
        router.add_post("/console/login", self.login)
        router.add_post("/console/logout", self.logout)
        router.add_get("/console/runs", self.runs)
        router.add_get("/console/errors", self.errors)
        router.add_get("/console/errors/{group}", self.error_group)
        router.add_post("/console/errors/retry-one", self.retry_one)
        router.add_post("/console/errors/{group}/retry", self.retry_group)
        router.add_post("/console/errors/{group}/dismiss", self.dismiss_group)
        router.add_get("/console/review", self.review)
        router.add_post("/console/review/resolve", self.resolve)
        router.add_post("/console/review/accept", self.accept)
        router.add_get("/console/audit", self.audit)
        router.add_get("/console/mappings", self.mappings)
        router.add_post("/console/mappings/set", self.set_mapping)
        router.add_post("/console/mappings/delete", self.delete_mapping)
        router.add_get("/console/reconcile", self.reconcile_page)
        router.add_get("/console/reconcile.csv", self.reconcile_csv)

    async def _home(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/console/")

    async def flows(self, request: web.Request) -> web.Response:
        errors = await self.store.dead_letter_counts()
        review = await self.store.review_counts()
        rows = []
        for name, flow in self.service.config.flows.items():
            last = await self.store.runs(flow=name, limit=1)
            health = self.service.health.get(name)
            rows.append(
                {
                    "name": name,
                    "enabled": flow.enabled,
                    "running": name in self.service.flows,
                    "source": flow.source,
                    "target": flow.target,
                    "schedule": flow.schedule,
                    "next_run": await self._next_run(name, flow.schedule),
                    "last": last[0] if last else None,
                    "last_status": describe_status(last[0].status, last[0].counts) if last else "",
                    "health_error": health.last_error if health else None,
                    "errors": errors.get(name, 0),
                    "review": review.get(name, 0),
                    "reconcile": self._reconcile_support(name),
                }
            )
        return self.render(request, "flows.html", flows=rows)

    def _reconcile_support(self, flow: str) -> list[str] | None:
        """The streams of ``flow`` that reconcile (empty: none do); None when the flow is not
        running here, so its streams are not built."""
        runner = self.service.flows.get(flow)
        if runner is None:
            return None
        return [stream.name for stream in reconcilable(runner.flow)]

    async def _next_run(self, flow: str, schedule_text: str) -> str:
        if flow not in self.service.flows:
            return "not scheduled"
        schedule = parse_schedule(schedule_text)
        now = dt.datetime.now().astimezone()
        if isinstance(schedule, IntervalSchedule):
            # The scheduler keeps a fixed cadence from the last scheduled start.
            last = next(
                (r for r in await self.store.runs(flow=flow, limit=20) if r.trigger == "schedule"),
                None,
            )
            if last is None:
                return "at start"
            due = dt.datetime.fromtimestamp(last.started_at).astimezone()
            while due <= now:
                due = next_run(schedule, due)
            return due.strftime("%Y-%m-%d %H:%M:%S")
        return next_run(schedule, now).strftime("%Y-%m-%d %H:%M:%S")

    async def runs(self, request: web.Request) -> web.Response:
        flow = request.query.get("flow") or None
        recent = await self.store.runs(flow=flow, limit=2000)
        day_ago = time.time() - 25 * 3600
        buckets = chart.per_hour([r for r in recent if r.started_at >= day_ago])
        rows = [
            {
                "run": r,
                "status": describe_status(r.status, r.counts),
                "took": "" if r.finished_at is None else f"{r.finished_at - r.started_at:.1f}s",
                "totals": _totals(r),
            }
            for r in recent[:100]
        ]
        return self.render(
            request,
            "runs.html",
            runs=rows,
            chart=chart.svg(buckets),
            buckets=buckets,
            flow=flow or "",
            flows=list(self.service.config.flows),
        )

    async def errors(self, request: web.Request) -> web.Response:
        groups = group_dead_letters(await self.store.dead_letters())
        return self.render(request, "errors.html", groups=groups)

    async def error_group(self, request: web.Request) -> web.Response:
        groups = group_dead_letters(await self.store.dead_letters())
        group = find_group(groups, request.match_info["group"])
        if group is None:
            raise self.back(
                request, "That error group is closed: nothing of it is open.", "/console/errors"
            )
        return self.render(request, "error_group.html", group=group)

    async def review(self, request: web.Request) -> web.Response:
        items = await self.store.review_items()
        missing: dict[tuple[str, str, str], list[ReviewItem]] = {}
        changed = []
        for item in items:
            if item.mapping_kind == CHANGED_AFTER_POSTING:
                changed.append(item)
            else:
                missing.setdefault((item.key.flow, item.mapping_kind, item.mapping_key), []).append(
                    item
                )
        groups = [
            {
                "flow": flow,
                "kind": kind,
                "key": key,
                "records": found,
                "from_config": key in self.service.config.mappings.get(kind, {}),
            }
            for (flow, kind, key), found in sorted(missing.items(), key=lambda kv: -len(kv[1]))
        ]
        return self.render(request, "review.html", groups=groups, changed=changed)

    async def audit(self, request: web.Request) -> web.Response:
        query = request.query.get("q", "").strip()
        records: list[dict[str, Any]] = []
        if query:
            for entry in await self.store.find_records(query):
                events = [
                    e
                    for e in await self.store.audit_history(entry.key.flow, entry.key.source_id)
                    if e.key.stream == entry.key.stream
                ]
                records.append({"entry": entry, "events": events})
        return self.render(request, "audit.html", q=query, records=records)

    async def mappings(self, request: web.Request) -> web.Response:
        rows = await self.store.mapping_rows()
        return self.render(request, "mappings.html", rows=rows, updated=when)

    async def reconcile_page(self, request: web.Request) -> web.Response:
        support = {name: self._reconcile_support(name) for name in self.service.flows}
        flows = [name for name, streams in support.items() if streams]
        form, report = await self._reconcile(request, flows)
        return self.render(
            request, "reconcile.html", flows=flows, support=support, form=form, report=report
        )

    async def reconcile_csv(self, request: web.Request) -> web.Response:
        _, report = await self._reconcile(request, list(self.service.flows))
        if report is None:
            raise web.HTTPBadRequest(text="name a flow, e.g. ?flow=servicetitan-infor")
        name = f"reconcile-{report.flow}-{report.start}-{report.end}.csv"
        return web.Response(
            text=differences_csv(report),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def _reconcile(
        self, request: web.Request, flows: list[str]
    ) -> tuple[dict[str, str], Any]:
        today = dt.date.today()
        start = parse_day(request.query.get("from"), today.replace(day=1))
        end = parse_day(request.query.get("to"), today)
        flow = request.query.get("flow", "")
        form = {"flow": flow, "from": start.isoformat(), "to": end.isoformat()}
        if not flow:
            return form, None
        if flow not in flows:
            raise web.HTTPBadRequest(text=f"flow {flow!r} cannot be reconciled here")
        runner = self.runner(flow)
        report = await reconcile(runner.flow, await self.store.all_mappings(), start, end)
        return form, report
