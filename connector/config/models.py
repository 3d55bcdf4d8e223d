"""The configuration objects: frozen msgspec Structs with a docstring per field.

Each field's docstring is its documentation (connector.example.toml repeats it for people
editing the file). Defaults live here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from msgspec import Meta, Struct, field

NonEmpty = Annotated[str, Meta(min_length=1)]
Port = Annotated[int, Meta(ge=1, le=65535)]
Seconds = Annotated[float, Meta(gt=0)]
Margin = Annotated[float, Meta(ge=0)]
Count = Annotated[int, Meta(ge=1)]


class _Section(Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every config object: immutable, and a typo in a key is an error."""


class StoreConfig(_Section, frozen=True):
    """Where the state database (ledger, audit, cursors, vault…) lives."""

    path: Path = Path("state/connector.db")
    """SQLite file of the state database; its directory is created on first use. With
    ``url`` set, it still holds the vault (credentials), and nothing else."""

    url: Annotated[str, Meta(pattern="^postgres(ql)?://")] | None = None
    """``postgresql://user@host:port/dbname``: keep the state (ledger, audit, cursors,
    inbox, mappings, runs) in PostgreSQL instead of the SQLite file; None = SQLite. Put the
    password in ``~/.pgpass`` or ``$PGPASSWORD``, not here."""

    schema: Annotated[str, Meta(pattern="^[a-z_][a-z0-9_]{0,62}$")] = "public"
    """PostgreSQL schema of this state (one per tenant when tenants share a database);
    created on first use. Only with ``url``."""

    @property
    def location(self) -> str | Path:
        """What :func:`connector.store.open_store` opens: the URL if set, else the file."""
        return self.url if self.url is not None else self.path


class VaultConfig(_Section, frozen=True):
    """Where the vault's AES-256 key comes from (the first source present wins)."""

    key_file: Path | None = None
    """File holding the base64 key, mode 0600 and owned by the service user; last resort."""

    key_env: NonEmpty = "ML_CONNECTOR_VAULT_KEY"
    """Environment variable holding the base64 key; checked first."""

    credential_name: NonEmpty = "vault-key"
    """Name of the key file under systemd's ``$CREDENTIALS_DIRECTORY``; checked second."""


class EmailAlerts(_Section, frozen=True):
    """``[service.alerts]``: the same alerts as ``alert_webhook_url``, sent by email."""

    smtp_host: NonEmpty | None = None
    """SMTP server (a relay such as smtp.office365.com); None = no email alerts."""

    smtp_port: Port = 587
    """Its port: 587 with ``starttls``, 25 on a trusted relay without it."""

    starttls: bool = True
    """Upgrade the connection with STARTTLS before logging in (refused if the server
    does not offer it, so the password never crosses in clear)."""

    smtp_ca_file: Path | None = None
    """PEM file of the CA certificate(s) to trust for the server's TLS (a private relay),
    relative to this file's directory; None = the system's CAs."""

    smtp_credential: NonEmpty | None = None
    """Vault credential (kind ``smtp``: username, password) to log in with; None = the
    relay takes mail without a login."""

    from_address: NonEmpty = "ml-connector@localhost"
    """The ``From`` of alert emails."""

    to: list[NonEmpty] = field(default_factory=list)
    """Recipients; email alerts need at least one."""


class ServiceConfig(_Section, frozen=True):
    """The long-running service: listeners, shutdown and logging."""

    # Binding every interface is the point: ServiceTitan must reach the webhook receiver.
    webhook_host: str = "0.0.0.0"  # noqa: S104
    """Address the webhook receiver listens on."""

    webhook_port: Port = 8080
    """Port of the webhook receiver."""

    admin_host: str = "127.0.0.1"
    """Address of the admin API (``/healthz``, ``/metrics``); keep it on loopback."""

    admin_port: Port = 8081
    """Port of the admin API."""

    admin_token_credential: NonEmpty | None = None
    """Vault credential (kind ``bearer``) the admin API demands; None = no token checked."""

    shutdown_timeout_s: Seconds = 30.0
    """On SIGTERM, how long in-flight records may take to finish before the process exits."""

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """Lowest level of log record written."""

    alert_webhook_url: NonEmpty | None = None
    """URL the service POSTs a JSON alert to when a run stops or a flow's open errors grow
    (``{"event": "run_failed" | "errors_growing", "flow": …}``); None = no alerts."""

    alerts: EmailAlerts = field(default_factory=EmailAlerts)
    """Email alerts (``[service.alerts]``), sent on the same events as the webhook."""

    circuit_breaker_refusals: Annotated[int, Meta(ge=0)] = 50
    """Records refused in a row for one cause that stop a stream (its other records wait
    for the next run); 0 = never stop. Applies to every run: the service, sync, replay."""


class SystemConfigBase(_Section, frozen=True, tag_field="kind"):
    """Fields every system has; ``kind`` in the file picks the subclass.

    Each system package declares its subclass (``tag=`` its kind) in its ``config`` module
    and registers it (:mod:`connector.registry`); the loader decodes the union of them."""

    kind: ClassVar[str]
    credential: NonEmpty
    """Name of the vault credential this system logs in with."""


_SystemBase = SystemConfigBase


#: Kept for code that annotates with it: every system config struct derives from
#: :class:`SystemConfigBase`; the tagged union the loader decodes is built from the registry.
SystemConfig = SystemConfigBase


class FlowConfig(_Section, frozen=True):
    """One pairing of a source and a target system, e.g. ``servicetitan-infor``."""

    source: NonEmpty
    """Name of the configured system records are read from."""

    target: NonEmpty
    """Name of the configured system records are written to."""

    schedule: str = "every 15m"
    """``every <n>s|m|h|d`` or a 5-field cron expression (minute hour day month weekday)."""

    webhook: bool = True
    """Also run on the source's webhook events, between scheduled runs."""

    enabled: bool = True
    """False keeps the flow configured but never run."""

    streams: list[NonEmpty] | None = None
    """Streams to run, always in the flow's own order; None = all of them."""

    batch_size: Count = 500
    """Records per load batch (and per ledger commit)."""

    workers: Count = 4
    """Concurrent loader workers per stream."""

    options: dict[str, str] = field(default_factory=dict)
    """Settings of this pairing (e.g. ``currency``, ``supplier_template``); each flow module
    documents and checks its own, naming the key when one is wrong."""


class Config(_Section, frozen=True):
    """The whole configuration of one connector process."""

    store: StoreConfig = field(default_factory=StoreConfig)
    """The state database."""

    vault: VaultConfig = field(default_factory=VaultConfig)
    """Where the vault key comes from."""

    service: ServiceConfig = field(default_factory=ServiceConfig)
    """The long-running service."""

    systems: dict[str, SystemConfigBase] = field(default_factory=dict)
    """External system connections by name; flows refer to these names."""

    flows: dict[str, FlowConfig] = field(default_factory=dict)
    """Flows by name (``servicetitan-infor``, ``servicetitan-acumatica``…)."""

    mappings: dict[str, dict[str, str]] = field(default_factory=dict)
    """Seed mapping tables: mapping kind → source code → target value."""
