"""How the IFS client sends: the HTTP kit plus the few answers only IFS gives.

:class:`Transport` wraps :class:`~connector.http.client.HttpClient` (which owns retries,
throttling, 401 refreshes and in-doubt writes) and adds, for every request:

* ``MI_MODIFIED_ERROR`` (500: the projection's metadata changed): IFS refused before running
  anything, so the same request is sent once more, as IFS asks; twice is UnavailableError;
* a redirect to ``/auth/`` (how some set-ups answer a dead token) counts as a 401: the token
  is renewed and the request sent once more; any other redirect is a ConfigurationError,
  since credentials are never sent after a redirect;
* any other 5xx after a write is InDoubtError (:func:`.problems.refusal`).

Reads answer 200/400/404 to the caller; writes also 201/204/405/409/412/422/428, which the
client turns into results or errors naming the row.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping

from yarl import URL

from connector.errors import AuthError, ConfigurationError, UnavailableError
from connector.http.client import HttpClient, HttpResponse
from connector.http.tokens import TokenCache
from connector.systems.ifs.problems import SYSTEM, is_metadata_changed, refusal

log = logging.getLogger(__name__)

_READ_OK = frozenset({200, 302, 303, 307, 400, 404})
_WRITE_OK = frozenset({200, 201, 204, 302, 303, 307, 400, 404, 405, 409, 412, 422, 428, 500})


class Transport:
    """Sends projection requests for one client; ``tokens`` lets a redirect renew the token."""

    def __init__(self, http: HttpClient, tokens: TokenCache | None) -> None:
        self._http = http
        self._tokens = tokens

    async def read(
        self, url: URL, label: str, *, params: Mapping[str, str] | None = None
    ) -> HttpResponse:
        return await self._send("GET", url, label, params=params, write=False, ok=_READ_OK)

    async def write(
        self,
        method: str,
        url: URL,
        label: str,
        *,
        json: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        return await self._send(
            method, url, label, json=json, headers=headers, write=True, ok=_WRITE_OK
        )

    async def _send(
        self,
        method: str,
        url: URL,
        label: str,
        *,
        write: bool,
        ok: Collection[int],
        params: Mapping[str, str] | None = None,
        json: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """One request, sent again once after MI_MODIFIED_ERROR or a redirect to /auth/."""
        metadata_retried = redirect_retried = False
        while True:
            response = await self._http.request(
                method,
                url,
                params=params,
                json=json,
                headers=headers,
                idempotent=not write,
                record=label,
                ok_statuses=ok,
            )
            if is_metadata_changed(response):
                if metadata_retried:
                    raise UnavailableError(
                        f"{method} {url.path} for {label}: IFS answered MI_MODIFIED_ERROR twice "
                        "(projection metadata keeps changing, e.g. during a deployment); the "
                        "record is tried again later",
                        system=SYSTEM,
                        record=label,
                    )
                # IFS refused before running anything: the same request is safe once more.
                metadata_retried = True
                log.info("ifs %s: projection metadata changed; sending the request again", label)
                continue
            if 300 <= response.status < 400:
                redirect_retried = await self._after_redirect(response, label, redirect_retried)
                continue
            if response.status >= 500:
                raise refusal(response, label, write=write)
            return response

    async def _after_redirect(self, response: HttpResponse, label: str, retried: bool) -> bool:
        location = response.headers.get("Location", "")
        if "/auth/" not in location:
            raise ConfigurationError(
                f"{response.method} {response.path} for {label} → HTTP {response.status} "
                "redirecting away from the API; redirects are never followed with credentials: "
                "check `url` of the IFS system in the config",
                system=SYSTEM,
                record=label,
            )
        if retried or self._tokens is None:
            raise AuthError(
                f"{response.method} {response.path} for {label}: IFS sent the request to its "
                "sign-in page again after a token refresh; check the IAM client's service user "
                "and its permission sets",
                system=SYSTEM,
                record=label,
            )
        # A redirect to sign in is IFS's way of saying 401 on some set-ups (sheet §1).
        await self._tokens.invalidate(await self._tokens.get())
        return True
