"""Beside a running service: the CLI's writing commands go through its admin API.

The service holds the state's process lock, so ``errors retry|dismiss`` and ``mappings
set|delete`` cannot open the state for writing; instead they send the same request to the
service's admin API (:mod:`connector.admin_api`) on ``admin_host:admin_port``, with the
admin token from the vault, and the service does the work. A note on stderr says so.
"""

from __future__ import annotations

import sys
from typing import Any

import aiohttp
import msgspec

from connector.config import Config
from connector.errors import ConfigurationError
from connector.store.lock import StateLockedError
from connector.vault import open_vault

#: Replays run inside the request: allow them time, but not to connect.
TIMEOUT = aiohttp.ClientTimeout(total=None, connect=10.0, sock_connect=10.0)


def admin_url(config: Config, path: str) -> str:
    """The admin API's URL of ``path``, reaching a wildcard listener through loopback."""
    host = config.service.admin_host
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - recognising the wildcard, not binding it
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.service.admin_port}{path}"


async def ask_service(
    config: Config, locked: StateLockedError, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    """POST ``body`` to the running service's ``path``; its JSON answer, or a
    ConfigurationError with the service's own message (or why it could not be asked)."""
    url = admin_url(config, path)
    headers: dict[str, str] = {}
    credential = config.service.admin_token_credential
    if credential:
        token = open_vault(config).get(credential).secret("token")
        headers["Authorization"] = f"Bearer {token}"
    print(f"(the service holds the state: asking it through {url})", file=sys.stderr)
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.post(url, data=msgspec.json.encode(body), headers=headers) as response,
        ):
            status, raw = response.status, await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ConfigurationError(
            f"{locked.message}, and its admin API at {url} does not answer ({exc}): check "
            "admin_host/admin_port in the config, or stop the service and run this again"
        ) from exc
    if status == 401:
        raise ConfigurationError(
            f"the service at {url} refused the admin token (HTTP 401): store the token it "
            f"uses with `ml-connector creds set {credential or 'admin-token'} --kind bearer`"
            + ("" if credential else " and name it in admin_token_credential under [service]")
        )
    try:
        answer = msgspec.json.decode(raw, type=dict[str, Any])
    except msgspec.DecodeError:
        answer = {}
    if status != 200:
        raise ConfigurationError(str(answer.get("error") or f"{url} answered HTTP {status}"))
    return answer
