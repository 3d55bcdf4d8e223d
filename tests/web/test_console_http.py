"""The console's access rules, over plain HTTP: login, session, CSRF, bearer API intact."""

from __future__ import annotations

import re

import aiohttp

from tests.web.conftest import TOKEN, ConsoleService


def browser_like() -> aiohttp.ClientSession:
    """A client that keeps cookies for 127.0.0.1, as a browser does (aiohttp's default jar
    drops cookies of bare IP addresses)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def login(session: aiohttp.ClientSession, url: str, token: str = TOKEN) -> str:
    """Log in through the form; returns the page reached."""
    async with session.get(f"{url}/console/login") as response:
        page = await response.text()
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None, page
    async with session.post(
        f"{url}/console/login", data={"csrf": match[1], "token": token}
    ) as response:
        return str(response.url)


async def test_pages_need_a_login_with_the_admin_token(service: ConsoleService) -> None:
    """Without a session every page redirects to the login; a wrong token is refused; the
    right one opens the console; /metrics still wants the bearer header."""
    async with browser_like() as session:
        async with session.get(f"{service.url}/console/errors") as response:
            assert response.url.path == "/console/login"
        assert (await login(session, service.url, "wrong")).endswith("/console/login?failed=1")
        assert (await login(session, service.url)).endswith("/console/")
        async with session.get(f"{service.url}/console/errors") as response:
            assert response.status == 200
            assert "Errors by cause" in await response.text()
        async with session.get(f"{service.url}/metrics") as response:
            assert response.status == 401
    async with aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {TOKEN}"}
    ) as session, session.get(f"{service.url}/metrics") as response:
        assert response.status == 200


async def test_a_form_without_the_session_csrf_token_is_refused(service: ConsoleService) -> None:
    """A logged-in browser posting without (or with another) CSRF token gets 403, and the
    mapping it tried to set is not stored."""
    async with browser_like() as session:
        await login(session, service.url)
        form = {"kind": "gl_account", "key": "7777", "value": "4010"}
        for csrf in ({}, {"csrf": "forged"}):
            async with session.post(
                f"{service.url}/console/mappings/set", data={**form, **csrf}
            ) as response:
                assert response.status == 403
                assert "CSRF check failed" in await response.text()
        async with session.get(f"{service.url}/console/mappings") as response:
            assert 'data-mapping="gl_account:7777"' not in await response.text()
