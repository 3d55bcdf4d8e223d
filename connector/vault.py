"""The credential vault: secrets encrypted with AES-256-GCM in the state database.

Each credential is one row of the ``vault`` table: a JSON object of text fields, encrypted
with a fresh 96-bit nonce and with ``name|kind`` as associated data, so a row copied to
another name or kind does not decrypt. ``vault_meta.key_check`` is a known text encrypted
with the key, which proves a key right before anything is read or written: a wrong key is
reported as such, never as a corrupt vault, and changes nothing.

The key (32 random bytes, base64 in every place it is stored) is found by
:func:`locate_key`, first source present wins:

1. the environment variable ``VaultConfig.key_env`` (``ML_CONNECTOR_VAULT_KEY``);
2. systemd's ``$CREDENTIALS_DIRECTORY/<VaultConfig.credential_name>`` (``LoadCredential=``);
3. ``VaultConfig.key_file``, which must be mode 0600 or stricter and owned by the user.

The vault opens its own short-lived synchronous SQLite connection per operation: it is read
once at startup and written only by the ``creds`` commands, so it never competes with the
service's writer connection for long. Plaintext never leaves this module except through
:class:`Credential`, whose ``repr`` lists field names only.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import hashlib
import hmac
import os
import re
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, NoReturn

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from connector import registry
from connector.config import Config, VaultConfig
from connector.errors import ConfigurationError
from connector.registry import CredentialKind as CredentialKind  # re-exported
from connector.store.schema import connect_sync, migrate

KEY_BYTES = 32
_NONCE_BYTES = 12
_CHECK_TEXT = b"ml-connector vault key check v1"
_CHECK_AAD = b"vault_meta"
# The fingerprint key is derived, not the vault key itself, so the HMAC and AES-GCM never
# share key material.
_FINGERPRINT_LABEL = b"ml-connector credential fingerprint v1"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MAKE_A_KEY = "make one with `ml-connector creds init --key-file PATH` or `openssl rand -base64 32`"


#: The kinds no particular system owns; each system package declares its own kinds
#: (:class:`connector.registry.SystemSpec`), and :data:`KINDS` joins the two.
OWN_KINDS: tuple[CredentialKind, ...] = (
    CredentialKind(
        "webhook-hmac",
        required=("secret",),
        # During a rotation both secrets are accepted, so senders can switch at leisure.
        optional=("previous_secret",),
        secret=frozenset({"secret", "previous_secret"}),
    ),
    CredentialKind("bearer", required=("token",), secret=frozenset({"token"})),
    # The login of [service.alerts]'s SMTP relay.
    CredentialKind("smtp", required=("username", "password"), secret=frozenset({"password"})),
    CredentialKind("generic", required=(), open_ended=True),
)


class _Kinds(Mapping[str, CredentialKind]):
    """Every credential kind by name: the registered systems' kinds, then :data:`OWN_KINDS`.

    Read from the registry on each use, so a system registered later (a plugin) counts."""

    def _all(self) -> dict[str, CredentialKind]:
        kinds = registry.credential_kinds()
        for kind in OWN_KINDS:
            kinds.setdefault(kind.name, kind)
        return kinds

    def __getitem__(self, name: str) -> CredentialKind:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return f"KINDS({', '.join(self)})"


KINDS: Mapping[str, CredentialKind] = _Kinds()


class Credential:
    """One decrypted credential. Immutable; its ``repr`` and ``str`` show field names only."""

    __slots__ = ("name", "kind", "fields")

    name: str
    kind: str
    fields: Mapping[str, str]

    def __init__(self, name: str, kind: str, fields: Mapping[str, str]):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "fields", MappingProxyType(dict(fields)))

    def __setattr__(self, attribute: str, value: object) -> NoReturn:
        raise AttributeError(f"Credential is immutable (tried to set {attribute!r})")

    def secret(self, field_name: str) -> str:
        """The value of a field; ConfigurationError naming the credential if it is absent."""
        try:
            return self.fields[field_name]
        except KeyError:
            raise ConfigurationError(
                f"credential {self.name!r} (kind {self.kind}) has no field {field_name!r} "
                f"(it has {', '.join(sorted(self.fields)) or 'none'}); store it again with "
                f"`ml-connector creds set {self.name} --kind {self.kind}`"
            ) from None

    def __repr__(self) -> str:
        return f"Credential(name={self.name!r}, kind={self.kind!r}, fields={sorted(self.fields)})"

    __str__ = __repr__


class CredentialInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What ``creds list`` shows about a credential: never a value."""

    name: str
    kind: str
    fingerprint: str
    """First 12 hex digits of an HMAC of the plaintext: changes when the secret (or the
    vault key) changes, and reveals nothing about the secret."""
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class LocatedKey:
    """A vault key and where it was found (for messages; the key itself is never shown)."""

    key: bytes = field(repr=False)
    source: str
    origin: Literal["environment", "systemd", "file"]


def generate_key() -> bytes:
    """A new random 256-bit vault key."""
    return os.urandom(KEY_BYTES)


def encode_key(key: bytes) -> str:
    """The text form of a key, as read from the environment and from key files."""
    return base64.b64encode(key).decode("ascii")


def write_key_file(path: Path, key: bytes) -> None:
    """Create ``path`` holding ``key``, mode 0600. Never overwrites an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigurationError(
            f"{path} already exists; refusing to overwrite it (it may be the only copy of a "
            "key). Choose another path, or move the old file away if it is truly unused"
        ) from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(encode_key(key) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def locate_key(config: VaultConfig, environ: Mapping[str, str] | None = None) -> LocatedKey:
    """Find the vault key in the configured sources, first present wins (module docstring).

    Raises ConfigurationError when no source holds a key, when the key is malformed, or when
    the key file is readable by others or owned by someone else.
    """
    env = os.environ if environ is None else environ
    from_env = env.get(config.key_env, "").strip()
    if from_env:
        where = f"${config.key_env}"
        return LocatedKey(_decode_key(from_env, where), where, "environment")
    credentials_dir = env.get("CREDENTIALS_DIRECTORY")
    if credentials_dir:
        systemd_path = Path(credentials_dir) / config.credential_name
        if systemd_path.is_file():
            where = f"systemd credential {systemd_path}"
            key = _decode_key(systemd_path.read_text("ascii", "replace"), where)
            return LocatedKey(key, where, "systemd")
    if config.key_file is not None:
        return _read_key_file(config.key_file)
    raise ConfigurationError(
        f"no vault key found: set ${config.key_env} to a base64 key, give systemd a "
        f"credential named {config.credential_name} (LoadCredential={config.credential_name}:"
        f"/path/to/key), or set key_file under [vault] in the config; {_MAKE_A_KEY}"
    )


def _read_key_file(path: Path) -> LocatedKey:
    try:
        status = path.stat()
    except FileNotFoundError:
        raise ConfigurationError(
            f"vault key file {path} does not exist: for a new vault run `ml-connector creds "
            f"init --key-file {path}` (or `openssl rand -base64 32 > {path}; chmod 600 "
            f"{path}`); for an existing vault restore the file from backup"
        ) from None
    if status.st_mode & 0o077:
        raise ConfigurationError(
            f"vault key file {path} is readable by other users (mode "
            f"{status.st_mode & 0o777:04o}); run `chmod 600 {path}` and consider rotating the "
            "key (`ml-connector creds rotate-key`) if others may have read it"
        )
    if status.st_uid != os.geteuid():
        raise ConfigurationError(
            f"vault key file {path} is owned by uid {status.st_uid}, not by the user running "
            f"ml-connector (uid {os.geteuid()}); run `chown {os.geteuid()} {path}` and "
            f"`chmod 600 {path}`"
        )
    where = f"key file {path}"
    return LocatedKey(_decode_key(path.read_text("ascii", "replace"), where), where, "file")


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(
            f"the vault key in {where} is not base64 text; {_MAKE_A_KEY}"
        ) from None
    _check_length(key, where)
    return key


def _check_length(key: bytes, where: str) -> None:
    if len(key) != KEY_BYTES:
        raise ConfigurationError(
            f"the vault key in {where} is {len(key)} bytes long; the vault needs {KEY_BYTES} "
            f"random bytes (AES-256), base64-encoded: {_MAKE_A_KEY}"
        )


def open_vault(config: Config, environ: Mapping[str, str] | None = None) -> Vault:
    """Open the configured vault with the configured key: what the service does at startup."""
    located = locate_key(config.vault, environ)
    return Vault.open(config.store.path, located.key, key_source=located.source)


class Vault:
    """The encrypted credential store of one state database.

    Obtain one with :meth:`open` (existing vault) or :meth:`init` (new vault); both prove
    the key first. Every method raises ConfigurationError for a problem an operator must
    fix, and leaves the database unchanged when it does.
    """

    def __init__(self, db_path: Path, key: bytes, key_source: str):
        self._db_path = db_path
        self._key = key
        self._key_source = key_source

    def __repr__(self) -> str:
        return f"Vault({str(self._db_path)!r})"

    @property
    def db_path(self) -> Path:
        return self._db_path

    @classmethod
    def open(cls, db_path: Path, key: bytes, *, key_source: str = "the key given") -> Vault:
        """Open an existing vault, checking that ``key`` is the one it was made with."""
        _check_length(key, key_source)
        if not db_path.exists():
            raise ConfigurationError(
                f"no state database at {db_path}, so no vault: create it with "
                "`ml-connector creds init` (and check store.path in the config)"
            )
        vault = cls(db_path, key, key_source)
        with vault._connect() as conn:
            vault._verify_key(conn)
        return vault

    @classmethod
    def init(cls, db_path: Path, key: bytes, *, key_source: str = "the key given") -> Vault:
        """Create the vault in ``db_path`` (made if missing); refuses if one exists there."""
        _check_length(key, key_source)
        db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        vault = cls(db_path, key, key_source)
        with vault._connect() as conn, _transaction(conn):
            if conn.execute("SELECT 1 FROM vault_meta").fetchone():
                raise ConfigurationError(
                    f"{db_path} already holds a vault; refusing to overwrite it (its "
                    "credentials would become unreadable). To change the key use "
                    "`ml-connector creds rotate-key`"
                )
            conn.execute(
                "INSERT INTO vault_meta (id, key_check, created_at) VALUES (1, ?, ?)",
                (vault._seal_check(), time.time()),
            )
        return vault

    @staticmethod
    def exists(db_path: Path) -> bool:
        """Whether ``db_path`` already holds a vault (looked at read-only)."""
        if not db_path.exists():
            return False
        uri = db_path.absolute().as_uri() + "?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            try:
                return conn.execute("SELECT 1 FROM vault_meta").fetchone() is not None
            except sqlite3.OperationalError:
                return False

    def set(self, name: str, kind: str, fields: Mapping[str, str]) -> CredentialInfo:
        """Store (or replace) a credential after checking its fields against its kind."""
        cleaned = _validate(name, kind, fields)
        plaintext = _plaintext(cleaned)
        now = time.time()
        with self._connect() as conn, _transaction(conn):
            self._verify_key(conn)
            nonce, ciphertext = self._seal(name, kind, plaintext)
            conn.execute(
                "INSERT INTO vault (name, kind, nonce, ciphertext, fingerprint, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "kind = excluded.kind, nonce = excluded.nonce, ciphertext = excluded.ciphertext,"
                " fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
                (name, kind, nonce, ciphertext, self._fingerprint(plaintext), now, now),
            )
            row = conn.execute(
                "SELECT name, kind, fingerprint, created_at, updated_at FROM vault WHERE name = ?",
                (name,),
            ).fetchone()
        return _info(row)

    def get(self, name: str) -> Credential:
        """Decrypt one credential; ConfigurationError if it is absent or was tampered with."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT kind, nonce, ciphertext FROM vault WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                raise ConfigurationError(
                    f"no credential named {name!r} in the vault ({self._db_path}); add it with "
                    f"`ml-connector creds set {name} --kind KIND` (or `creds import-ionapi`)"
                )
            kind, nonce, ciphertext = row
            fields = self._open_row(conn, name, kind, nonce, ciphertext)
        return Credential(name, kind, fields)

    def list(self) -> builtins.list[CredentialInfo]:
        """Every credential's name, kind and fingerprint, by name. Decrypts nothing."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT name, kind, fingerprint, created_at, updated_at FROM vault ORDER BY name"
            ).fetchall()
        return [_info(row) for row in rows]

    def delete(self, name: str) -> None:
        """Remove a credential; ConfigurationError if there is none by that name."""
        with self._connect() as conn, _transaction(conn):
            self._verify_key(conn)
            if conn.execute("DELETE FROM vault WHERE name = ?", (name,)).rowcount == 0:
                raise ConfigurationError(
                    f"no credential named {name!r} in the vault; `ml-connector creds list` "
                    "shows the names"
                )

    def rotate_key(self, new_key: bytes) -> None:
        """Re-encrypt every credential and the key check with ``new_key``, all or nothing.

        Afterwards only ``new_key`` opens the vault (this object switches to it). A row that
        does not decrypt aborts the rotation with the vault unchanged.
        """
        _check_length(new_key, "the new key")
        if hmac.compare_digest(new_key, self._key):
            raise ConfigurationError("the new vault key is the same as the current one")
        rotated = Vault(self._db_path, new_key, "the new key")
        with self._connect() as conn, _transaction(conn):
            self._verify_key(conn)
            rows = conn.execute("SELECT name, kind, nonce, ciphertext FROM vault").fetchall()
            for name, kind, nonce, ciphertext in rows:
                plaintext = _plaintext(self._open_row(conn, name, kind, nonce, ciphertext))
                new_nonce, new_ciphertext = rotated._seal(name, kind, plaintext)
                conn.execute(
                    "UPDATE vault SET nonce = ?, ciphertext = ?, fingerprint = ? WHERE name = ?",
                    (new_nonce, new_ciphertext, rotated._fingerprint(plaintext), name),
                )
            conn.execute(
                "UPDATE vault_meta SET key_check = ? WHERE id = 1", (rotated._seal_check(),)
            )
        self._key = new_key
        self._key_source = "the new key"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(connect_sync(str(self._db_path))) as conn:
            try:
                migrate(conn)
            except RuntimeError as exc:
                raise ConfigurationError(f"{self._db_path}: {exc}") from None
            yield conn

    def _verify_key(self, conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT key_check FROM vault_meta WHERE id = 1").fetchone()
        if row is None:
            raise ConfigurationError(
                f"{self._db_path} holds no vault yet; create it with `ml-connector creds init`"
            )
        check: bytes = row[0]
        try:
            opened = AESGCM(self._key).decrypt(
                check[:_NONCE_BYTES], check[_NONCE_BYTES:], _CHECK_AAD
            )
        except (InvalidTag, ValueError):
            opened = b""
        if not hmac.compare_digest(opened, _CHECK_TEXT):
            raise ConfigurationError(
                f"the vault key does not match this vault ({self._db_path}): the key from "
                f"{self._key_source} is not the one the vault was created or last rotated "
                "with. Nothing was changed. Provide the right key (looked for in the key "
                "environment variable, then $CREDENTIALS_DIRECTORY, then key_file; a stale "
                "environment variable hides the others). If that key is lost, the stored "
                "credentials cannot be recovered and must be entered again in a new vault"
            )

    def _seal_check(self) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self._key).encrypt(nonce, _CHECK_TEXT, _CHECK_AAD)

    def _seal(self, name: str, kind: str, plaintext: bytes) -> tuple[bytes, bytes]:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce, AESGCM(self._key).encrypt(nonce, plaintext, _aad(name, kind))

    def _open_row(
        self, conn: sqlite3.Connection, name: str, kind: str, nonce: bytes, ciphertext: bytes
    ) -> dict[str, str]:
        try:
            plaintext = AESGCM(self._key).decrypt(nonce, ciphertext, _aad(name, kind))
            return msgspec.json.decode(plaintext, type=dict[str, str])
        except (InvalidTag, ValueError, TypeError, msgspec.DecodeError):
            # A wrong key fails here too: say so rather than blame the row.
            self._verify_key(conn)
            raise ConfigurationError(
                f"credential {name!r} in the vault ({self._db_path}) cannot be decrypted "
                "although the vault key is right: its row was altered, or copied from another "
                "name or kind. Nothing was changed. Store it again with `ml-connector creds "
                f"set {name} --kind {kind}` (or `creds import-ionapi`), or `creds delete {name}`"
            ) from None

    def _fingerprint(self, plaintext: bytes) -> str:
        fingerprint_key = hmac.new(self._key, _FINGERPRINT_LABEL, hashlib.sha256).digest()
        return hmac.new(fingerprint_key, plaintext, hashlib.sha256).hexdigest()[:12]


def _aad(name: str, kind: str) -> bytes:
    # Names cannot contain "|" (see _NAME) and kinds are fixed, so the join is unambiguous.
    return f"{name}|{kind}".encode()


def _plaintext(fields: Mapping[str, str]) -> bytes:
    return msgspec.json.encode(dict(sorted(fields.items())))


def _info(row: tuple[str, str, str, float, float]) -> CredentialInfo:
    name, kind, fingerprint, created_at, updated_at = row
    return CredentialInfo(
        name=name,
        kind=kind,
        fingerprint=fingerprint,
        created_at=created_at,
        updated_at=updated_at,
    )


def _validate(name: str, kind: str, fields: Mapping[str, str]) -> dict[str, str]:
    if not _NAME.match(name):
        raise ConfigurationError(
            f"credential name {name!r} is not allowed: use 1-64 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit"
        )
    spec = KINDS.get(kind)
    if spec is None:
        raise ConfigurationError(
            f"credential {name!r}: unknown kind {kind!r}; the kinds are {', '.join(KINDS)}"
        )
    cleaned = {key: value for key, value in fields.items() if value != ""}
    if spec.open_ended:
        if not cleaned:
            raise ConfigurationError(f"credential {name!r} (kind {kind}) needs at least one field")
        bad = [key for key in cleaned if not _NAME.match(key)]
        if bad:
            raise ConfigurationError(
                f"credential {name!r}: field name {bad[0]!r} is not allowed (letters, digits, "
                "'.', '_', '-')"
            )
        return cleaned
    for required in spec.required:
        if required not in cleaned:
            raise ConfigurationError(
                f"credential {name!r} (kind {kind}) is missing the field {required!r}; "
                f"it needs {', '.join(spec.required)}"
                + (f" and may have {', '.join(spec.optional)}" if spec.optional else "")
            )
    unknown = sorted(set(cleaned) - set(spec.fields))
    if unknown:
        raise ConfigurationError(
            f"credential {name!r} (kind {kind}) has no field {unknown[0]!r}; its fields are "
            f"{', '.join(spec.fields)} (use kind generic for free-form fields)"
        )
    return cleaned


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception (the connection autocommits)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
