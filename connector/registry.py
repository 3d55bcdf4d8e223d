"""The one registry of systems and pairings: what every other module asks instead of naming one.

A **system package** (``connector/systems/<x>/``) declares itself once, in its ``__init__``::

    registry.register_system(SystemSpec(
        kind="servicetitan",                  # the ``kind`` key of a [systems.X] table
        config=ServiceTitanSystem,            # its msgspec config struct (tag = kind)
        credential_kinds=(CredentialKind("servicetitan", …),),  # first = the one advised
        open_connection=open_connection,      # (config, credential, limiters) -> connection
        check=check,                          # async (connection) -> what `check` prints
        webhook_receiver=webhook_receiver,    # optional: (WebhookContext) -> handler | None
    ))

A **flow package** (``connector/flows/<pairing>/``) declares its pairing once::

    registry.register_pairing(PairingSpec(
        name="servicetitan-infor", source_kind="servicetitan", target_kind="infor",
        streams=STREAMS, build=build_flow,    # async (name, flow_config, config,
    ))                                        #        source, target, store) -> BuiltFlow

Simulators register in the sandbox package (:func:`connector.sandbox.register_simulator`),
which imports nothing from here, systems or flows.

The built-in packages are found by :func:`load_builtins`: :data:`BUILTINS` first (their
order is the order kinds are listed in messages), then any other subpackage of
``connector.systems`` and ``connector.flows`` — so a new folder there is all a new pairing
needs. A package outside ``connector`` (a plugin, a test's toy system) registers by being
imported. Every lookup loads the built-ins first, once.

This module imports nothing system-specific, and nothing of the connector at run time, so
any module may import it (the config loader, the vault, the service) without a cycle.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

    from connector.config import Config, FlowConfig
    from connector.config.models import SystemConfigBase
    from connector.http.limiter import LimiterRegistry
    from connector.runtime.flow import BuiltFlow
    from connector.runtime.supervisor import SystemSupervisor
    from connector.store import Store
    from connector.vault import Credential

#: The built-in packages, imported in this order by :func:`load_builtins`.
BUILTINS: tuple[str, ...] = (
    "connector.systems.servicetitan",
    "connector.systems.infor",
    "connector.systems.acumatica",
    "connector.systems.servicenow",
    "connector.systems.ifs",
    "connector.systems.syspro",
    "connector.flows.servicetitan_infor",
    "connector.flows.servicetitan_acumatica",
    "connector.flows.servicetitan_syspro",
    "connector.flows.ifs_servicetitan",
    "connector.flows.infor_servicenow",
)
#: Packages whose every subpackage is imported after :data:`BUILTINS`.
DISCOVERED: tuple[str, ...] = ("connector.systems", "connector.flows")


@dataclass(frozen=True)
class CredentialKind:
    """What a kind of credential holds. ``secret`` fields are prompted for without echo."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    secret: frozenset[str] = frozenset()
    #: Any field names allowed (kind ``generic``); required/optional are then empty.
    open_ended: bool = False
    #: Checks the fields' content before ``creds set`` stores them: (fields, what to call
    #: the credential in a message) -> None, or ConfigurationError.
    validate: Callable[[Mapping[str, str], str], None] | None = None
    #: Set when the fields cannot be typed at a prompt: the message ``creds set`` gives
    #: instead (``{name}`` = the credential's name).
    not_typed: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass(frozen=True)
class WebhookContext:
    """What a system's webhook receiver factory gets for one flow that takes its events."""

    flow: str
    """The flow whose ``/webhooks/<flow>`` path this is."""
    system: str
    """The configured name of the system sending the events."""
    config: Any
    """That system's config struct (the type its :class:`SystemSpec` declares)."""
    store: Store
    credential: Callable[[str], Credential]
    """Reads a vault credential by name (e.g. the webhook secret the config names)."""
    on_stored: Callable[[], None]
    """Call after an event is safely in the inbox: wakes the flow's drain."""


Handler = Callable[["web.Request"], Awaitable["web.Response"]]
#: Builds the aiohttp handler of one flow's webhook path; None = webhooks off (it logs why).
WebhookReceiver = Callable[[WebhookContext], "Handler | None"]


@dataclass(frozen=True)
class FlowRequest:
    """What a pairing's build gets: the configured flow and the supervisors of its two
    systems (their connections carry the clients), and the state store."""

    name: str
    flow_config: FlowConfig
    config: Config
    source: SystemSupervisor[Any]
    target: SystemSupervisor[Any]
    store: Store


#: The build function of a pairing: declare the flow (checking the target is usable).
Build = Callable[[FlowRequest], Awaitable["BuiltFlow"]]


@dataclass(frozen=True)
class SystemSpec:
    """Everything the connector needs to know about one kind of external system."""

    kind: str
    config: type[SystemConfigBase]
    """The msgspec struct of a ``[systems.X]`` table, tagged with ``kind``."""
    credential_kinds: tuple[CredentialKind, ...]
    """Credential kinds a system of this kind signs in with; the first is the recommended
    one. They join the vault's kinds (``creds set --kind``)."""
    open_connection: Callable[[Any, Credential, LimiterRegistry], Any]
    """(config, credential, limiters) -> the connection a SystemSupervisor owns."""
    check: Callable[[Any], Awaitable[str]] | None = None
    """``ml-connector check``: one cheap authenticated read over the connection; returns
    what was read, raises ConnectorError (or OSError) on failure."""
    webhook_receiver: WebhookReceiver | None = None
    """Whether (and how) this system sends webhook events to the flows it is part of."""


@dataclass(frozen=True)
class CheckResult:
    """One line of ``ml-connector check`` about what a flow needs from its systems."""

    what: str
    """What was checked, e.g. ``clearing supplier``."""
    ok: bool
    detail: str
    """What was found; on a failure, what is wrong and the exact fix."""


#: A pairing's part of ``check``: reads (never writes) what its build and run rely on.
FlowCheck = Callable[[FlowRequest], Awaitable[list[CheckResult]]]


@dataclass(frozen=True)
class PairingSpec:
    """One pairing of a source kind and a target kind: the flow package's declaration."""

    name: str
    source_kind: str
    target_kind: str
    streams: tuple[str, ...]
    """Every stream, in the order a cycle runs them (what ``[flows.X].streams`` may name)."""
    build: Build
    options: type[Any] | None = None
    """The msgspec struct of ``[flows.X.options]``: its fields are the keys allowed there,
    so the config loader names a misspelt one (None = any key, the pairing checks)."""
    check: FlowCheck | None = None
    """``ml-connector check``: what this pairing needs from its systems beyond a sign-in
    (a clearing supplier, accounting dimensions, numbering sequences…)."""
    streams_for: Callable[[Any, Any], tuple[str, ...]] | None = None
    """The streams a flow between these two system configs builds, when that depends on
    them (an Infor system's ``product``); else :attr:`streams`."""

    def streams_of(self, source: Any, target: Any) -> tuple[str, ...]:
        return self.streams_for(source, target) if self.streams_for else self.streams


@dataclass
class _Registry:
    systems: dict[str, SystemSpec] = field(default_factory=dict)
    pairings: dict[tuple[str, str], PairingSpec] = field(default_factory=dict)
    loaded: bool = False
    loading: bool = False


_REGISTRY = _Registry()


def register_system(spec: SystemSpec) -> SystemSpec:
    """Declare a kind of system; ValueError if another declaration has that kind."""
    existing = _REGISTRY.systems.get(spec.kind)
    if existing is not None and existing != spec:
        raise ValueError(f"system kind {spec.kind!r} is already registered")
    if getattr(spec.config, "__struct_config__", None) is not None:
        tag = spec.config.__struct_config__.tag
        if tag != spec.kind:
            raise ValueError(
                f"system kind {spec.kind!r}: its config struct is tagged {tag!r}; "
                f"declare it with tag={spec.kind!r}"
            )
    _REGISTRY.systems[spec.kind] = spec
    return spec


def register_pairing(spec: PairingSpec) -> PairingSpec:
    """Declare a pairing; ValueError if its kinds or its name are already taken."""
    key = (spec.source_kind, spec.target_kind)
    existing = _REGISTRY.pairings.get(key)
    if existing is not None and existing != spec:
        raise ValueError(f"a pairing {spec.source_kind} → {spec.target_kind} is registered")
    if any(p.name == spec.name and k != key for k, p in _REGISTRY.pairings.items()):
        raise ValueError(f"a pairing named {spec.name!r} is already registered")
    _REGISTRY.pairings[key] = spec
    return spec


def unregister_system(kind: str) -> None:
    """Forget a system kind (a test's toy, a plugin being unloaded); no error if unknown."""
    _REGISTRY.systems.pop(kind, None)


def unregister_pairing(source_kind: str, target_kind: str) -> None:
    """Forget a pairing; no error if unknown."""
    _REGISTRY.pairings.pop((source_kind, target_kind), None)


def load_builtins() -> None:
    """Import the built-in system and flow packages (once), so they register."""
    if _REGISTRY.loaded or _REGISTRY.loading:
        return  # loaded, or a package being imported asked (it sees what is there so far)
    _REGISTRY.loading = True
    try:
        for name in BUILTINS:
            importlib.import_module(name)
        for package_name in DISCOVERED:
            package = importlib.import_module(package_name)
            for info in pkgutil.iter_modules(package.__path__):
                if info.ispkg:
                    importlib.import_module(f"{package_name}.{info.name}")
        # Only a complete load counts: a package that failed to import fails the next
        # lookup again, rather than leaving its kind silently unknown.
        _REGISTRY.loaded = True
    finally:
        _REGISTRY.loading = False


def systems() -> Mapping[str, SystemSpec]:
    """Every registered system kind: the built-ins in :data:`BUILTINS` order, then the
    others in the order they registered."""
    load_builtins()
    ordered = sorted(_REGISTRY.systems.values(), key=lambda s: _builtin_rank(s.config))
    return {spec.kind: spec for spec in ordered}


def system(kind: str) -> SystemSpec:
    """The declaration of a system kind; KeyError naming the known kinds."""
    load_builtins()
    try:
        return _REGISTRY.systems[kind]
    except KeyError:
        known = ", ".join(_REGISTRY.systems)
        raise KeyError(f"no system of kind {kind!r} is registered (known: {known})") from None


def pairings() -> list[PairingSpec]:
    """Every registered pairing: the built-ins in :data:`BUILTINS` order, then the others."""
    load_builtins()
    return sorted(_REGISTRY.pairings.values(), key=lambda p: _builtin_rank(p.build))


def pairing(source_kind: str, target_kind: str) -> PairingSpec | None:
    """The pairing reading from ``source_kind`` and writing to ``target_kind``, if any."""
    load_builtins()
    return _REGISTRY.pairings.get((source_kind, target_kind))


def _builtin_rank(declared: object) -> int:
    """Where the package that defined ``declared`` stands in :data:`BUILTINS` (others last;
    ``sorted`` keeps their registration order)."""
    module = getattr(declared, "__module__", "")
    for rank, package in enumerate(BUILTINS):
        if module == package or module.startswith(package + "."):
            return rank
    return len(BUILTINS)


def credential_kinds() -> dict[str, CredentialKind]:
    """The credential kinds of every registered system (the vault adds its own)."""
    kinds: dict[str, CredentialKind] = {}
    for spec in systems().values():
        for kind in spec.credential_kinds:
            kinds.setdefault(kind.name, kind)
    return kinds
