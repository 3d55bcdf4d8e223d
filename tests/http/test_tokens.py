"""The token cache: single flight, proactive refresh, invalidation, health, revocation."""

from __future__ import annotations

import asyncio
import logging

import anyio
import pytest

from connector.errors import ConfigurationError, UnavailableError
from connector.http import Token, TokenCache

from .conftest import FakeTime


class Issuer:
    """A fake grant: hands out numbered tokens living `lifetime` seconds on the fake clock."""

    def __init__(self, clock: FakeTime, lifetime: float = 900, delay: float = 0.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.delay = delay
        self.previous: list[Token | None] = []
        self.fail_with: Exception | None = None

    async def fetch(self, previous: Token | None) -> Token:
        self.previous.append(previous)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        n = len(self.previous)
        return Token(f"access-{n}", self.clock() + self.lifetime, f"refresh-{n}")


async def test_concurrent_callers_share_one_fetch(fake_time: FakeTime) -> None:
    """Twenty callers on an empty cache trigger exactly one fetch and all get its token."""
    issuer = Issuer(fake_time, delay=0.01)
    cache = TokenCache(issuer.fetch, refresh_margin_s=60, name="t", clock=fake_time)
    got: list[Token] = []

    async def caller() -> None:
        got.append(await cache.get())

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(caller)
    assert len(issuer.previous) == 1
    assert {t.access_token for t in got} == {"access-1"}
    assert cache.refresh_total == 1


async def test_concurrent_callers_on_an_expired_token_share_one_fetch(fake_time: FakeTime) -> None:
    """Once the token expired, twenty callers cause one refresh, which sees the old token."""
    issuer = Issuer(fake_time, delay=0.01)
    cache = TokenCache(issuer.fetch, refresh_margin_s=60, name="t", clock=fake_time)
    first = await cache.get()
    fake_time.now += 10_000
    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(cache.get)
    assert len(issuer.previous) == 2
    assert issuer.previous[1] == first


async def test_token_is_refreshed_before_it_expires(fake_time: FakeTime) -> None:
    """A token is reused until `expires_at - margin`, then a new one is fetched."""
    issuer = Issuer(fake_time, lifetime=900)
    cache = TokenCache(issuer.fetch, refresh_margin_s=60, name="t", clock=fake_time)
    first = await cache.get()
    fake_time.now += 839
    assert await cache.get() is first
    assert cache.state().status == "valid"
    fake_time.now += 1
    assert cache.state().status == "expiring"
    second = await cache.get()
    assert second.access_token == "access-2"
    assert issuer.previous == [None, first]
    assert cache.refresh_total == 2


async def test_short_lived_token_is_renewed_halfway_not_on_every_call(fake_time: FakeTime) -> None:
    """A token living less than the margin is reused for half its life instead of refetched."""
    issuer = Issuer(fake_time, lifetime=30)
    cache = TokenCache(issuer.fetch, refresh_margin_s=60, name="t", clock=fake_time)
    first = await cache.get()
    fake_time.now += 14
    assert await cache.get() is first
    fake_time.now += 1
    assert (await cache.get()).access_token == "access-2"


async def test_invalidate_forgets_only_the_current_token(fake_time: FakeTime) -> None:
    """Invalidating a stale token twice leads to one refresh, not two."""
    issuer = Issuer(fake_time)
    cache = TokenCache(issuer.fetch, refresh_margin_s=60, name="t", clock=fake_time)
    stale = await cache.get()
    await cache.invalidate(stale)
    fresh = await cache.get()
    await cache.invalidate(stale)
    assert await cache.get() is fresh
    assert len(issuer.previous) == 2
    assert issuer.previous[1] == stale


async def test_fetch_failure_reaches_every_waiter_and_the_next_call_tries_again(
    fake_time: FakeTime,
) -> None:
    """A failed fetch raises in all concurrent callers; the next get() fetches anew."""
    issuer = Issuer(fake_time, delay=0.01)
    issuer.fail_with = UnavailableError("identity provider down")
    cache = TokenCache(issuer.fetch, refresh_margin_s=60, name="t", clock=fake_time)
    errors: list[BaseException] = []

    async def caller() -> None:
        try:
            await cache.get()
        except UnavailableError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(caller)
    assert len(errors) == 5
    assert len(issuer.previous) == 1
    issuer.fail_with = None
    assert (await cache.get()).access_token == "access-2"


async def test_cancelled_fetcher_hands_the_fetch_to_a_waiter(fake_time: FakeTime) -> None:
    """If the caller running the fetch is cancelled, a waiting caller fetches instead."""
    issuer = Issuer(fake_time, delay=0.05)
    cache = TokenCache(issuer.fetch, refresh_margin_s=60, name="t", clock=fake_time)
    got: list[Token] = []

    async def waiter() -> None:
        got.append(await cache.get())

    fetcher_scope = anyio.CancelScope()

    async def fetcher() -> None:
        with fetcher_scope:
            await cache.get()

    async with anyio.create_task_group() as tg:
        tg.start_soon(fetcher)
        await asyncio.sleep(0.01)  # the fetcher is now inside fetch()
        tg.start_soon(waiter)
        await asyncio.sleep(0.01)  # the waiter now waits on the same flight
        fetcher_scope.cancel()
    assert got and got[0].access_token == "access-2"


def test_state_reports_no_token_and_expired_token_as_none(fake_time: FakeTime) -> None:
    """/healthz sees 'none' with 0 s left before the first fetch."""
    cache = TokenCache(Issuer(fake_time).fetch, refresh_margin_s=60, name="t", clock=fake_time)
    state = cache.state()
    assert (state.status, state.seconds_left) == ("none", 0.0)


async def test_state_counts_down_and_goes_to_none_at_expiry(fake_time: FakeTime) -> None:
    """seconds_left follows the clock; an expired token reports 'none'."""
    cache = TokenCache(Issuer(fake_time).fetch, refresh_margin_s=60, name="t", clock=fake_time)
    await cache.get()
    fake_time.now += 100
    assert cache.state().seconds_left == pytest.approx(800)
    fake_time.now += 800
    assert cache.state().status == "none"


def test_token_repr_hides_both_secrets() -> None:
    """Neither the access token nor the refresh token appears in repr or str."""
    token = Token("eyJhbGciOi.secret.sig", 123.0, "Rt9Qm2Xv7LpB4nWc")
    for text in (repr(token), str(token), repr([token])):
        assert "eyJhbGciOi" not in text and "Rt9Qm2Xv7LpB4nWc" not in text
    assert "<hidden>" in repr(token)


def test_token_expiring_in_uses_the_clock(fake_time: FakeTime) -> None:
    """Token.expiring_in turns a server's expires_in into a monotonic expires_at."""
    token = Token.expiring_in("a", 7200, "r", clock=fake_time)
    assert token.expires_at == 1000 + 7200
    assert token.refresh_token == "r"


async def test_close_revokes_the_current_token(fake_time: FakeTime) -> None:
    """close() hands the current token to the revoke hook once and forgets it."""
    revoked: list[Token] = []

    async def revoke(token: Token) -> None:
        revoked.append(token)

    cache = TokenCache(
        Issuer(fake_time).fetch, refresh_margin_s=60, name="t", clock=fake_time, revoke=revoke
    )
    token = await cache.get()
    await cache.close()
    await cache.close()
    assert revoked == [token]
    assert cache.state().status == "none"


async def test_failed_revocation_is_logged_not_raised(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    """A revoke hook that fails does not stop shutdown, and the log holds no secret."""

    async def revoke(token: Token) -> None:
        raise ConfigurationError("revoke endpoint refused the client")

    cache = TokenCache(
        Issuer(fake_time).fetch, refresh_margin_s=60, name="infor", clock=fake_time, revoke=revoke
    )
    await cache.get()
    with caplog.at_level(logging.WARNING):
        await cache.close()
    assert "revoking the token on shutdown failed" in caplog.text
    assert "access-1" not in caplog.text
