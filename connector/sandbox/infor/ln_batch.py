"""``POST {service}/$batch`` of the simulated LN services: the JSON batch format of OData 4.01
(Part 1 §11.7; JSON Format §19), served only when the ``batch`` knob is on.

What it enforces:

- ``Content-Type: application/json`` with ``{"requests": [...]}``; each request has a unique
  ``id``, a ``method`` and a ``url`` (relative to the service root, absolute on it, or
  ``$<id>/…`` naming an earlier request's created entity — ``Content-ID`` referencing), with
  optional ``headers``, ``body``, ``atomicityGroup`` and ``dependsOn`` (earlier ids only).
  Anything else is 400 for the whole batch; multipart/mixed is 415 (not offered here).
- Requests run in order, each "with the same semantics as alone" (:meth:`LnApp.answer`).
- An **atomicity group** (4.01's name for a change set) is all or nothing: the requests of a
  group must be adjacent; when one fails, everything the group changed is undone and the
  group answers with that one failed response.
- Without ``Prefer: odata.continue-on-error`` (not supported) processing stops at the first
  failure; later requests get no response.
- The answer is 200 with ``{"responses": [{"id", "status", "headers", "body"}, …]}``.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web
from yarl import URL

if TYPE_CHECKING:
    from connector.sandbox.infor.ln import LnApp
    from connector.sandbox.infor.ln_call import Call

#: Numbers stay Decimal through the batch envelope, so an amount reaches LN as it was sent.
_DECODER = msgspec.json.Decoder(float_hook=Decimal)
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_REF = re.compile(r"^\$(?P<id>[^/]+)(?P<rest>/.*)?$")
METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})


class BatchError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def run_batch(app: LnApp, call: Call, service: str) -> web.Response:
    from connector.sandbox.infor.ln import LnError

    try:
        requests = _requests(call)
    except BatchError as error:
        code = "UnsupportedMediaType" if error.status == 415 else "BadRequest"
        raise LnError(error.status, code, str(error)) from None
    responses: list[dict[str, Any]] = []
    locations: dict[str, str] = {}
    index = 0
    while index < len(requests):
        group = requests[index].get("atomicityGroup")
        end = index + 1
        while group is not None and end < len(requests):
            if requests[end].get("atomicityGroup") != group:
                break
            end += 1
        members = requests[index:end]
        snapshot = copy.deepcopy(app.companies)
        answered: list[dict[str, Any]] = []
        failed: dict[str, Any] | None = None
        for request in members:
            try:
                sub, segments = _sub_call(call, service, request, locations)
            except BatchError as error:
                raise LnError(error.status, "BadRequest", str(error)) from None
            response = await app.answer(sub, segments)
            answer = _answer(request, response)
            if response.status >= 400:
                failed = answer
                break
            answered.append(answer)
            if "Location" in response.headers:
                locations[str(request["id"])] = response.headers["Location"]
        if failed is not None:
            if group is not None:
                app.companies.clear()
                app.companies.update(snapshot)
                responses.append(failed)
            else:
                responses.append(failed)
            break
        responses.extend(answered)
        index = end
    return web.Response(
        body=_ENCODER.encode({"responses": responses}),
        status=200,
        content_type="application/json",
        headers={"OData-Version": "4.01"},
    )


def _requests(call: Call) -> list[dict[str, Any]]:
    if call.content_type != "application/json":
        raise BatchError(
            415,
            f"Content-Type {call.content_type!r}: this service takes the JSON batch format "
            "(application/json) only",
        )
    try:
        body = _DECODER.decode(call.body)
    except msgspec.DecodeError:
        raise BatchError(400, "The batch body is not valid JSON") from None
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise BatchError(400, 'A JSON batch is {"requests": [...]} with at least one request')
    seen: set[str] = set()
    closed: set[str] = set()
    previous_group: str | None = None
    for position, request in enumerate(requests):
        if not isinstance(request, dict):
            raise BatchError(400, f"requests[{position}] must be an object")
        ident, method, url = request.get("id"), request.get("method"), request.get("url")
        if not isinstance(ident, str) or not ident or ident in seen:
            raise BatchError(400, f"requests[{position}]: id must be a string unique in the batch")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise BatchError(400, f"request {ident}: method {method!r} is not an HTTP method")
        if not isinstance(url, str) or not url:
            raise BatchError(400, f"request {ident}: url is required")
        group = request.get("atomicityGroup")
        if group is not None and (not isinstance(group, str) or group in seen):
            raise BatchError(400, f"request {ident}: atomicityGroup must be a new string")
        if group != previous_group and previous_group is not None:
            closed.add(previous_group)
        if group is not None and group in closed:
            raise BatchError(
                400, f"request {ident}: the requests of atomicity group {group} must be adjacent"
            )
        previous_group = group
        for dependency in request.get("dependsOn") or []:
            if dependency not in seen and dependency not in closed:
                raise BatchError(
                    400, f"request {ident}: dependsOn {dependency!r} names no earlier request"
                )
        headers = request.get("headers", {})
        if not isinstance(headers, dict):
            raise BatchError(400, f"request {ident}: headers must be an object")
        seen.add(ident)
    return requests


def _sub_call(
    call: Call, service: str, request: dict[str, Any], locations: dict[str, str]
) -> tuple[Call, list[str]]:
    text: str = request["url"]
    ref = _REF.match(text)
    if ref:
        target = locations.get(ref.group("id"))
        if target is None:
            raise BatchError(
                400,
                f"request {request['id']}: ${ref.group('id')} names no entity created earlier "
                "in this batch",
            )
        url = URL(target + (ref.group("rest") or ""))
    elif text.startswith(("http://", "https://")):
        url = URL(text)
    elif text.startswith("/"):
        url = call.service_root.with_path(text.split("?", 1)[0]).with_query(
            text.split("?", 1)[1] if "?" in text else None
        )
    else:
        url = URL(f"{call.service_root}/{text}")
    root = str(call.service_root)
    if not str(url).startswith(root + "/"):
        raise BatchError(
            400, f"request {request['id']}: {text} is not a resource of service {service}"
        )
    rest = [part for part in url.path[len(call.service_root.path) :].split("/") if part]
    headers = {str(k): str(v) for k, v in request.get("headers", {}).items()}
    body = request.get("body")
    payload = b""
    if body is not None:
        payload = _ENCODER.encode(body)
        headers.setdefault("Content-Type", "application/json")
    sub = call.sub(str(request["method"]).upper(), url, headers, payload)
    return sub, ["LN", "lnapi", "odata", service, *rest]


def _answer(request: dict[str, Any], response: web.Response) -> dict[str, Any]:
    answer: dict[str, Any] = {"id": request["id"], "status": response.status}
    if request.get("atomicityGroup") is not None:
        answer["atomicityGroup"] = request["atomicityGroup"]
    kept = ("Location", "ETag", "OData-EntityId")
    headers = {k.lower(): v for k, v in response.headers.items() if k in kept}
    if headers:
        answer["headers"] = headers
    if isinstance(response.body, bytes) and response.body:
        answer["body"] = _DECODER.decode(response.body)
    return answer
