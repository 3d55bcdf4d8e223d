"""The vault: encryption round trip, key sources, tamper detection, rotation, no leaks."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from connector.config import Config, StoreConfig, VaultConfig
from connector.errors import ConfigurationError
from connector.vault import (
    Credential,
    Vault,
    encode_key,
    generate_key,
    locate_key,
    open_vault,
    write_key_file,
)

SECRET = "s3cr3t-client-secret-9f2"
APP_KEY = "ak-41d2-app-key"
SERVICETITAN = {"client_id": "cid.abc", "client_secret": SECRET, "app_key": APP_KEY}


@pytest.fixture
def key() -> bytes:
    return generate_key()


@pytest.fixture
def vault(db_path: Path, key: bytes) -> Vault:
    """A vault holding one ServiceTitan credential named 'st'."""
    created = Vault.init(db_path, key)
    created.set("st", "servicetitan", SERVICETITAN)
    return created


def dump(db_path: Path) -> list[str]:
    """Every row of the database as SQL, to prove an operation changed nothing."""
    with closing(sqlite3.connect(db_path)) as conn:
        return list(conn.iterdump())


def alter(db_path: Path, sql: str) -> None:
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(sql)


def test_round_trip(vault: Vault, db_path: Path, key: bytes) -> None:
    """A stored credential comes back, field for field, from a freshly opened vault."""
    credential = Vault.open(db_path, key).get("st")
    assert credential.name == "st" and credential.kind == "servicetitan"
    assert dict(credential.fields) == SERVICETITAN
    assert credential.secret("client_secret") == SECRET


def test_ciphertext_on_disk_holds_no_plaintext(vault: Vault, db_path: Path) -> None:
    """The database file never contains a secret in clear."""
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    content = b"".join(path.read_bytes() for path in files if path.exists())
    assert SECRET.encode() not in content and APP_KEY.encode() not in content


def test_replace_keeps_created_and_changes_fingerprint(vault: Vault) -> None:
    """Setting a name again replaces it; the fingerprint follows the secret."""
    before = vault.list()[0]
    again = vault.set("st", "servicetitan", SERVICETITAN)
    assert again.fingerprint == before.fingerprint
    changed = vault.set("st", "servicetitan", {**SERVICETITAN, "client_secret": "other"})
    assert changed.fingerprint != before.fingerprint
    assert changed.created_at == before.created_at
    assert vault.get("st").secret("client_secret") == "other"


def test_list_shows_no_value(vault: Vault) -> None:
    """list() gives name, kind and a 12-hex fingerprint, and no secret anywhere."""
    (info,) = vault.list()
    assert (info.name, info.kind) == ("st", "servicetitan")
    assert len(info.fingerprint) == 12 and int(info.fingerprint, 16) >= 0
    assert SECRET not in repr(info) and APP_KEY not in repr(info)


def test_repr_never_shows_a_secret(vault: Vault, key: bytes) -> None:
    """Credential, Vault and LocatedKey reprs list names only."""
    credential = vault.get("st")
    for text in (repr(credential), str(credential), repr([credential]), repr(vault)):
        assert SECRET not in text and APP_KEY not in text
    assert repr(credential) == (
        "Credential(name='st', kind='servicetitan', fields=['app_key', 'client_id', "
        "'client_secret'])"
    )
    located = locate_key(VaultConfig(), {"ML_CONNECTOR_VAULT_KEY": encode_key(key)})
    assert encode_key(key) not in repr(located) and repr(key) not in repr(located)


def test_credential_is_immutable_and_names_missing_fields(vault: Vault) -> None:
    """A Credential cannot be changed; asking for an absent field names it, not the values."""
    credential = vault.get("st")
    with pytest.raises(AttributeError):
        credential.name = "other"
    with pytest.raises(TypeError):
        credential.fields["client_secret"] = "x"  # type: ignore[index]
    with pytest.raises(ConfigurationError, match="has no field 'tenant'") as caught:
        credential.secret("tenant")
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "fields", "complaint"),
    [
        ("servicetitan", {"client_id": "a", "client_secret": "b"}, "missing the field 'app_key'"),
        ("servicetitan", {**SERVICETITAN, "app_key": ""}, "missing the field 'app_key'"),
        ("servicetitan", {**SERVICETITAN, "tenat": "1"}, "has no field 'tenat'"),
        ("acumatica", {"client_id": "a"}, "missing the field 'client_secret'"),
        ("sap", {"x": "y"}, "unknown kind 'sap'"),
        ("generic", {}, "needs at least one field"),
    ],
)
def test_set_validates_fields_against_the_kind(
    vault: Vault, kind: str, fields: dict[str, str], complaint: str
) -> None:
    """Each kind's required fields are enforced and the missing one named."""
    with pytest.raises(ConfigurationError, match=complaint):
        vault.set("new", kind, fields)
    assert [info.name for info in vault.list()] == ["st"]


def test_optional_and_free_form_fields(vault: Vault) -> None:
    """webhook-hmac takes an optional previous secret; generic takes any field."""
    vault.set("hooks", "webhook-hmac", {"secret": "new", "previous_secret": "old"})
    vault.set("misc", "generic", {"anything": "goes"})
    assert vault.get("hooks").secret("previous_secret") == "old"
    assert dict(vault.get("misc").fields) == {"anything": "goes"}


def test_bad_name_is_refused(vault: Vault) -> None:
    """Names are simple identifiers (no '|', which would blur name|kind)."""
    with pytest.raises(ConfigurationError, match="is not allowed"):
        vault.set("a|b", "bearer", {"token": "t"})


def test_unknown_name(vault: Vault) -> None:
    """get and delete of an absent name say how to add it or list names."""
    with pytest.raises(ConfigurationError, match="creds set nope --kind KIND"):
        vault.get("nope")
    with pytest.raises(ConfigurationError, match="creds list"):
        vault.delete("nope")


def test_delete(vault: Vault) -> None:
    """A deleted credential is gone."""
    vault.delete("st")
    assert vault.list() == []


def test_wrong_key_is_reported_as_such_and_changes_nothing(vault: Vault, db_path: Path) -> None:
    """Opening with another key fails on the key check, before any row is touched."""
    before = dump(db_path)
    with pytest.raises(ConfigurationError, match="the vault key does not match this vault"):
        Vault.open(db_path, generate_key())
    assert dump(db_path) == before


def test_init_refuses_to_overwrite(vault: Vault, db_path: Path) -> None:
    """A second init on the same database is refused and the vault keeps working."""
    assert Vault.exists(db_path)
    with pytest.raises(ConfigurationError, match="already holds a vault"):
        Vault.init(db_path, generate_key())
    assert vault.get("st").secret("client_secret") == SECRET


def test_open_without_a_database(tmp_path: Path, key: bytes) -> None:
    """Opening a vault that was never created says to run creds init."""
    assert not Vault.exists(tmp_path / "absent.db")
    with pytest.raises(ConfigurationError, match="creds init"):
        Vault.open(tmp_path / "absent.db", key)
    assert not (tmp_path / "absent.db").exists()


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE vault SET ciphertext = CAST(CASE WHEN substr(ciphertext, 1, 1) = X'00' "
        "THEN X'01' ELSE X'00' END || substr(ciphertext, 2) AS BLOB) WHERE name = 'st'",
        "UPDATE vault SET nonce = zeroblob(12) WHERE name = 'st'",
        "UPDATE vault SET kind = 'bearer' WHERE name = 'st'",
    ],
)
def test_tampered_row_names_the_credential(
    vault: Vault, db_path: Path, key: bytes, tamper: str
) -> None:
    """An altered ciphertext, nonce or kind fails authentication and names the credential."""
    alter(db_path, tamper)
    before = dump(db_path)
    with pytest.raises(ConfigurationError, match="credential 'st' .* cannot be decrypted"):
        Vault.open(db_path, key).get("st")
    assert dump(db_path) == before


def test_row_moved_to_another_name_fails(vault: Vault, db_path: Path, key: bytes) -> None:
    """A row renamed (or copied) to another name does not decrypt there."""
    alter(db_path, "UPDATE vault SET name = 'acumatica' WHERE name = 'st'")
    with pytest.raises(ConfigurationError, match="credential 'acumatica'"):
        Vault.open(db_path, key).get("acumatica")


def test_rotate_key_keeps_every_secret_readable_with_the_new_key_only(
    vault: Vault, db_path: Path, key: bytes
) -> None:
    """After rotation the new key reads every credential and the old key opens nothing."""
    vault.set("hooks", "webhook-hmac", {"secret": "hmac-secret"})
    vault.set("m3", "ionapi", {"ionapi": '{"ti": "ACME"}'})
    fingerprints = {info.name: info.fingerprint for info in vault.list()}
    new_key = generate_key()
    vault.rotate_key(new_key)
    with pytest.raises(ConfigurationError, match="does not match"):
        Vault.open(db_path, key)
    reopened = Vault.open(db_path, new_key)
    assert dict(reopened.get("st").fields) == SERVICETITAN
    assert reopened.get("hooks").secret("secret") == "hmac-secret"
    assert reopened.get("m3").secret("ionapi") == '{"ti": "ACME"}'
    assert vault.get("st").secret("client_secret") == SECRET
    assert {info.name: info.fingerprint for info in reopened.list()} != fingerprints


def test_rotation_is_all_or_nothing(vault: Vault, db_path: Path, key: bytes) -> None:
    """A row that does not decrypt aborts the rotation; the old key still opens everything."""
    vault.set("hooks", "webhook-hmac", {"secret": "hmac-secret"})
    alter(db_path, "UPDATE vault SET nonce = zeroblob(12) WHERE name = 'st'")
    before = dump(db_path)
    with pytest.raises(ConfigurationError, match="credential 'st'"):
        vault.rotate_key(generate_key())
    assert dump(db_path) == before
    assert Vault.open(db_path, key).get("hooks").secret("secret") == "hmac-secret"


def test_env_key_comes_first(tmp_path: Path, key: bytes) -> None:
    """The environment variable wins over the systemd credential and the key file."""
    write_key_file(tmp_path / "file.key", generate_key())
    config = VaultConfig(key_file=tmp_path / "file.key")
    environ = {"ML_CONNECTOR_VAULT_KEY": encode_key(key), "CREDENTIALS_DIRECTORY": "/nowhere"}
    located = locate_key(config, environ)
    assert located.key == key and located.origin == "environment"


def test_credentials_directory_key(tmp_path: Path, key: bytes) -> None:
    """systemd's $CREDENTIALS_DIRECTORY/<credential_name> is used before the key file."""
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "vault-key").write_text(encode_key(key) + "\n")
    write_key_file(tmp_path / "file.key", generate_key())
    located = locate_key(
        VaultConfig(key_file=tmp_path / "file.key"),
        {"CREDENTIALS_DIRECTORY": str(tmp_path / "creds")},
    )
    assert located.key == key and located.origin == "systemd"


def test_key_file_is_written_0600_and_never_overwritten(tmp_path: Path, key: bytes) -> None:
    """write_key_file creates a 0600 file the key loads from, and refuses an existing one."""
    path = tmp_path / "keys" / "vault.key"
    write_key_file(path, key)
    assert path.stat().st_mode & 0o777 == 0o600
    assert locate_key(VaultConfig(key_file=path), {}).key == key
    with pytest.raises(ConfigurationError, match="refusing to overwrite"):
        write_key_file(path, generate_key())
    assert locate_key(VaultConfig(key_file=path), {}).key == key


def test_key_file_readable_by_others_is_refused(tmp_path: Path, key: bytes) -> None:
    """A key file with mode 0644 is refused with the chmod that fixes it."""
    path = tmp_path / "vault.key"
    write_key_file(path, key)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match=f"run `chmod 600 {path}`"):
        locate_key(VaultConfig(key_file=path), {})


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_key_file_owned_by_someone_else_is_refused(tmp_path: Path, key: bytes) -> None:
    """A key file owned by another user is refused."""
    path = tmp_path / "vault.key"
    write_key_file(path, key)
    os.chown(path, 4242, -1)
    with pytest.raises(ConfigurationError, match="owned by uid 4242"):
        locate_key(VaultConfig(key_file=path), {})


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        (encode_key(b"short"), "is 5 bytes long; the vault needs 32"),
        ("not base64 at all!", "is not base64"),
    ],
)
def test_malformed_key_says_how_to_make_one(value: str, complaint: str) -> None:
    """A key of the wrong length or encoding is refused with the command that makes one."""
    with pytest.raises(ConfigurationError, match=complaint) as caught:
        locate_key(VaultConfig(), {"ML_CONNECTOR_VAULT_KEY": value})
    assert "openssl rand -base64 32" in str(caught.value)
    assert value not in str(caught.value)


def test_no_key_anywhere_lists_the_sources(tmp_path: Path) -> None:
    """Without any key source the message names all three and how to make a key."""
    with pytest.raises(ConfigurationError, match="no vault key found") as caught:
        locate_key(VaultConfig(), {})
    assert "LoadCredential=vault-key" in str(caught.value)
    with pytest.raises(ConfigurationError, match="creds init --key-file"):
        locate_key(VaultConfig(key_file=tmp_path / "missing.key"), {})


def test_open_vault_from_config(vault: Vault, db_path: Path, key: bytes) -> None:
    """open_vault locates the configured key and opens the configured database."""
    config = Config(store=StoreConfig(path=db_path))
    opened = open_vault(config, {"ML_CONNECTOR_VAULT_KEY": encode_key(key)})
    assert isinstance(opened.get("st"), Credential)
    with pytest.raises(ConfigurationError, match=r"the key from \$ML_CONNECTOR_VAULT_KEY"):
        open_vault(config, {"ML_CONNECTOR_VAULT_KEY": encode_key(generate_key())})
