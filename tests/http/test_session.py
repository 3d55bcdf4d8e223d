"""make_session: explicit timeouts, no shared cookies, no status exceptions, no resends."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from connector.http import make_session

from .conftest import Serve


def cookie_app_routes(cookies_seen: list[str]) -> list[web.RouteDef]:
    async def login(request: web.Request) -> web.Response:
        response = web.Response(text="ok")
        response.set_cookie("ASP.NET_SessionId", "abc123")
        return response

    async def data(request: web.Request) -> web.Response:
        cookies_seen.append(request.headers.get("Cookie", ""))
        return web.Response(status=500)

    return [web.post("/login", login), web.get("/data", data)]


async def test_session_has_explicit_timeouts_and_no_status_errors() -> None:
    """Total, connect and sock_read timeouts are set; statuses never raise by themselves."""
    async with make_session(timeout_s=30, connect_timeout_s=5, limit=7) as session:
        timeout = session.timeout
        assert (timeout.total, timeout.connect, timeout.sock_read) == (30, 5, 30)
        assert session.connector is not None and session.connector.limit == 7
        assert session._raise_for_status is False
        assert session._retry_connection is False


async def test_default_session_keeps_no_cookies(serve: Serve) -> None:
    """A cookie set by one answer is not sent back: nothing leaks between systems."""
    seen: list[str] = []
    base = await serve(*cookie_app_routes(seen))
    async with make_session(timeout_s=5) as session:
        async with session.post(base / "login") as response:
            assert response.status == 200
        async with session.get(base / "data") as response:
            assert response.status == 500
    assert seen == [""]


async def test_a_real_cookie_jar_can_be_passed_for_cookie_based_apis(serve: Serve) -> None:
    """With cookie_jar given (Acumatica's login session), cookies are kept."""
    seen: list[str] = []
    base = await serve(*cookie_app_routes(seen))
    jar = aiohttp.CookieJar(unsafe=True)
    async with make_session(timeout_s=5, cookie_jar=jar) as session:
        async with session.post(base / "login"):
            pass
        async with session.get(base / "data"):
            pass
    assert seen == ["ASP.NET_SessionId=abc123"]


async def test_session_refuses_a_non_positive_timeout() -> None:
    """A zero timeout would fail every request; it is refused when the session is made."""
    with pytest.raises(ValueError, match="timeouts"):
        make_session(timeout_s=0)
