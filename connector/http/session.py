"""The aiohttp session every system client talks through.

:func:`make_session` builds one ``aiohttp.ClientSession`` per external system connection
(the SystemSupervisor owns it and closes it on shutdown). What it guarantees:

- **explicit timeouts**: ``total`` bounds a whole request, ``connect`` the wait for a pooled
  or new connection (``sock_connect`` the TCP/TLS handshake alone) and ``sock_read`` the
  silence between two reads. Nothing waits forever on a server that stopped talking;
- **no shared cookies**: the default jar is ``aiohttp.DummyCookieJar``, which keeps nothing,
  so one system's session cookie can never ride along to another. Pass ``cookie_jar`` for a
  system whose API is cookie-based (Acumatica's login session);
- **no automatic status errors**: ``raise_for_status=False``, since
  :class:`connector.http.client.HttpClient` classifies every status itself;
- **no proxies from the environment** (``trust_env=False``): the VM's ``HTTPS_PROXY`` must
  not silently reroute credentials;
- **no hidden resends**: aiohttp on its own resends a GET, PUT or DELETE once when a kept-alive
  connection drops. A PUT may create a record (Acumatica's PUT is an upsert), so a silent
  resend would break exactly-once; :func:`forbid_hidden_retries` turns that off and every
  retry is decided by :class:`connector.http.client.HttpClient`, which knows whether the
  request is idempotent.

Call it from inside the running event loop, as aiohttp requires, and close the session.
"""

from __future__ import annotations

import aiohttp
from aiohttp.abc import AbstractCookieJar


def make_session(
    *,
    timeout_s: float,
    connect_timeout_s: float = 10,
    limit: int = 100,
    cookie_jar: AbstractCookieJar | None = None,
) -> aiohttp.ClientSession:
    """A session with the timeouts, connection cap and cookie policy described above.

    ``limit`` caps simultaneous connections (the pool), independently of any rate limiter.
    """
    if timeout_s <= 0 or connect_timeout_s <= 0:
        raise ValueError("session timeouts must be > 0 seconds")
    timeout = aiohttp.ClientTimeout(
        total=timeout_s,
        connect=connect_timeout_s,
        sock_connect=connect_timeout_s,
        sock_read=timeout_s,
    )
    session = aiohttp.ClientSession(
        timeout=timeout,
        connector=aiohttp.TCPConnector(limit=limit),
        cookie_jar=cookie_jar if cookie_jar is not None else aiohttp.DummyCookieJar(),
        raise_for_status=False,
        trust_env=False,
    )
    forbid_hidden_retries(session)
    return session


def forbid_hidden_retries(session: aiohttp.ClientSession) -> None:
    """Stop ``session`` from resending a request by itself after a dropped connection.

    aiohttp exposes no public switch; ``_retry_connection`` is the flag its own test client
    clears for the same reason. Sessions without the flag (older aiohttp) never resend.
    """
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
