"""``ml-connector creds …``: create the vault, store, list, delete credentials, rotate the key.

Secrets never come from the command line (shell history, ``ps``): ``creds set`` reads a JSON
object from stdin when stdin is a pipe, and prompts without echo when it is a terminal.
Nothing here prints a secret; ``list`` shows a fingerprint that changes with the secret.

Each handler returns the exit code: 0 done, 1 failed (the reason on stderr), 2 usage
(argparse's own). The configuration comes from ``--config``, else ``$ML_CONNECTOR_CONFIG``,
else the defaults for ``./state``.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from connector.commands.common import config_from, print_json, print_table
from connector.config import Config
from connector.errors import ConfigurationError
from connector.systems.infor.ionapi import parse_ionapi
from connector.vault import (
    KINDS,
    CredentialKind,
    LocatedKey,
    Vault,
    generate_key,
    locate_key,
    open_vault,
    write_key_file,
)

Handler = Callable[[argparse.Namespace], int]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``creds`` command and its subcommands; each sets ``handler``."""
    creds = sub.add_parser(
        "creds",
        help="manage the encrypted credential vault",
        description="Manage the encrypted credential vault. Secrets are read from stdin "
        "(a JSON object) or prompted for, never taken from the command line.",
    )
    actions = creds.add_subparsers(dest="creds_command", required=True, metavar="COMMAND")

    init = actions.add_parser("init", help="create the vault (optionally with a new key file)")
    init.add_argument("--key-file", type=Path, help="generate a new key into this file (mode 0600)")
    init.set_defaults(handler=_init)

    set_ = actions.add_parser("set", help="store or replace a credential (fields from stdin)")
    set_.add_argument("name", help="credential name, as the config refers to it")
    set_.add_argument("--kind", required=True, choices=sorted(KINDS), help="credential kind")
    set_.set_defaults(handler=_set)

    ionapi = actions.add_parser("import-ionapi", help="store an Infor .ionapi file")
    ionapi.add_argument("name", help="credential name, as the config refers to it")
    ionapi.add_argument("file", type=Path, help="the .ionapi file downloaded from ION API")
    ionapi.set_defaults(handler=_import_ionapi)

    list_ = actions.add_parser("list", help="list credentials (never their values)")
    list_.add_argument("--json", action="store_true", help="machine-readable output")
    list_.set_defaults(handler=_list)

    delete = actions.add_parser("delete", help="remove a credential")
    delete.add_argument("name")
    delete.set_defaults(handler=_delete)

    rotate = actions.add_parser("rotate-key", help="re-encrypt the vault with a new key")
    rotate.add_argument(
        "--new-key-file", type=Path, required=True, help="where to write the new key (0600)"
    )
    rotate.set_defaults(handler=_rotate_key)


def _reporting(handler: Handler) -> Handler:
    """Turn an operator-facing error into a message on stderr and exit code 1."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ConfigurationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run


@_reporting
def _init(args: argparse.Namespace) -> int:
    config = config_from(args)
    db_path = config.store.path
    if Vault.exists(db_path):
        raise ConfigurationError(
            f"{db_path} already holds a vault; refusing to overwrite it. `ml-connector creds "
            "list` shows what it holds; `creds rotate-key` changes its key"
        )
    key_file: Path | None = args.key_file
    if key_file is None:
        located = locate_key(config.vault)
        Vault.init(db_path, located.key, key_source=located.source)
        print(f"created the vault in {db_path}, encrypted with the key from {located.source}")
        return 0
    key = generate_key()
    write_key_file(key_file, key)
    try:
        Vault.init(db_path, key, key_source=f"key file {key_file}")
    except BaseException:
        key_file.unlink(missing_ok=True)
        raise
    print(f"created the vault in {db_path} with a new key in {key_file} (mode 0600)")
    configured = config.vault.key_file
    if configured is None or configured.absolute() != key_file.absolute():
        print(
            f'next: set key_file = "{key_file.absolute()}" under [vault] in the config (or '
            f"load that file as the systemd credential {config.vault.credential_name}) so "
            "the connector finds the key"
        )
    if os.environ.get(config.vault.key_env):
        print(
            f"warning: ${config.vault.key_env} is set and takes precedence over the key file; "
            "unset it, or the vault will not open",
            file=sys.stderr,
        )
    print("back the key file up apart from the database: without it the credentials cannot be read")
    return 0


@_reporting
def _set(args: argparse.Namespace) -> int:
    name: str = args.name
    vault = open_vault(config_from(args))
    kind = KINDS[args.kind]
    fields = _read_fields(kind) if not sys.stdin.isatty() else _prompt_fields(name, kind)
    if kind.validate is not None:
        kind.validate(fields, f"credential {name!r}")
    info = vault.set(name, kind.name, fields)
    print(f"stored credential {info.name} (kind {info.kind}, fingerprint {info.fingerprint})")
    return 0


def _read_fields(kind: CredentialKind) -> dict[str, str]:
    text = sys.stdin.read()
    example = ", ".join(f'"{field}": "…"' for field in kind.required) or '"field": "…"'
    if not text.strip():
        raise ConfigurationError(
            f"no fields on stdin: pipe a JSON object such as {{{example}}} into "
            f"`creds set`, or run it at a terminal to be prompted"
        )
    try:
        # msgspec's messages name positions and types, never the values (which are secrets).
        return msgspec.json.decode(text, type=dict[str, str])
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigurationError(
            f"stdin is not a JSON object of text fields ({exc}); expected e.g. {{{example}}}"
        ) from None


def _prompt_fields(name: str, kind: CredentialKind) -> dict[str, str]:
    if kind.not_typed is not None:
        raise ConfigurationError(kind.not_typed.format(name=name))
    fields: dict[str, str] = {}
    if kind.open_ended:
        while field_name := input("field name (Enter when done): ").strip():
            fields[field_name] = getpass.getpass(f"{field_name}: ")
        return fields
    for field_name in kind.fields:
        optional = " (optional, Enter to skip)" if field_name in kind.optional else ""
        prompt = f"{field_name}{optional}: "
        secret = field_name in kind.secret
        fields[field_name] = getpass.getpass(prompt) if secret else input(prompt)
    return fields


@_reporting
def _import_ionapi(args: argparse.Namespace) -> int:
    name: str = args.name
    path: Path = args.file
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"{path}: cannot read the .ionapi file ({exc.strerror}); check the path"
        ) from None
    ionapi = parse_ionapi(raw, source=str(path))
    vault = open_vault(config_from(args))
    info = vault.set(name, "ionapi", {"ionapi": raw.decode("utf-8-sig")})
    print(f"stored credential {info.name} (kind ionapi, fingerprint {info.fingerprint})")
    print(f"  tenant:       {ionapi.ti}")
    print(f"  gateway base: {ionapi.gateway_base}")
    print(f"  token URL:    {ionapi.token_url}")
    return 0


@_reporting
def _list(args: argparse.Namespace) -> int:
    credentials = open_vault(config_from(args)).list()
    if args.json:
        print_json(
            [
                {
                    "name": info.name,
                    "kind": info.kind,
                    "fingerprint": info.fingerprint,
                    "created_at": _timestamp(info.created_at),
                    "updated_at": _timestamp(info.updated_at),
                }
                for info in credentials
            ]
        )
        return 0
    if not credentials:
        print("the vault holds no credentials; add one with `ml-connector creds set NAME --kind K`")
        return 0
    print_table(
        ["NAME", "KIND", "FINGERPRINT", "UPDATED"],
        [
            [info.name, info.kind, info.fingerprint, _timestamp(info.updated_at)]
            for info in credentials
        ],
    )
    return 0


def _timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


@_reporting
def _delete(args: argparse.Namespace) -> int:
    name: str = args.name
    config = config_from(args)
    open_vault(config).delete(name)
    print(f"deleted credential {name}")
    for user in _users_of(config, name):
        print(f"warning: {user} still names credential {name!r}", file=sys.stderr)
    return 0


def _users_of(config: Config, name: str) -> list[str]:
    systems = config.systems.items()
    users = [f"systems.{key}" for key, system in systems if system.credential == name]
    users += [
        f"systems.{key}.webhook_secret_credential"
        for key, system in systems
        if getattr(system, "webhook_secret_credential", None) == name
    ]
    if config.service.admin_token_credential == name:
        users.append("service.admin_token_credential")
    return users


@_reporting
def _rotate_key(args: argparse.Namespace) -> int:
    config = config_from(args)
    new_key_file: Path = args.new_key_file
    old = locate_key(config.vault)
    vault = Vault.open(config.store.path, old.key, key_source=old.source)
    new_key = generate_key()
    write_key_file(new_key_file, new_key)
    try:
        vault.rotate_key(new_key)
    except BaseException:
        new_key_file.unlink(missing_ok=True)
        raise
    print(
        f"the vault in {config.store.path} is now encrypted with the new key in "
        f"{new_key_file}; the old key ({old.source}) no longer opens it."
    )
    print(f"next: 1. {_how_to_switch(config, old, new_key_file)}")
    print("      2. restart the service so it reads the new key.")
    print(
        "      3. destroy the old key once no backup you might restore needs it: database "
        "backups taken before now are readable only with the old key."
    )
    print("fingerprints changed with the key; the secrets themselves did not.")
    return 0


def _how_to_switch(config: Config, old: LocatedKey, new_key_file: Path) -> str:
    if old.origin == "environment":
        return f"set {old.source} to the content of {new_key_file} wherever it is defined."
    if old.origin == "systemd":
        return (
            f"load {new_key_file} as the systemd credential {config.vault.credential_name} "
            "(LoadCredential= in the unit) instead of the old file."
        )
    old_file = config.vault.key_file
    return (
        f'set key_file = "{new_key_file.absolute()}" under [vault] in the config, or move '
        f"the new key over the old file (`mv {new_key_file} {old_file}`) after copying the "
        "old key away if old backups need it."
    )
