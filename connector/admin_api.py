"""The admin API's writing actions: what ``errors retry|dismiss`` and ``mappings set|delete``
send when the service holds the state lock (so operators need not stop it).

All under the admin port's bearer token (:mod:`connector.admin`), JSON in and out::

    POST /api/errors/retry     {"group"? , "flow"?, "ids"?}          → {"reports": [...]}
    POST /api/errors/dismiss   {"group"?, "flow"?, "ids"?, "reason", "by"}
                                                                     → {"dismissed": [...]}
    POST /api/mappings/set     {"kind", "key", "value"}              → {"previous": …}
    POST /api/mappings/delete  {"kind", "key"}                       → {"deleted": …}

A request that cannot be done answers 409 ``{"error": message}`` with the same message the
CLI gives on its own (:mod:`connector.operations`); a malformed body answers 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import msgspec
from aiohttp import web

from connector import operations
from connector.commands.errors import letter_json
from connector.commands.sync import report_json
from connector.errors import ConfigurationError, ConnectorError
from connector.runtime.runner import CycleReport, FlowRunner
from connector.store import DeadLetter

if TYPE_CHECKING:
    from connector.service import Service


class Target(msgspec.Struct, frozen=True):
    """The dead letters a request names: a group id, or ids of one flow."""

    group: str | None = None
    flow: str | None = None
    ids: list[str] | None = None


class Dismissal(Target, frozen=True):
    reason: str = ""
    by: str = "admin-api"


class MappingKey(msgspec.Struct, frozen=True):
    kind: str
    key: str


class MappingValue(MappingKey, frozen=True):
    value: str


Handler = Callable[["Service", web.Request], Awaitable[object]]


def mount(app: web.Application, service: Service) -> None:
    for path, handler in (
        ("/api/errors/retry", _retry),
        ("/api/errors/dismiss", _dismiss),
        ("/api/mappings/set", _set_mapping),
        ("/api/mappings/delete", _delete_mapping),
    ):
        app.router.add_post(path, partial(_answer, handler, service))


async def _answer(handler: Handler, service: Service, request: web.Request) -> web.Response:
    try:
        body = await handler(service, request)
    except msgspec.ValidationError as exc:
        return web.json_response({"error": f"malformed request: {exc}"}, status=400)
    except ConnectorError as exc:
        return web.json_response({"error": exc.message}, status=409)
    return web.Response(body=msgspec.json.encode(body), content_type="application/json")


T = TypeVar("T")


async def _body(request: web.Request, type_: type[T]) -> T:
    try:
        return msgspec.json.decode(await request.read(), type=type_)
    except msgspec.DecodeError as exc:
        raise msgspec.ValidationError(str(exc)) from exc


async def _letters(service: Service, target: Target) -> list[DeadLetter]:
    return await operations.chosen_letters(service.app.store, target.group, target.flow, target.ids)


async def _retry(service: Service, request: web.Request) -> object:
    letters = await _letters(service, await _body(request, Target))

    async def runner_of(flow: str) -> FlowRunner:
        runner = service.flows.get(flow)
        if runner is None:
            raise ConfigurationError(
                f"flow {flow} is not running in this service (disabled, or it failed to "
                "start: `ml-connector check` says why)"
            )
        return runner

    reports: list[CycleReport] = await operations.retry(letters, runner_of)
    return {"reports": [report_json(r) for r in reports]}


async def _dismiss(service: Service, request: web.Request) -> object:
    wanted = await _body(request, Dismissal)
    letters = await _letters(service, wanted)
    await operations.dismiss(service.app.store, letters, wanted.reason, wanted.by)
    return {"dismissed": [letter_json(dl) for dl in letters], "reason": wanted.reason.strip()}


async def _set_mapping(service: Service, request: web.Request) -> object:
    wanted = await _body(request, MappingValue)
    previous = await operations.set_mapping(
        service.config, service.app.store, wanted.kind, wanted.key, wanted.value
    )
    return {
        "kind": wanted.kind,
        "key": wanted.key,
        "value": wanted.value.strip(),
        "previous": previous,
    }


async def _delete_mapping(service: Service, request: web.Request) -> object:
    wanted = await _body(request, MappingKey)
    deleted = await operations.delete_mapping(
        service.config, service.app.store, wanted.kind, wanted.key
    )
    return {"kind": wanted.kind, "key": wanted.key, "deleted": deleted}
