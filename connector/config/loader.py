"""Turning a TOML file into a :class:`Config`, with errors a person can act on.

msgspec does the type checking; this module reruns it per named table (msgspec reports a
dict key as ``[...]``) so messages can name ``systems.st.tenant``, then rewrites msgspec's
sentences into the vocabulary of TOML and adds the checks that span sections.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from pathlib import Path
from typing import Any

import msgspec
from msgspec import field
from msgspec import inspect as msgspec_inspect

from connector import registry
from connector.config.models import (
    Config,
    EmailAlerts,
    FlowConfig,
    ServiceConfig,
    StoreConfig,
    SystemConfigBase,
    VaultConfig,
    _Section,
)
from connector.config.schedule import parse_schedule
from connector.errors import ConfigurationError


def default_config(state_dir: Path) -> Config:
    """The configuration used when no file is given: state and key file in ``state_dir``."""
    return Config(
        store=StoreConfig(path=state_dir / "connector.db"),
        vault=VaultConfig(key_file=state_dir / "vault.key"),
    )


def load_config(path: Path) -> Config:
    """Read, decode and check a TOML configuration file.

    Raises ConfigurationError (never anything else) when the file cannot be read, is not
    TOML, or does not describe a valid configuration; the message names the file and key.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"{path}: cannot read the configuration ({exc}); pass --config with the path of "
            "your connector.toml (connector.example.toml shows every key)"
        ) from None
    return _resolve_paths(parse_config(text, str(path)), path.absolute().parent)


def parse_config(text: str, source: str) -> Config:
    """Decode and check configuration text that is not a file (a tenant's, kept in the
    database); ``source`` names it in messages. Relative paths stay as written."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source}: not valid TOML: {exc}") from None
    return _Decoder(source).config(data)


@dataclass(frozen=True)
class UnknownKey:
    """A key the table it sits in does not have: a typo, most often."""

    file: str
    path: tuple[str, ...]
    """Where the table is, e.g. ``("flows", "servicetitan-infor", "options")``; () = top."""
    key: str
    known: tuple[str, ...]

    @property
    def table(self) -> str:
        """The table as written in the file: ``systems.st``, ``flows.X.options``."""
        return _key_path(self.path) if self.path else "top level"

    @property
    def suggestion(self) -> str | None:
        close = difflib.get_close_matches(self.key, self.known, n=1)
        return close[0] if close else None

    def message(self) -> str:
        where = f"{self.file}: [{self.table}] has no key {self.key!r}"
        if self.suggestion is not None:
            return f"{where}; did you mean {self.suggestion!r}? Rename it in [{self.table}]"
        return f"{where}; the keys of [{self.table}] are: {', '.join(self.known)}"


def load_config_reporting_unknown_keys(path: Path) -> tuple[Config, list[UnknownKey]]:
    """Like :func:`load_config`, but every unknown key is listed and left out instead of
    stopping at the first, so ``check`` can report them all and still check the rest."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return load_config(path), []  # raises the one clear message
    unknown = unknown_keys(data, str(path))
    for entry in unknown:
        table: Any = data
        for part in entry.path:
            table = table[part]
        del table[entry.key]
    config = _Decoder(str(path)).config(data)
    return _resolve_paths(config, path.absolute().parent), unknown


def unknown_keys(data: dict[str, Any], file: str) -> list[UnknownKey]:
    """Every key of ``data`` (parsed TOML) that its table does not have, in file order:
    top-level sections, ``[store]``, ``[vault]``, ``[service]``, each ``[systems.X]`` (by
    its kind), each ``[flows.X]`` and its ``options`` (by the pairing of its systems)."""
    found: list[UnknownKey] = []

    def scan(table: object, path: tuple[str, ...], known: list[str]) -> None:
        if isinstance(table, dict):
            found.extend(
                UnknownKey(file, path, key, tuple(known)) for key in table if key not in known
            )

    scan(data, (), [*_RawConfig.__struct_fields__])
    for section, struct in (
        ("store", StoreConfig),
        ("vault", VaultConfig),
        ("service", ServiceConfig),
    ):
        scan(data.get(section), (section,), [*struct.__struct_fields__])
    service = data.get("service")
    if isinstance(service, dict):
        scan(service.get("alerts"), ("service", "alerts"), [*EmailAlerts.__struct_fields__])
    systems = data.get("systems")
    kinds: dict[str, str] = {}
    if isinstance(systems, dict):
        specs = registry.systems()
        for name, table in systems.items():
            kind = table.get("kind") if isinstance(table, dict) else None
            if isinstance(kind, str) and kind in specs:
                kinds[name] = kind
                known = ["kind", *specs[kind].config.__struct_fields__]
                scan(table, ("systems", name), known)
    flows = data.get("flows")
    for name, table in flows.items() if isinstance(flows, dict) else ():
        if isinstance(table, dict):
            scan(table, ("flows", name), [*FlowConfig.__struct_fields__])
            options = _options_type(
                kinds.get(str(table.get("source"))), kinds.get(str(table.get("target")))
            )
            if options is not None:
                known = [*options.__struct_fields__]
                scan(table.get("options"), ("flows", name, "options"), known)
    return found


def _options_type(source_kind: str | None, target_kind: str | None) -> type[Any] | None:
    if source_kind is None or target_kind is None:
        return None
    pairing = registry.pairing(source_kind, target_kind)
    return None if pairing is None else pairing.options


def _resolve_paths(config: Config, base: Path) -> Config:
    store = msgspec.structs.replace(config.store, path=base / config.store.path)
    key_file = config.vault.key_file
    vault = (
        config.vault
        if key_file is None
        else msgspec.structs.replace(config.vault, key_file=base / key_file)
    )
    service = config.service
    ca_file = service.alerts.smtp_ca_file
    if ca_file is not None:
        alerts = msgspec.structs.replace(service.alerts, smtp_ca_file=base / ca_file)
        service = msgspec.structs.replace(service, alerts=alerts)
    return msgspec.structs.replace(config, store=store, vault=vault, service=service)


class _RawConfig(_Section, frozen=True):
    """The top level, with the named tables left raw so errors can name each entry."""

    store: StoreConfig = field(default_factory=StoreConfig)
    vault: VaultConfig = field(default_factory=VaultConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    systems: dict[str, Any] = field(default_factory=dict)
    flows: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)


_TYPE_NAMES = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "a boolean (true or false)",
    "object": "a table",
    "array": "an array",
    "datetime": "a date-time",
    "date": "a date",
    "time": "a time",
}
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_EXPECTED = re.compile(r"^Expected `(?P<type>[^`]+)`(?:, got `(?P<got>[^`]+)`| (?P<rule>.+))$")
_QUOTED = re.compile(r"`([^`]+)`")


class _Decoder:
    """Converts parsed TOML into config objects, turning msgspec errors into sentences."""

    def __init__(self, file: str):
        self.file = file

    def config(self, data: dict[str, Any]) -> Config:
        raw = self.convert(data, _RawConfig, prefix=())
        union = system_config_union()
        systems = {
            name: self.convert(value, union, prefix=("systems", name))
            for name, value in raw.systems.items()
        }
        flows = {
            name: self.convert(value, FlowConfig, prefix=("flows", name))
            for name, value in raw.flows.items()
        }
        mappings = {kind: self.mapping_table(kind, table) for kind, table in raw.mappings.items()}
        for name, system in systems.items():
            self.check_system(name, system)
        for name, flow in flows.items():
            self.check_flow(name, flow, systems)
        return Config(
            store=raw.store,
            vault=raw.vault,
            service=raw.service,
            systems=systems,
            flows=flows,
            mappings=mappings,
        )

    def fail(self, key: Sequence[str | int], problem: str) -> ConfigurationError:
        where = f"{_key_path(key)}: " if key else ""
        return ConfigurationError(f"{self.file}: {where}{problem}")

    def convert(self, value: object, kind: Any, *, prefix: tuple[str, ...]) -> Any:
        try:
            return msgspec.convert(value, kind, dec_hook=_decode_path)
        except msgspec.ValidationError as exc:
            raise self.explain(str(exc), value, kind, prefix) from None

    def explain(
        self, error: str, value: object, kind: Any, prefix: tuple[str, ...]
    ) -> ConfigurationError:
        # msgspec ends its messages with " - at `$.path.to[0].key`" when it knows where.
        what, _, at = error.partition(" - at `$")
        parts: list[str | int] = [
            name if name else int(index) for name, index in _PATH_PART.findall(at.rstrip("`"))
        ]
        key = [*prefix, *parts]
        if what.startswith("Object contains unknown field"):
            unknown = _QUOTED.findall(what)[0]
            known = _field_names(_type_at(kind, value, parts))
            close = difflib.get_close_matches(unknown, known, n=1)
            hint = f"did you mean {close[0]}?" if close else f"known keys: {', '.join(known)}"
            return ConfigurationError(
                f"{self.file}: unknown key {_key_path([*key, unknown])} ({hint})"
            )
        if what.startswith("Object missing required field"):
            missing = _QUOTED.findall(what)[0]
            if missing == "kind":
                kinds = ", ".join(_tags(system_config_union()))
                return self.fail(key, f"missing required key kind (one of {kinds})")
            return self.fail(key, f"missing required key {missing}")
        if what.startswith("Invalid value") and parts and parts[-1] == "kind":
            kinds = ", ".join(_tags(system_config_union()))
            got = _value_at(value, parts)
            return self.fail(key, f"unknown system kind {got!r} (expected one of {kinds})")
        if what.startswith("Invalid enum value"):
            allowed = _literal_values(_type_at(kind, value, parts))
            got = _value_at(value, parts)
            return self.fail(key, f"expected one of {allowed}, got {got!r}")
        expected = _EXPECTED.match(what)
        if expected is None:
            return self.fail(key, what)
        wanted = _type_name(expected["type"])
        if expected["got"] is not None:
            return self.fail(key, f"expected {wanted}, got {_type_name(expected['got'])}")
        rule = expected["rule"]
        if rule == "of length >= 1":
            return self.fail(key, "expected a non-empty string")
        return self.fail(key, f"expected {wanted} {rule}, got {_value_at(value, parts)!r}")

    def mapping_table(self, kind: str, table: object) -> dict[str, str]:
        if not isinstance(table, dict):
            raise self.fail(("mappings", kind), f"expected a table, got {_toml_type(table)}")
        for source_key, target in table.items():
            if not isinstance(target, str):
                raise self.fail(
                    ("mappings", kind, source_key),
                    f'expected a string, got {_toml_type(target)} (quote codes: "12" = "CC1")',
                )
        return dict(table)

    def check_system(self, name: str, system: SystemConfigBase) -> None:
        key = ("systems", name)
        if not system.credential.strip():
            raise self.fail((*key, "credential"), "expected the name of a vault credential")
        urls = {
            "api_url": getattr(system, "api_url", None),
            "auth_url": getattr(system, "auth_url", None),
            "instance_url": getattr(system, "instance_url", None),
        }
        version = getattr(system, "version", None)
        if version is not None and not re.fullmatch(r"\d+\.\d+\.\d+", version):
            raise self.fail(
                (*key, "version"), f"expected an endpoint version like 24.200.001, got {version!r}"
            )
        for url_key, url in urls.items():
            if url is not None and not url.startswith(("https://", "http://")):
                raise self.fail(
                    (*key, url_key), f"expected an http:// or https:// URL, got {url!r}"
                )

    def check_flow(self, name: str, flow: FlowConfig, systems: dict[str, SystemConfigBase]) -> None:
        key = ("flows", name)
        configured = ", ".join(systems) or "none"
        for role, system in (("source", flow.source), ("target", flow.target)):
            if system not in systems:
                raise self.fail(
                    (*key, role),
                    f"names system {system!r}, which is not configured (configured systems: "
                    f"{configured}); add a [systems.{system}] table or fix the name",
                )
        if flow.source == flow.target:
            raise self.fail((*key, "target"), "must be a different system from source")
        try:
            parse_schedule(flow.schedule)
        except ValueError as exc:
            raise self.fail((*key, "schedule"), str(exc)) from None
        self.check_option_names(name, flow, systems)
        if flow.streams is not None:
            if not flow.streams:
                raise self.fail((*key, "streams"), "empty list: omit the key to run every stream")
            repeated = sorted({s for s in flow.streams if flow.streams.count(s) > 1})
            if repeated:
                raise self.fail((*key, "streams"), f"lists {', '.join(repeated)} more than once")
            self.check_stream_names(name, flow, systems)

    def check_option_names(
        self, name: str, flow: FlowConfig, systems: dict[str, SystemConfigBase]
    ) -> None:
        options = _options_type(systems[flow.source].kind, systems[flow.target].kind)
        if options is None:
            return
        known = tuple(options.__struct_fields__)
        for key in flow.options:
            if key not in known:
                raise ConfigurationError(
                    UnknownKey(self.file, ("flows", name, "options"), key, known).message()
                )

    def check_stream_names(
        self, name: str, flow: FlowConfig, systems: dict[str, SystemConfigBase]
    ) -> None:
        pairing = registry.pairing(systems[flow.source].kind, systems[flow.target].kind)
        if pairing is None or flow.streams is None:
            return  # an unknown pairing is reported when the flow is built
        known = pairing.streams_of(systems[flow.source], systems[flow.target])
        for index, stream in enumerate(flow.streams):
            if stream not in known:
                close = difflib.get_close_matches(stream, known, n=1)
                hint = f"did you mean {close[0]}? " if close else ""
                raise self.fail(
                    ("flows", name, "streams", index),
                    f"flow {name} has no stream {stream!r}; {hint}its streams are: "
                    f"{', '.join(known)}",
                )


def system_config_union() -> Any:
    """The tagged union of every registered system's config struct, as msgspec decodes it
    (``kind`` picks the member); in registration order, so messages list kinds that way."""
    structs = [spec.config for spec in registry.systems().values()]
    if not structs:
        raise ConfigurationError("no system kinds are registered")
    return reduce(or_, structs)


def _decode_path(kind: type, value: object) -> object:
    if kind is Path:
        if isinstance(value, str) and value:
            return Path(value)
        # A ValueError (not ValidationError) makes msgspec append the key path.
        got = "an empty string" if value == "" else _toml_type(value)
        raise ValueError(f"expected a file path (a non-empty string), got {got}")
    raise NotImplementedError(kind)


def _key_path(parts: Sequence[str | int]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            text += f".{part}" if text else part
        else:
            quoted = f'"{part}"'
            text += f".{quoted}" if text else quoted
    return text


def _type_name(spec: str) -> str:
    names = [name.strip() for name in spec.split("|") if name.strip() != "null"]
    return " or ".join(_TYPE_NAMES.get(name, name) for name in names)


def _toml_type(value: object) -> str:
    for python_type, name in (
        (bool, "a boolean (true or false)"),
        (int, "an integer"),
        (float, "a number"),
        (str, "a string"),
        (dict, "a table"),
        (list, "an array"),
        (datetime, "a date-time"),
    ):
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _value_at(value: object, parts: Sequence[str | int]) -> object:
    for part in parts:
        if isinstance(part, int) and isinstance(value, list) and part < len(value):
            value = value[part]
        elif isinstance(part, str) and isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _type_at(kind: Any, value: object, parts: Sequence[str | int]) -> msgspec_inspect.Type:
    """The type info at a key path, choosing tagged-union members by the data's ``kind``."""
    info = msgspec_inspect.type_info(kind)
    for part in [*parts, None]:
        info = _narrow(info, value)
        if part is None:
            break
        if isinstance(info, msgspec_inspect.StructType) and isinstance(part, str):
            info = next(f.type for f in info.fields if f.encode_name == part)
        elif isinstance(info, msgspec_inspect.ListType):
            info = info.item_type
        value = _value_at(value, [part])
    return info


def _narrow(info: msgspec_inspect.Type, value: object) -> msgspec_inspect.Type:
    if not isinstance(info, msgspec_inspect.UnionType):
        return info
    members = [t for t in info.types if not isinstance(t, msgspec_inspect.NoneType)]
    tag = value.get("kind") if isinstance(value, dict) else None
    for member in members:
        if isinstance(member, msgspec_inspect.StructType) and member.tag == tag:
            return member
    return members[0]


def _field_names(info: msgspec_inspect.Type) -> list[str]:
    if isinstance(info, msgspec_inspect.StructType):
        names = [f.encode_name for f in info.fields]
        return [info.tag_field, *names] if info.tag_field else names
    return []


def _literal_values(info: msgspec_inspect.Type) -> str:
    if isinstance(info, msgspec_inspect.LiteralType):
        return ", ".join(repr(v) for v in info.values)
    return "the documented values"


def _tags(union: Any) -> list[str]:
    info = msgspec_inspect.type_info(union)
    members = info.types if isinstance(info, msgspec_inspect.UnionType) else (info,)
    return [str(m.tag) for m in members if isinstance(m, msgspec_inspect.StructType)]
