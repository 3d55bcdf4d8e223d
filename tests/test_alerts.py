"""Email alerts ([service.alerts]) through a loopback SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connector.alerts import Alerts
from connector.config.models import EmailAlerts
from connector.runtime.runner import CycleReport
from connector.store import Store
from connector.vault import Credential

LOGIN = ("alerts@example.com", "smtp-password-123")


@dataclass
class Inbox:
    """What the loopback server received: messages, the logins it accepted, TLS or not."""

    messages: list[Message] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.original_content))
        self.tls.append(session.ssl is not None)
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login = (data.login.decode(), data.password.decode())
        self.logins.append(login)
        return AuthResult(success=login == LOGIN)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA (the test's private relay)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loopback relay")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "relay.pem", directory / "relay.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    """An SMTP server on loopback that demands STARTTLS before AUTH and mail."""
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=inbox.authenticate,
    )
    controller.start()
    try:
        yield inbox, port, cert
    finally:
        controller.stop()


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    opened = await Store.open(tmp_path / "state.db")
    yield opened
    await opened.close()


def vault_login(name: str) -> Credential:
    assert name == "smtp-relay"
    return Credential(name, "smtp", {"username": LOGIN[0], "password": LOGIN[1]})


async def test_a_failed_run_is_emailed_over_starttls_with_the_vault_login(
    relay: tuple[Inbox, int, Path], store: Store
) -> None:
    """A run that stops sends one email, after STARTTLS and a login read from the vault,
    naming the run, the flow, the error and the command to look at its history."""
    inbox, port, cert = relay
    email = EmailAlerts(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_ca_file=cert,
        smtp_credential="smtp-relay",
        from_address="ml-connector@example.com",
        to=["ops@example.com", "finance@example.com"],
    )
    alerts = Alerts(None, email, vault_login)
    report = CycleReport("servicetitan-infor", 7, "schedule", error="M3 answered HTTP 503")
    await alerts.after_run(store, report)

    [message] = inbox.messages
    assert inbox.tls == [True] and inbox.logins == [LOGIN]
    assert message["Subject"] == "ml-connector: run 7 of servicetitan-infor failed"
    assert message["To"] == "ops@example.com, finance@example.com"
    body = message.get_payload()
    assert "M3 answered HTTP 503" in body
    assert "ml-connector runs --flow servicetitan-infor" in body


async def test_a_server_without_starttls_is_never_sent_the_password(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """With starttls on, a relay that does not offer it gets no login and no mail; the
    failure is logged and the run goes on."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        email = EmailAlerts(
            smtp_host="127.0.0.1", smtp_port=port, smtp_credential="smtp-relay", to=["ops@x.org"]
        )
        alerts = Alerts(None, email, vault_login)
        with caplog.at_level(logging.WARNING, logger="connector.alerts"):
            await alerts.after_run(store, CycleReport("f", 1, "manual", error="boom"))
    finally:
        controller.stop()
    assert inbox.messages == [] and inbox.logins == []
    assert "does not offer STARTTLS" in caplog.text
