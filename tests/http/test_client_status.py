"""HttpClient classification of answers: auth, redirects, 4xx, body decoding, headers."""

from __future__ import annotations

import random

import aiohttp
import anyio
import msgspec
import pytest
from aiohttp import web

from connector.errors import (
    AuthError,
    ConfigurationError,
    ConflictError,
    InDoubtError,
    RejectedError,
    UnavailableError,
)
from connector.http import HttpClient, RateLimiter, RetryPolicy, Token, TokenCache

from .conftest import FakeTime, Handler, Serve


class Issuer:
    """Hands out tok-1, tok-2, … each living 900 s on the fake clock; counts its fetches."""

    def __init__(self, clock: FakeTime) -> None:
        self.clock = clock
        self.fetches = 0

    async def fetch(self, previous: Token | None) -> Token:
        self.fetches += 1
        return Token(f"tok-{self.fetches}", self.clock() + 900)


def make_client(
    session: aiohttp.ClientSession,
    clock: FakeTime,
    tokens: TokenCache | None = None,
    static_headers: dict[str, str] | None = None,
) -> HttpClient:
    return HttpClient(
        "acme",
        session,
        limiter=RateLimiter(1000, 1, name="test", clock=clock, sleep=clock.sleep),
        tokens=tokens,
        auth_headers=(lambda t: {"Authorization": f"Bearer {t.access_token}"}) if tokens else None,
        static_headers=static_headers or {},
        retry=RetryPolicy(max_attempts=3),
        rng=random.Random(5),
        sleep=clock.sleep,
    )


def bearer_server(accepted: set[str], seen: list[str]) -> Handler:
    """A handler that answers 200 only to a bearer in `accepted`, else 401; logs bearers."""

    async def handler(request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        seen.append(token)
        if token in accepted:
            return web.json_response({"ok": True})
        return web.json_response({"error": "Unauthorized"}, status=401)

    return handler


async def test_401_refreshes_once_and_the_retry_succeeds(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 401 invalidates the token, exactly one new one is fetched, and the retry passes."""
    issuer = Issuer(fake_time)
    tokens = TokenCache(issuer.fetch, refresh_margin_s=60, name="acme", clock=fake_time)
    await tokens.get()
    seen: list[str] = []
    base = await serve(web.get("/data", bearer_server({"tok-2"}, seen)))
    response = await make_client(session, fake_time, tokens).request(
        "GET", base / "data", idempotent=True
    )
    assert response.status == 200
    assert seen == ["tok-1", "tok-2"]
    assert issuer.fetches == 2


async def test_second_401_raises_auth_error_without_the_token(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 401 after the refresh raises AuthError naming the credential, never the token."""
    issuer = Issuer(fake_time)
    tokens = TokenCache(issuer.fetch, refresh_margin_s=60, name="acme", clock=fake_time)
    seen: list[str] = []
    base = await serve(web.post("/data", bearer_server(set(), seen)))
    with pytest.raises(AuthError, match="token rejected after a refresh: check the credential"):
        await make_client(session, fake_time, tokens).request(
            "POST", base / "data", json=b"{}", idempotent=False
        )
    assert seen == ["tok-1", "tok-2"]
    assert issuer.fetches == 2


async def test_401_without_a_token_cache_is_an_auth_error_at_once(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """Without a token to refresh, a 401 is not retried."""
    seen: list[str] = []
    base = await serve(web.get("/data", bearer_server(set(), seen)))
    with pytest.raises(AuthError, match="credentials rejected"):
        await make_client(session, fake_time).request("GET", base / "data", idempotent=True)
    assert len(seen) == 1


async def test_twenty_callers_on_an_expired_token_cause_one_fetch(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """Twenty concurrent requests with an expired token trigger exactly one fetch."""
    issuer = Issuer(fake_time)
    tokens = TokenCache(issuer.fetch, refresh_margin_s=60, name="acme", clock=fake_time)
    await tokens.get()
    fake_time.now += 1000
    seen: list[str] = []
    base = await serve(web.get("/data", bearer_server({"tok-2"}, seen)))
    client = make_client(session, fake_time, tokens)

    async def caller() -> None:
        await client.request("GET", base / "data", idempotent=True)

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(caller)
    assert issuer.fetches == 2
    assert seen == ["tok-2"] * 20


async def test_twenty_401s_with_the_same_stale_token_cause_one_refresh(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """Callers that all hit 401 with one revoked token share a single refresh."""
    issuer = Issuer(fake_time)
    tokens = TokenCache(issuer.fetch, refresh_margin_s=60, name="acme", clock=fake_time)
    await tokens.get()
    seen: list[str] = []
    base = await serve(web.get("/data", bearer_server({"tok-2"}, seen)))
    client = make_client(session, fake_time, tokens)
    statuses: list[int] = []

    async def caller() -> None:
        statuses.append((await client.request("GET", base / "data", idempotent=True)).status)

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(caller)
    assert statuses == [200] * 20
    assert issuer.fetches == 2


async def test_redirect_is_not_followed_and_names_the_location(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 302 raises ConfigurationError naming the Location without its query; no follow-up."""
    landed: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/login?code=s3cret-code")

    async def login(request: web.Request) -> web.Response:
        landed.append(request.headers.get("Authorization", ""))
        return web.Response(text="login page")

    base = await serve(web.get("/api/items", redirect), web.get("/login", login))
    issuer = Issuer(fake_time)
    tokens = TokenCache(issuer.fetch, refresh_margin_s=60, name="acme", clock=fake_time)
    with pytest.raises(ConfigurationError) as caught:
        await make_client(session, fake_time, tokens).request(
            "GET", base / "api/items", idempotent=True
        )
    message = str(caught.value)
    assert "HTTP 302 redirecting to /login" in message
    assert "s3cret-code" not in message and "tok-1" not in message
    assert landed == []


async def test_412_is_a_conflict(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A failed precondition (stale ETag) raises ConflictError, not a retry."""
    calls: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(1)
        return web.json_response({"error": "ETag mismatch"}, status=412)

    base = await serve(web.patch("/PurchaseOrder", handler))
    with pytest.raises(ConflictError, match="re-read"):
        await make_client(session, fake_time).request(
            "PATCH",
            base / "PurchaseOrder",
            json=b"{}",
            headers={"If-Match": 'W/"1"'},
            idempotent=False,
        )
    assert calls == [1]


async def test_409_is_rejected_with_code_conflict(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 409 (duplicate) is a RejectedError with code 'conflict'."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"title": "Vendor name already exists"}, status=409)

    base = await serve(web.post("/vendors", handler))
    with pytest.raises(RejectedError) as caught:
        await make_client(session, fake_time).request(
            "POST", base / "vendors", json=b"{}", idempotent=False
        )
    assert caught.value.code == "conflict"
    assert "Vendor name already exists" in str(caught.value)


async def test_400_is_rejected_with_a_short_body_excerpt(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 400 raises RejectedError with status, path, record and at most 300 body characters."""
    body = '{"errors": {"vendorId": ["is required"]}, "pad": "' + "x" * 1000 + '"}'

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body, status=400, content_type="application/json")

    base = await serve(web.post("/bills", handler))
    with pytest.raises(RejectedError) as caught:
        await make_client(session, fake_time).request(
            "POST",
            base / "bills",
            json=b"{}",
            idempotent=False,
            record="bill 88812",
            params={"password": "hunter2"},
        )
    message = str(caught.value)
    assert caught.value.code == "http_400"
    assert "POST /bills → HTTP 400" in message and "bill 88812" in message
    assert '"vendorId": ["is required"]' in message
    excerpt = message.split("HTTP 400: ", 1)[1].split("; the target refused", 1)[0]
    assert len(excerpt) <= 300
    assert "hunter2" not in message


async def test_ok_statuses_are_returned_unclassified(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 404 listed in ok_statuses comes back as a response, not an error."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"error": "not found"}, status=404)

    base = await serve(web.get("/vendors/7", handler))
    response = await make_client(session, fake_time).request(
        "GET", base / "vendors/7", idempotent=True, ok_statuses={200, 404}
    )
    assert response.status == 404


async def test_500_is_retried_then_unavailable(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """Plain 500s are retried up to the attempt budget and end in UnavailableError."""
    calls: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(1)
        return web.Response(status=500)

    base = await serve(web.get("/x", handler))
    with pytest.raises(UnavailableError, match="HTTP 500"):
        await make_client(session, fake_time).request("GET", base / "x", idempotent=True)
    assert len(calls) == 3


async def test_403_is_a_configuration_error_not_a_record_failure(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 403 (missing scope, wrong tenant) stops the flow instead of dead-lettering records."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"title": "Forbidden"}, status=403)

    base = await serve(web.get("/x", handler))
    with pytest.raises(ConfigurationError, match="permission"):
        await make_client(session, fake_time).request("GET", base / "x", idempotent=True)


async def test_500_on_a_write_is_in_doubt_and_not_resent(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 500 answering a write may follow a commit: InDoubtError, and the POST is sent once."""
    calls: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(1)
        return web.Response(status=500)

    base = await serve(web.post("/x", handler))
    with pytest.raises(InDoubtError, match="HTTP 500"):
        await make_client(session, fake_time).request(
            "POST", base / "x", json=b"{}", idempotent=False
        )
    assert len(calls) == 1


@pytest.mark.parametrize("status", [503, 520, 524, 599])
async def test_any_5xx_but_a_throttle_on_a_write_is_in_doubt_and_sent_once(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime, status: int
) -> None:
    """Issue 12 item 7: 503 without Retry-After, 520, 524… may follow a commit: one POST."""
    calls: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(1)
        return web.Response(status=status)

    base = await serve(web.post("/x", handler))
    with pytest.raises(InDoubtError, match=f"HTTP {status}"):
        await make_client(session, fake_time).request(
            "POST", base / "x", json=b"{}", idempotent=False
        )
    assert len(calls) == 1


async def test_throttling_503_with_retry_after_on_a_write_is_retried(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 503 with Retry-After promises nothing was processed: the write is sent again."""
    calls: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(1)
        if len(calls) == 1:
            return web.Response(status=503, headers={"Retry-After": "1"})
        return web.json_response({})

    base = await serve(web.post("/x", handler))
    await make_client(session, fake_time).request(
        "POST", base / "x", json=b"{}", idempotent=False
    )
    assert len(calls) == 2


class Vendor(msgspec.Struct):
    id: int
    name: str


async def test_json_body_decodes_into_a_struct_and_bad_shapes_are_rejected(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """HttpResponse.json decodes with msgspec; a mismatching body is an 'unexpected response'."""

    async def good(request: web.Request) -> web.Response:
        return web.json_response({"id": 7, "name": "Acme Supply"})

    async def bad(request: web.Request) -> web.Response:
        return web.json_response({"id": "seven"})

    base = await serve(web.get("/good", good), web.get("/bad", bad))
    client = make_client(session, fake_time)
    ok = await client.request("GET", base / "good", params={"token": "abc"}, idempotent=True)
    assert ok.json(Vendor) == Vendor(7, "Acme Supply")
    bad_response = await client.request("GET", base / "bad", params={"key": "s3"}, idempotent=True)
    with pytest.raises(RejectedError, match="unexpected response to GET /bad") as caught:
        bad_response.json(Vendor)
    assert caught.value.code == "unexpected_response"
    assert "s3" not in str(caught.value)


async def test_headers_and_bodies_are_sent_as_declared(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """Static, auth and per-call headers ride along; json is sent as application/json."""
    got: dict[str, str] = {}

    async def handler(request: web.Request) -> web.Response:
        got.update(request.headers)
        got["body"] = (await request.read()).decode()
        return web.Response(status=201)

    base = await serve(web.post("/customers", handler))
    tokens = TokenCache(Issuer(fake_time).fetch, refresh_margin_s=60, name="st", clock=fake_time)
    client = make_client(session, fake_time, tokens, static_headers={"ST-App-Key": "ak"})
    response = await client.request(
        "POST",
        base / "customers",
        json=msgspec.json.encode({"name": "Jo"}),
        headers={"X-Trace": "1"},
        idempotent=False,
    )
    assert response.status == 201
    assert got["ST-App-Key"] == "ak" and got["X-Trace"] == "1"
    assert got["Authorization"] == "Bearer tok-1"
    assert got["Content-Type"] == "application/json"
    assert got["body"] == '{"name":"Jo"}'


async def test_form_data_is_sent_form_encoded(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A data mapping is sent as application/x-www-form-urlencoded (token grants)."""

    async def handler(request: web.Request) -> web.Response:
        form = await request.post()
        return web.json_response({"grant": form["grant_type"], "ct": request.content_type})

    base = await serve(web.post("/token", handler))
    response = await make_client(session, fake_time).request(
        "POST", base / "token", data={"grant_type": "client_credentials"}, idempotent=False
    )
    assert msgspec.json.decode(response.body) == {
        "grant": "client_credentials",
        "ct": "application/x-www-form-urlencoded",
    }


async def test_client_refuses_tokens_without_auth_headers(
    session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """Passing a token cache without a way to turn tokens into headers is a setup error."""
    tokens = TokenCache(Issuer(fake_time).fetch, refresh_margin_s=60, name="x", clock=fake_time)
    with pytest.raises(ValueError, match="together"):
        HttpClient(
            "acme", session, limiter=RateLimiter(1, 1, name="x"), tokens=tokens, auth_headers=None
        )
