"""e.net sessions: logon, UserIds, licence seats, idle timeout, one call at a time.

A logon checks the operator and company passwords and takes a licence seat; the UserId is 34
upper-case hex digits followed by two spaces, and only that exact text (spaces included) names
the session afterwards. A session idle longer than the timeout is gone; when every seat is
taken, a logon either takes over the longest-idle session's seat or is refused (a knob). A
UserId that is unknown, logged off, timed out or taken over is simply invalid.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from connector.sandbox.base import monotonic
from connector.sandbox.syspro.knobs import SysproKnobs

USER_ID_HEX_DIGITS = 34


@dataclass(frozen=True)
class Logins:
    """The test company's credentials (what ``/_sandbox/credentials`` hands out)."""

    operator: str = "ADMIN"
    operator_password: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    company: str = "EDU1"
    company_password: str = ""


@dataclass
class Session:
    user_id: str
    operator: str
    last_used: float
    busy: bool = False


class LogonRefused(Exception):
    """A logon e.net refuses; the message is the text after ``ERROR: ``."""


class SessionTable:
    """Every live session of the simulated server."""

    def __init__(self, logins: Logins) -> None:
        self.logins = logins
        self.sessions: dict[str, Session] = {}
        self.logons = 0
        self.taken_over = 0

    def logon(
        self,
        knobs: SysproKnobs,
        operator: str,
        operator_password: str,
        company: str,
        company_password: str,
    ) -> str:
        """A new session's UserId, or LogonRefused with SYSPRO's reason."""
        if operator.upper() != self.logins.operator.upper():
            raise LogonRefused(f"Operator '{operator}' not found")
        if operator_password != self.logins.operator_password:
            raise LogonRefused("Invalid operator password")
        if company.upper() != self.logins.company.upper():
            raise LogonRefused(f"Company '{company}' not found")
        if company_password != self.logins.company_password:
            raise LogonRefused("Invalid company password")
        now = monotonic()
        self.expire_idle(knobs, now)
        if knobs.licence_seats > 0 and len(self.sessions) >= knobs.licence_seats:
            idle = [s for s in self.sessions.values() if not s.busy]
            if knobs.when_seats_full == "refuse" or not idle:
                raise LogonRefused(
                    f"All {knobs.licence_seats} e.net licences for operator "
                    f"'{operator.upper()}' are in use"
                )
            longest_idle = min(idle, key=lambda s: s.last_used)
            del self.sessions[longest_idle.user_id]
            self.taken_over += 1
        user_id = secrets.token_hex(USER_ID_HEX_DIGITS // 2).upper() + "  "
        self.sessions[user_id] = Session(user_id, operator.upper(), now)
        self.logons += 1
        return user_id

    def use(self, knobs: SysproKnobs, user_id: str) -> Session | None:
        """The live session ``user_id`` names (its idle clock restarted), or None."""
        now = monotonic()
        self.expire_idle(knobs, now)
        session = self.sessions.get(user_id)
        if session is not None:
            session.last_used = now
        return session

    def logoff(self, knobs: SysproKnobs, user_id: str) -> bool:
        if self.use(knobs, user_id) is None:
            return False
        del self.sessions[user_id]
        return True

    def expire_idle(self, knobs: SysproKnobs, now: float) -> None:
        if knobs.idle_timeout_s <= 0:
            return
        for user_id, session in list(self.sessions.items()):
            if not session.busy and now - session.last_used >= knobs.idle_timeout_s:
                del self.sessions[user_id]
