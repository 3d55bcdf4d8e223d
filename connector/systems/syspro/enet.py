"""e.net Solutions REST: logon, logoff and one business-object call, classified into errors.

Every e.net call is a GET whose parameters — passwords at logon, whole XML documents for a
post — travel in the query string, and every answer is HTTP 200: a body starting with
``ERROR:`` is a refusal. The query string is percent-encoded here (``%20`` for a space, as
SYSPRO's own clients send it; the UserId's two trailing spaces are part of it) and checked
against ``max_url_bytes`` before sending, since HTTP.sys refuses longer request lines.

The HTTP kit never puts a query string in a message, so neither passwords nor documents reach
a log or an exception. Posts are sent with ``idempotent=False``: a lost answer is
``InDoubtError``, settled by a lookup, never by sending again.

:class:`EnetSession` is one logged-on UserId. It runs one call at a time (parallel calls on
one UserId are unsafe), logs on again once when SYSPRO says the UserId is invalid (dropped
after its idle timeout or taken over for a licence seat: nothing of the call was processed),
and :meth:`EnetSession.logoff` gives the licence seat back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import quote

import anyio
from yarl import URL

from connector.errors import (
    AuthError,
    ConnectorError,
    RejectedError,
    UnavailableError,
    clause,
)
from connector.http.client import HttpClient
from connector.systems.syspro.xmlout import SYSTEM, error_text, is_invalid_session

log = logging.getLogger(__name__)

#: HTTP.sys's default limit on a request line (``MaxFieldLength``).
DEFAULT_MAX_URL_BYTES = 16384
#: How long a logoff may take before the session is left to its idle timeout.
LOGOFF_TIMEOUT_S = 15.0
_AUTH_REFUSALS = ("password", "operator", "company")
_BUSY = ("already processing", "licen")


@dataclass(frozen=True)
class Operator:
    """Who logs on: operator and company, with their passwords (hidden from ``repr``)."""

    credential_name: str
    operator: str
    operator_password: str = field(repr=False)
    company: str
    company_password: str = field(repr=False, default="")


class SessionInvalid(Exception):
    """e.net no longer knows the UserId; log on again (nothing of the call was processed)."""


class Enet:
    """Sends e.net calls for one server and operator through the HTTP kit."""

    def __init__(
        self,
        http: HttpClient,
        enet_url: str,
        operator: Operator,
        *,
        max_url_bytes: int = DEFAULT_MAX_URL_BYTES,
    ) -> None:
        self.http = http
        self.enet_url = enet_url.rstrip("/")
        self.operator = operator
        self.max_url_bytes = max_url_bytes

    def __repr__(self) -> str:
        return f"Enet(url={self.enet_url!r}, operator={self.operator!r})"

    async def logon(self) -> str:
        """A new UserId, exactly as sent (trailing spaces kept)."""
        op = self.operator
        # A logon only takes a seat; resending one whose answer was lost at worst leaves a
        # session to its idle timeout, so it is retried like a read.
        body = await self._get(
            "Logon",
            [
                ("Operator", op.operator),
                ("OperatorPassword", op.operator_password),
                ("CompanyId", op.company),
                ("CompanyPassword", op.company_password),
            ],
            write=False,
            record="logon",
        )
        message = error_text(body)
        if message is not None:
            raise self._logon_refusal(message)
        user_id = body.decode("ascii", errors="replace")
        if not user_id.strip():
            raise UnavailableError(
                f"SYSPRO e.net at {self.enet_url} answered the logon of operator {op.operator!r} "
                "with an empty UserId; check the e.net Communications Load Balancer service",
                system=SYSTEM,
                record="logon",
            )
        return user_id

    async def logoff(self, user_id: str) -> None:
        """Give the seat back; a failure is logged, not raised (the idle timeout ends it)."""
        try:
            body = await self._get("Logoff", [("UserId", user_id)], write=False, record="logoff")
        except ConnectorError as exc:
            log.warning(
                "syspro %s: logoff failed (%s); the seat frees at the idle timeout",
                self.enet_url,
                exc,
            )
            return
        message = error_text(body)
        if message is not None and not is_invalid_session(message):
            log.warning(
                "syspro %s: logoff refused (%s); the seat frees at the idle timeout",
                self.enet_url,
                message,
            )

    async def call(
        self,
        operation: str,
        user_id: str,
        params: list[tuple[str, str]],
        *,
        write: bool,
        record: str,
        what: str,
    ) -> bytes:
        """The body of a business-object call that did not answer ``ERROR:``.

        SessionInvalid when the UserId is dead; RejectedError for any other ``ERROR:`` (the
        business object refused the call as a whole: nothing was posted), UnavailableError
        when the UserId or the licence is busy.
        """
        body = await self._get(
            operation, [("UserId", user_id), *params], write=write, record=record
        )
        message = error_text(body)
        if message is None:
            return body
        if is_invalid_session(message):
            raise SessionInvalid(message)
        if any(marker in message.lower() for marker in _BUSY):
            raise UnavailableError(
                f"SYSPRO could not run the {what} now: {clause(message)}. Nothing was posted; "
                "it is tried again later",
                system=SYSTEM,
                record=record,
            )
        advice = (
            "Nothing was posted; fix the record or its mapping, then replay it"
            if write
            else "The connector built a call SYSPRO does not accept; report it with this message"
        )
        raise RejectedError(
            f"SYSPRO refused the {what}: {clause(message)}. {advice}",
            system=SYSTEM,
            record=record,
            code="enet_error",
        )

    async def _get(
        self, operation: str, params: list[tuple[str, str]], *, write: bool, record: str
    ) -> bytes:
        query = "&".join(
            f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in params
        )
        url = URL(f"{self.enet_url}/{operation}?{query}", encoded=True)
        if len(url.raw_path_qs) > self.max_url_bytes:
            raise RejectedError(
                f"the {operation} call for {record} would be a {len(url.raw_path_qs)}-byte "
                f"request line, past the {self.max_url_bytes} bytes SYSPRO's web server "
                "accepts; nothing was sent: split the document (fewer lines) and replay it",
                system=SYSTEM,
                record=record,
                code="too_large",
            )
        response = await self.http.request("GET", url, idempotent=not write, record=record)
        return response.body

    def _logon_refusal(self, message: str) -> ConnectorError:
        op = self.operator
        where = (
            f"SYSPRO e.net at {self.enet_url} refused the logon of operator {op.operator!r} "
            f"to company {op.company!r}: {message}"
        )
        lowered = message.lower()
        if any(marker in lowered for marker in _BUSY):
            return UnavailableError(
                f"{where}. Every e.net licence seat is in use: sessions that were never logged "
                "off hold theirs until the idle timeout; the logon is tried again later",
                system=SYSTEM,
                record="logon",
            )
        if any(marker in lowered for marker in _AUTH_REFUSALS):
            return AuthError(
                f"{where}. Check operator, operator_password, company and company_password of "
                f"credential {op.credential_name!r}, then store them again with "
                f"`ml-connector creds set {op.credential_name} --kind syspro`",
                system=SYSTEM,
                record="logon",
            )
        return UnavailableError(f"{where}; tried again later", system=SYSTEM, record="logon")


class EnetSession:
    """One logged-on UserId; see the module docstring. Use through ``SysproConnection``."""

    def __init__(self, enet: Enet) -> None:
        self.enet = enet
        self._user_id: str | None = None
        self._lock = anyio.Lock()
        #: Logons made by this session (1, plus one per expired UserId replaced).
        self.logons = 0

    def __repr__(self) -> str:
        return f"EnetSession(enet={self.enet!r}, open={self._user_id is not None})"

    async def logon(self) -> None:
        self._user_id = await self.enet.logon()
        self.logons += 1

    async def logoff(self) -> None:
        """Log off, shielded from cancellation and bounded by ``LOGOFF_TIMEOUT_S``."""
        user_id, self._user_id = self._user_id, None
        if user_id is None:
            return
        with anyio.move_on_after(LOGOFF_TIMEOUT_S, shield=True):
            await self.enet.logoff(user_id)

    async def call(
        self,
        operation: str,
        params: list[tuple[str, str]],
        *,
        write: bool,
        record: str,
        what: str,
    ) -> bytes:
        """Run one call on this session's UserId, one at a time, logging on again once."""
        async with self._lock:
            if self._user_id is None:
                raise RuntimeError("the SYSPRO session is not logged on; use `async with`")
            try:
                return await self.enet.call(
                    operation, self._user_id, params, write=write, record=record, what=what
                )
            except SessionInvalid:
                log.info(
                    "syspro %s: the session's UserId expired; logging on again", self.enet.enet_url
                )
            await self.logon()
            try:
                return await self.enet.call(
                    operation, self._user_id or "", params, write=write, record=record, what=what
                )
            except SessionInvalid:
                raise AuthError(
                    f"SYSPRO answered 'UserID is invalid' right after a fresh logon for the "
                    f"{what}: sessions are being dropped at once (licence seats taken over, or "
                    "an idle timeout of zero); check the operator's e.net licence allocation",
                    system=SYSTEM,
                    record=record,
                ) from None
