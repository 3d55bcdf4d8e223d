"""Alerts: a JSON POST and/or an email when a run stops or a flow's open errors grow.

Delivery is best effort and never holds up a run: one attempt per channel with a short
timeout, a failure logged (the alert is also in /metrics and the console, so nothing
depends on it). Email goes through the SMTP relay of ``[service.alerts]`` with the stdlib
``smtplib`` in a worker thread; STARTTLS is required when configured (a server that does
not offer it is refused rather than sent the password in clear), and the login comes from
the vault (``creds set NAME --kind smtp``), read at send time so a rotated password needs
no restart.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import cast

import aiohttp
import anyio

from connector.config.models import EmailAlerts, ServiceConfig
from connector.errors import ConnectorError
from connector.runtime.causes import group_dead_letters
from connector.runtime.runner import CycleReport
from connector.store import Store
from connector.vault import Credential

log = logging.getLogger("connector.alerts")

TIMEOUT_S = 10.0
Alert = dict[str, object]


@dataclass
class Alerts:
    url: str | None
    email: EmailAlerts = field(default_factory=EmailAlerts)
    #: Reads a vault credential by name (the SMTP login).
    credential: Callable[[str], Credential] | None = None
    #: Open dead letters per flow when last alerted (or first seen): alerts fire on growth.
    open_errors: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_config(cls, service: ServiceConfig, credential: Callable[[str], Credential]) -> Alerts:
        return cls(service.alert_webhook_url, service.alerts, credential)

    @property
    def emails(self) -> bool:
        return self.email.smtp_host is not None and bool(self.email.to)

    async def after_run(self, store: Store, report: CycleReport) -> None:
        if self.url is None and not self.emails:
            return
        if not report.ok:
            await self.send(
                {
                    "event": "run_failed",
                    "flow": report.flow,
                    "run_id": report.run_id,
                    "trigger": report.trigger,
                    "error": report.error,
                }
            )
        letters = await store.dead_letters(flow=report.flow)
        before = self.open_errors.get(report.flow, 0)
        self.open_errors[report.flow] = len(letters)
        if len(letters) > before:
            largest = group_dead_letters(letters)[0]
            await self.send(
                {
                    "event": "errors_growing",
                    "flow": report.flow,
                    "run_id": report.run_id,
                    "open_errors": len(letters),
                    "new_errors": len(letters) - before,
                    "largest_group": {
                        "group": largest.cause.group_id,
                        "count": largest.count,
                        "cause": largest.cause.template,
                    },
                }
            )

    async def send(self, alert: Alert) -> None:
        """Every configured channel, each on its own: one failing does not stop the other."""
        if self.url is not None:
            await _post(self.url, alert)
        if self.emails:
            await self._mail(alert)

    async def _mail(self, alert: Alert) -> None:
        email = self.email
        host = email.smtp_host
        if host is None:
            return
        try:
            login = None
            if email.smtp_credential is not None:
                if self.credential is None:
                    raise ConnectorError("no vault to read the SMTP login from")
                secret = self.credential(email.smtp_credential)
                login = (secret.secret("username"), secret.secret("password"))
            message = email_message(email, alert)
            await anyio.to_thread.run_sync(_deliver, host, email, login, message)
        except (ConnectorError, OSError, smtplib.SMTPException) as exc:
            log.warning(
                "alert %s not emailed through %s:%d: %s",
                alert["event"],
                email.smtp_host,
                email.smtp_port,
                exc,
            )


def email_message(email: EmailAlerts, alert: Alert) -> EmailMessage:
    """The email of one alert: what happened, to which flow, and the command to look."""
    flow, run_id = alert["flow"], alert["run_id"]
    message = EmailMessage()
    message["From"] = email.from_address
    message["To"] = ", ".join(email.to)
    if alert["event"] == "run_failed":
        message["Subject"] = f"ml-connector: run {run_id} of {flow} failed"
        text = (
            f"Run {run_id} of flow {flow} (trigger: {alert['trigger']}) stopped:\n\n"
            f"    {alert['error']}\n\n"
            f"Its history: ml-connector runs --flow {flow}\n"
        )
    else:
        group = cast(dict[str, object], alert["largest_group"])
        message["Subject"] = (
            f"ml-connector: {alert['new_errors']} new error(s) in {flow} "
            f"({alert['open_errors']} open)"
        )
        text = (
            f"Flow {flow} has {alert['open_errors']} open error(s), {alert['new_errors']} "
            f"new since the last alert (run {run_id}).\n\n"
            f"Largest group {group['group']} ({group['count']} record(s)):\n"
            f"    {group['cause']}\n\n"
            f"See the records: ml-connector errors show {group['group']}\n"
            f"After the fix:   ml-connector errors retry {group['group']}\n"
        )
    message.set_content(text)
    return message


def _deliver(
    host: str, email: EmailAlerts, login: tuple[str, str] | None, message: EmailMessage
) -> None:
    """Blocking SMTP delivery (runs in a worker thread)."""
    with smtplib.SMTP(host, email.smtp_port, timeout=TIMEOUT_S) as smtp:
        smtp.ehlo()
        if email.starttls:
            if not smtp.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError(
                    "the server does not offer STARTTLS; set starttls = false only for a "
                    "relay on a trusted network"
                )
            cafile = None if email.smtp_ca_file is None else str(email.smtp_ca_file)
            smtp.starttls(context=ssl.create_default_context(cafile=cafile))
            smtp.ehlo()
        if login is not None:
            smtp.login(*login)
        smtp.send_message(message)


async def _post(url: str, body: Alert) -> None:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as session,
            session.post(url, json=body) as response,
        ):
            if response.status >= 300:
                log.warning("alert %s refused by %s: HTTP %d", body["event"], url, response.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("alert %s not delivered to %s: %s", body["event"], url, exc)
