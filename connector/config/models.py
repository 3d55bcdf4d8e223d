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
    """SQLite file of the state database; its directory is created on first use."""


class VaultConfig(_Section, frozen=True):
    """Where the vault's AES-256 key comes from (the first source present wins)."""

    key_file: Path | None = None
    """File holding the base64 key, mode 0600 and owned by the service user; last resort."""

    key_env: NonEmpty = "ML_CONNECTOR_VAULT_KEY"
    """Environment variable holding the base64 key; checked first."""

    credential_name: NonEmpty = "vault-key"
    """Name of the key file under systemd's ``$CREDENTIALS_DIRECTORY``; checked second."""


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

    circuit_breaker_refusals: Annotated[int, Meta(ge=0)] = 50
    """Records refused in a row for one cause that stop a stream (its other records wait
    for the next run); 0 = never stop. Applies to every run: the service, sync, replay."""


class _SystemBase(_Section, frozen=True, tag_field="kind"):
    """Fields every system has; ``kind`` in the file picks the subclass."""

    kind: ClassVar[str]
    credential: NonEmpty
    """Name of the vault credential this system logs in with."""


class ServiceTitanSystem(_SystemBase, frozen=True, tag="servicetitan"):
    """A ServiceTitan tenant, in production or in the integration environment."""

    kind: ClassVar[str] = "servicetitan"

    tenant: Annotated[int, Meta(ge=1)]
    """Numeric tenant id; it is part of every API path."""

    environment: Literal["production", "integration"] = "production"
    """Which ServiceTitan environment; integration holds no production data."""

    api_url: str | None = None
    """API base URL; None = the environment's (``https://api.servicetitan.io``)."""

    auth_url: str | None = None
    """Auth server base URL; None = the environment's (``https://auth.servicetitan.io``)."""

    rate_per_second: Seconds = 60.0
    """Request budget shared by every flow using this tenant."""

    token_refresh_after_s: Seconds = 750.0
    """Age at which an access token (valid 900 s) is replaced."""

    timeout_s: Seconds = 30.0
    """Time allowed for one HTTP request."""

    webhook_secret_credential: NonEmpty | None = None
    """Vault credential (kind ``webhook-hmac``) verifying webhooks; None = webhooks off."""

    signature_header: NonEmpty = "X-ServiceTitan-Signature"
    """Header carrying the webhook HMAC signature."""

    signature_encoding: Literal["base64", "hex"] = "base64"
    """Encoding of the signature in that header."""

    page_size: Annotated[int, Meta(ge=1, le=5000)] = 500
    """Records asked for per page."""

    overlap_s: Margin = 300.0
    """Incremental reads restart this far before the cursor to catch late commits."""

    @property
    def resolved_api_url(self) -> str:
        """The API base URL actually used, without a trailing slash."""
        if self.api_url is not None:
            return self.api_url.rstrip("/")
        if self.environment == "integration":
            return "https://api-integration.servicetitan.io"
        return "https://api.servicetitan.io"

    @property
    def resolved_auth_url(self) -> str:
        """The auth server base URL actually used, without a trailing slash."""
        if self.auth_url is not None:
            return self.auth_url.rstrip("/")
        if self.environment == "integration":
            return "https://auth-integration.servicetitan.io"
        return "https://auth.servicetitan.io"


class InforSystem(_SystemBase, frozen=True, tag="infor"):
    """An Infor CloudSuite tenant reached through the ION API gateway."""

    kind: ClassVar[str] = "infor"

    company: NonEmpty
    """M3 company (CONO), sent on every call: omitted, M3 uses the account's default."""

    division: NonEmpty
    """M3 division (DIVI), sent on every call for the same reason."""

    requests_per_minute: Count = 300
    """Request budget towards the gateway (no published limit; tenants set their own)."""

    token_refresh_margin_s: Margin = 300.0
    """Renew the access token this long before ``expires_in`` says it ends."""

    timeout_s: Seconds = 60.0
    """Time allowed for one HTTP request."""

    product: Literal["m3"] = "m3"
    """Which CloudSuite line the flows talk to."""

    page_size: Annotated[int, Meta(ge=1, le=1000)] = 500
    """``maxrecs`` per key-restart page; some grids cap at 1000 whatever is asked."""

    cost_center_ait: Annotated[int, Meta(ge=1, le=7)] = 2
    """Which accounting dimension (AIT1..AIT7) holds the cost center in this company."""


class AcumaticaSystem(_SystemBase, frozen=True, tag="acumatica"):
    """An Acumatica instance and contract-based endpoint version."""

    kind: ClassVar[str] = "acumatica"

    instance_url: str | None = None
    """Instance base URL; None = the ``instance_url`` stored in the credential."""

    endpoint: NonEmpty = "Default"
    """Contract-based endpoint name."""

    version: NonEmpty = "24.200.001"
    """Endpoint version, pinned to the customer's ERP release (others answer 404)."""

    requests_per_minute: Annotated[int, Meta(ge=0)] = 0
    """Request budget set by the licence; 0 = no budget enforced."""

    max_concurrent: Count = 4
    """Requests in flight at once (licences also cap concurrency)."""

    token_refresh_margin_s: Margin = 120.0
    """Renew the access token this long before ``expires_in`` says it ends."""

    timeout_s: Seconds = 60.0
    """Time allowed for one HTTP request."""


class IfsSystem(_SystemBase, frozen=True, tag="ifs"):
    """An IFS Cloud environment: IFS IAM for tokens, OData projections for data."""

    kind: ClassVar[str] = "ifs"

    company: NonEmpty
    """IFS company id used by look-ups and by rows the connector posts (e.g. ``10``)."""

    url: str | None = None
    """Environment base URL (``https://acme.ifs.cloud``); None = the credential's ``url``."""

    realm: NonEmpty | None = None
    """IAM realm (the IFS namespace) in ``/auth/realms/<realm>/``; None = the credential's."""

    requests_per_minute: Count = 1000
    """Request budget towards the environment (IFS publishes no limit; capacity is per
    environment)."""

    token_refresh_margin_s: Margin = 30.0
    """Renew the access token this long before ``expires_in`` says it ends (tokens live
    180 s unless the IAM client is set otherwise)."""

    timeout_s: Seconds = 60.0
    """Time allowed for one HTTP request."""


class ServiceNowSystem(_SystemBase, frozen=True, tag="servicenow"):
    """A ServiceNow instance with Source-to-Pay (Table API, Import Set API)."""

    kind: ClassVar[str] = "servicenow"

    instance_url: str | None = None
    """Instance base URL (https://acme.service-now.com); None = the credential's."""

    erp_source: NonEmpty = "M3"
    """The ERP source value written on imports and used by every natural-key lookup."""

    page_size: Annotated[int, Meta(ge=1, le=10000)] = 500
    """Rows asked for per Table API page (sysparm_limit)."""

    requests_per_hour: Annotated[int, Meta(ge=0)] = 0
    """The instance's hourly rate-limit rule for this user; 0 = no rule known."""

    max_concurrent: Count = 4
    """Requests in flight at once."""

    token_refresh_margin_s: Margin = 60.0
    """Renew the OAuth access token this long before ``expires_in`` says it ends."""

    timeout_s: Seconds = 60.0
    """Time allowed for one HTTP request (a synchronous import transforms in it)."""


class SysproSystem(_SystemBase, frozen=True, tag="syspro"):
    """A SYSPRO company reached through e.net Solutions (REST) and, for polling, OData."""

    kind: ClassVar[str] = "syspro"

    enet_url: NonEmpty
    """e.net REST base, ``http(s)://host:port/SYSPROWCFService/Rest``; the port differs per
    installation, so it is always configured."""

    odata_url: NonEmpty | None = None
    """OData service base (``https://host/SYSPRO8Odata/SYSPROOData``); None = no OData polling."""

    requests_per_second: Seconds = 10.0
    """Request budget towards the e.net server, shared by every flow using it."""

    timeout_s: Seconds = 120.0
    """Time allowed for one HTTP request (a business-object post can take a while)."""

    max_url_bytes: Annotated[int, Meta(ge=2048)] = 16384
    """Longest request line the web server accepts (HTTP.sys default 16 KiB); longer
    documents are refused before sending."""

    page_size: Annotated[int, Meta(ge=1, le=5000)] = 1000
    """OData rows per page (the service caps pages at 5,000)."""


SystemConfig = (
    ServiceTitanSystem
    | InforSystem
    | AcumaticaSystem
    | ServiceNowSystem
    | IfsSystem
    | SysproSystem
)


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

    systems: dict[str, SystemConfig] = field(default_factory=dict)
    """External system connections by name; flows refer to these names."""

    flows: dict[str, FlowConfig] = field(default_factory=dict)
    """Flows by name (``servicetitan-infor``, ``servicetitan-acumatica``…)."""

    mappings: dict[str, dict[str, str]] = field(default_factory=dict)
    """Seed mapping tables: mapping kind → source code → target value."""
