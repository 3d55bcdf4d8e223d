"""The console's actions (POST): log in and out, retry, dismiss, resolve, accept, mappings.

Each redirects back with a message saying what happened, so a reload never repeats it.
They go through the service's own flow runners and store, exactly as the CLI's commands do.
"""

from __future__ import annotations

from aiohttp import web

from connector import operations
from connector.console.base import ConsoleBase
from connector.errors import ConfigurationError, ConnectorError
from connector.runtime.causes import find_group, group_dead_letters
from connector.runtime.parking import CHANGED_AFTER_POSTING
from connector.runtime.runner import CycleReport


def _outcome(reports: list[CycleReport]) -> str:
    """'3 done, 1 still failing' — what a retry or resume achieved."""
    done = sum(r.total("created") + r.total("updated") + r.total("unchanged") for r in reports)
    failed = sum(r.total("failed") for r in reports)
    review = sum(r.total("review") + r.total("changed") for r in reports)
    parts = [f"{done} done"]
    if failed:
        parts.append(f"{failed} still failing")
    if review:
        parts.append(f"{review} waiting for review")
    stopped = [r.error for r in reports if r.error]
    text = ", ".join(parts)
    return text + (f"; stopped: {stopped[0]}" if stopped else "")


async def _field(request: web.Request, name: str) -> str:
    value = (await request.post()).get(name, "")
    return value.strip() if isinstance(value, str) else ""


class Actions(ConsoleBase):
    async def login_page(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request)
        if session is not None and session.authenticated:
            raise web.HTTPFound("/console/")
        key = None
        if session is None:
            key, session = self.sessions.create(authenticated=False)
        request["session"] = session
        response = self.render(request, "login.html", error=request.query.get("failed") == "1")
        if key is not None:
            self.sessions.set_cookie(response, key)
        return response

    async def login(self, request: web.Request) -> web.StreamResponse:
        if not self.sessions.token_matches(await _field(request, "token")):
            raise web.HTTPFound("/console/login?failed=1")
        response = web.HTTPFound("/console/")
        self.sessions.end(request, response)
        self.sessions.start(response, authenticated=True)
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        response = web.HTTPFound("/console/login")
        self.sessions.end(request, response)
        raise response

    # -- errors -----------------------------------------------------------------------------
    async def retry_one(self, request: web.Request) -> web.StreamResponse:
        flow, source_id = await _field(request, "flow"), await _field(request, "source_id")
        back = await _field(request, "back") or "/console/errors"
        letters = await self.store.dead_letters(flow=flow, source_ids=[source_id])
        if not letters:
            raise self.back(request, f"{flow} {source_id} has no open error any more.", back)
        report = await self._replay(flow, [source_id])
        raise self.back(request, f"Retried {flow} {source_id}: {_outcome([report])}.", back)

    async def retry_group(self, request: web.Request) -> web.StreamResponse:
        group = find_group(
            group_dead_letters(await self.store.dead_letters()), request.match_info["group"]
        )
        if group is None:
            raise self.back(request, "That error group is closed already.", "/console/errors")
        ids: dict[str, list[str]] = {}
        for letter in group.letters:
            ids.setdefault(letter.key.flow, []).append(letter.key.source_id)
        reports = [await self._replay(flow, found) for flow, found in ids.items()]
        raise self.back(
            request, f"Retried {group.count} record(s): {_outcome(reports)}.", "/console/errors"
        )

    async def _replay(self, flow: str, source_ids: list[str]) -> CycleReport:
        try:
            return await self.runner(flow).replay(source_ids=source_ids)
        except ConnectorError as exc:
            raise web.HTTPConflict(text=str(exc)) from exc

    async def dismiss_group(self, request: web.Request) -> web.StreamResponse:
        reason = await _field(request, "reason")
        group_id = request.match_info["group"]
        if not reason:
            raise self.back(
                request,
                "Say why these records are dismissed: the reason goes in their audit.",
                f"/console/errors/{group_id}",
            )
        group = find_group(group_dead_letters(await self.store.dead_letters()), group_id)
        if group is None:
            raise self.back(request, "That error group is closed already.", "/console/errors")
        count = await self.store.dismiss_dead_letters(group.letters, reason, by="console")
        raise self.back(request, f"Dismissed {count} record(s): {reason}", "/console/errors")

    # -- review -----------------------------------------------------------------------------
    async def resolve(self, request: web.Request) -> web.StreamResponse:
        flow, kind = await _field(request, "flow"), await _field(request, "kind")
        key, value = await _field(request, "key"), await _field(request, "value")
        if not value:
            raise self.back(request, f"Give the value {kind} {key} maps to.", "/console/review")
        if key in self.service.config.mappings.get(kind, {}):
            raise self.back(
                request,
                f"{kind} {key} is set in the config file ([mappings.{kind}]): change it there "
                "and reload the service (SIGHUP).",
                "/console/review",
            )
        await self.store.set_mappings(kind, {key: value}, origin="cli")
        waiting = [
            i.key.source_id
            for i in await self.store.review_items(flow=flow)
            if (i.mapping_kind, i.mapping_key) == (kind, key)
        ]
        report = await self.runner(flow).resume_review(source_ids=waiting)
        raise self.back(
            request,
            f"Mapped {kind} {key} → {value}; resumed {len(waiting)} record(s): "
            f"{_outcome([report])}.",
            "/console/review",
        )

    async def accept(self, request: web.Request) -> web.StreamResponse:
        flow, source_id = await _field(request, "flow"), await _field(request, "source_id")
        items = await self.store.review_items(flow=flow, source_ids=[source_id])
        if not any(i.mapping_kind == CHANGED_AFTER_POSTING for i in items):
            raise self.back(
                request, f"{flow} {source_id} is not waiting any more.", "/console/review"
            )
        report = await self.runner(flow).resume_review(source_ids=[source_id], accept_changes=True)
        raise self.back(
            request,
            f"Accepted the change of {flow} {source_id}: {_outcome([report])}.",
            "/console/review",
        )

    # -- mappings ---------------------------------------------------------------------------
    async def set_mapping(self, request: web.Request) -> web.StreamResponse:
        kind, key = await _field(request, "kind"), await _field(request, "key")
        value = await _field(request, "value")
        if not (kind and key and value):
            raise self.back(
                request, "A mapping needs a kind, a key and a value.", "/console/mappings"
            )
        try:
            await operations.set_mapping(self.service.config, self.store, kind, key, value)
        except ConfigurationError as exc:
            raise self.back(request, exc.message, "/console/mappings") from exc
        raise self.back(request, f"Saved mapping {kind} {key} → {value}.", "/console/mappings")

    async def delete_mapping(self, request: web.Request) -> web.StreamResponse:
        kind, key = await _field(request, "kind"), await _field(request, "key")
        try:
            await operations.delete_mapping(self.service.config, self.store, kind, key)
        except ConfigurationError as exc:
            raise self.back(request, exc.message, "/console/mappings") from exc
        raise self.back(request, f"Deleted mapping {kind} {key}.", "/console/mappings")
