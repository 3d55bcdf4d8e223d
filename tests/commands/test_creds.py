"""`ml-connector creds …` run in-process: outcomes, exit codes, and no secret ever printed."""

from __future__ import annotations

import argparse
import builtins
import getpass
import io
import json
from pathlib import Path

import pytest

from connector.commands.creds import register
from connector.config import VaultConfig
from connector.vault import Vault, encode_key, generate_key, locate_key, write_key_file

SECRET = "st-client-secret-5Jq9"
APP_KEY = "st-app-key-K2p7"
CS = "ionapi-cs-Wm3x"
SASK = "ionapi-sask-Rr8c"
SECRETS = (SECRET, APP_KEY, CS, SASK)

IONAPI = {
    "ti": "ACME_TST",
    "cn": "ml-connector",
    "ci": "ACME_TST~client",
    "cs": CS,
    "iu": "https://mingle-ionapi.eu1.inforcloudsuite.com",
    "pu": "https://mingle-sso.eu1.inforcloudsuite.com:443/ACME_TST/as/",
    "oa": "authorization.oauth2",
    "ot": "token.oauth2",
    "or": "revoke_token.oauth2",
    "saak": "ACME_TST#svc",
    "sask": SASK,
    "v": "1.1",
}


class Cli:
    """Runs creds subcommands through a parser built like the real one."""

    def __init__(
        self,
        config: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ):
        parser = argparse.ArgumentParser(prog="ml-connector")
        parser.add_argument("--config", type=Path, default=None)
        register(parser.add_subparsers(dest="command", required=True))
        self.parser = parser
        self.config = config
        self.monkeypatch = monkeypatch
        self.capsys = capsys

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        """Exit code, stdout and stderr of one command; asserts no secret was printed."""
        self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        args = self.parser.parse_args(["--config", str(self.config), *argv])
        code = args.handler(args)
        out, err = self.capsys.readouterr()
        for secret in SECRETS:
            assert secret not in out and secret not in err
        return code, out, err


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "connector.toml"
    path.write_text(
        '[store]\npath = "state/connector.db"\n[vault]\nkey_file = "state/vault.key"\n'
        '[systems.st]\nkind = "servicetitan"\ncredential = "st"\ntenant = 7\n'
    )
    return path


@pytest.fixture
def cli(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    monkeypatch.delenv("ML_CONNECTOR_VAULT_KEY", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    return Cli(config_file, monkeypatch, capsys)


@pytest.fixture
def initialised(cli: Cli, tmp_path: Path) -> Cli:
    """A vault created by `creds init --key-file` at the configured key path."""
    code, _, _ = cli("creds", "init", "--key-file", str(tmp_path / "state" / "vault.key"))
    assert code == 0
    return cli


def servicetitan_fields() -> str:
    return json.dumps({"client_id": "cid", "client_secret": SECRET, "app_key": APP_KEY})


def open_vault(tmp_path: Path, key_file: str = "vault.key") -> Vault:
    """The vault the commands wrote, opened directly with a key file under state/."""
    key = locate_key(VaultConfig(key_file=tmp_path / "state" / key_file), {}).key
    return Vault.open(tmp_path / "state" / "connector.db", key)


def test_init_with_key_file_creates_vault_and_0600_key(cli: Cli, tmp_path: Path) -> None:
    """init --key-file writes a 0600 key and a vault that key opens."""
    key_file = tmp_path / "state" / "vault.key"
    code, out, _ = cli("creds", "init", "--key-file", str(key_file))
    assert code == 0
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "created the vault" in out and "back the key file up" in out
    assert "next: set key_file" not in out  # the config already points at it
    assert open_vault(tmp_path).list() == []


def test_init_refuses_to_overwrite(initialised: Cli, tmp_path: Path) -> None:
    """A second init fails with exit 1 and writes no new key file."""
    code, _, err = initialised("creds", "init", "--key-file", str(tmp_path / "other.key"))
    assert code == 1
    assert "already holds a vault" in err
    assert not (tmp_path / "other.key").exists()


def test_init_without_any_key_says_how_to_provide_one(cli: Cli, tmp_path: Path) -> None:
    """init without --key-file and without a key explains the options, exit 1."""
    code, out, err = cli("creds", "init")
    assert code == 1 and out == ""
    assert "creds init --key-file" in err and "openssl rand -base64 32" in err
    assert not Vault.exists(tmp_path / "state" / "connector.db")


def test_init_with_env_key(cli: Cli, tmp_path: Path) -> None:
    """init without --key-file uses the key from the environment."""
    key = generate_key()
    cli.monkeypatch.setenv("ML_CONNECTOR_VAULT_KEY", encode_key(key))
    code, out, _ = cli("creds", "init")
    assert code == 0 and "$ML_CONNECTOR_VAULT_KEY" in out
    assert Vault.open(tmp_path / "state" / "connector.db", key).list() == []


def test_set_from_stdin_then_list(initialised: Cli, tmp_path: Path) -> None:
    """set reads a JSON object from stdin; list shows name, kind and fingerprint only."""
    code, out, _ = initialised("creds", "set", "st", "--kind", "servicetitan",
                               stdin=servicetitan_fields())
    assert code == 0 and "stored credential st" in out
    assert open_vault(tmp_path).get("st").secret("client_secret") == SECRET
    code, out, _ = initialised("creds", "list")
    assert code == 0
    assert "st" in out and "servicetitan" in out
    fingerprint = open_vault(tmp_path).list()[0].fingerprint
    assert fingerprint in out
    code, out, _ = initialised("creds", "list", "--json")
    (row,) = json.loads(out)
    assert row["name"] == "st" and row["fingerprint"] == fingerprint
    assert set(row) == {"name", "kind", "fingerprint", "created_at", "updated_at"}


def test_set_names_the_missing_field(initialised: Cli) -> None:
    """A stdin object missing a required field fails, naming it."""
    fields = json.dumps({"client_id": "cid", "client_secret": SECRET})
    code, _, err = initialised("creds", "set", "st", "--kind", "servicetitan", stdin=fields)
    assert code == 1 and "missing the field 'app_key'" in err


@pytest.mark.parametrize("stdin", [f'{{"client_secret": "{SECRET}"', f'["{SECRET}"]', ""])
def test_set_with_bad_stdin_never_echoes_it(initialised: Cli, stdin: str) -> None:
    """Malformed or empty stdin is refused without repeating what was sent."""
    code, _, err = initialised("creds", "set", "st", "--kind", "servicetitan", stdin=stdin)
    assert code == 1 and "error:" in err


def test_set_at_a_terminal_prompts_secrets_without_echo(
    initialised: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a TTY, secret fields go through getpass and the others through input."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    hidden: list[str] = []
    shown: list[str] = []
    answers = {"client_id": "cid", "client_secret": SECRET, "app_key": APP_KEY, "tenant": ""}

    def fake_getpass(prompt: str = "") -> str:
        hidden.append(prompt.split(" ")[0].rstrip(":"))
        return answers[hidden[-1]]

    def fake_input(prompt: str = "") -> str:
        shown.append(prompt.split(" ")[0].rstrip(":"))
        return answers[shown[-1]]

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    monkeypatch.setattr(builtins, "input", fake_input)
    parser = initialised.parser
    monkeypatch.setattr("sys.stdin", Terminal())
    args = parser.parse_args(["--config", str(initialised.config), "creds", "set", "st",
                              "--kind", "servicetitan"])
    assert args.handler(args) == 0
    assert hidden == ["client_secret", "app_key"] and shown == ["client_id", "tenant"]
    assert dict(open_vault(tmp_path).get("st").fields) == {
        "client_id": "cid", "client_secret": SECRET, "app_key": APP_KEY
    }


def test_unknown_kind_is_a_usage_error(initialised: Cli) -> None:
    """An unknown --kind is rejected by argparse with exit status 2."""
    with pytest.raises(SystemExit) as caught:
        initialised("creds", "set", "st", "--kind", "sap")
    assert caught.value.code == 2


def test_import_ionapi_prints_urls_never_secrets(initialised: Cli, tmp_path: Path) -> None:
    """import-ionapi stores the whole file and prints tenant, gateway base and token URL."""
    ionapi_file = tmp_path / "ACME_TST.ionapi"
    ionapi_file.write_text(json.dumps(IONAPI))
    code, out, _ = initialised("creds", "import-ionapi", "m3", str(ionapi_file))
    assert code == 0
    assert "ACME_TST" in out
    assert "https://mingle-ionapi.eu1.inforcloudsuite.com/ACME_TST" in out
    assert "https://mingle-sso.eu1.inforcloudsuite.com:443/ACME_TST/as/token.oauth2" in out
    stored = open_vault(tmp_path).get("m3")
    assert stored.kind == "ionapi" and json.loads(stored.secret("ionapi")) == IONAPI


def test_import_ionapi_of_a_web_app_file_explains(initialised: Cli, tmp_path: Path) -> None:
    """A file without a service account is refused with the backend-service explanation."""
    ionapi_file = tmp_path / "web.ionapi"
    ionapi_file.write_text(json.dumps({k: v for k, v in IONAPI.items() if k != "saak"}))
    code, _, err = initialised("creds", "import-ionapi", "m3", str(ionapi_file))
    assert code == 1 and '"Backend Service"' in err
    assert open_vault(tmp_path).list() == []


def test_import_ionapi_missing_file(initialised: Cli, tmp_path: Path) -> None:
    """A path that does not exist is reported, exit 1."""
    code, _, err = initialised("creds", "import-ionapi", "m3", str(tmp_path / "nope.ionapi"))
    assert code == 1 and "cannot read the .ionapi file" in err


def test_delete_warns_when_the_config_still_uses_it(initialised: Cli, tmp_path: Path) -> None:
    """delete removes the credential and warns that systems.st names it."""
    initialised("creds", "set", "st", "--kind", "servicetitan", stdin=servicetitan_fields())
    code, out, err = initialised("creds", "delete", "st")
    assert code == 0 and "deleted credential st" in out
    assert "systems.st still names credential 'st'" in err
    assert open_vault(tmp_path).list() == []
    code, _, err = initialised("creds", "delete", "st")
    assert code == 1 and "no credential named 'st'" in err


def test_rotate_key(initialised: Cli, tmp_path: Path, config_file: Path) -> None:
    """rotate-key writes a 0600 key that alone opens the vault, and says what to do next."""
    initialised("creds", "set", "st", "--kind", "servicetitan", stdin=servicetitan_fields())
    new_key_file = tmp_path / "state" / "vault-2.key"
    code, out, _ = initialised("creds", "rotate-key", "--new-key-file", str(new_key_file))
    assert code == 0
    assert new_key_file.stat().st_mode & 0o777 == 0o600
    assert f'set key_file = "{new_key_file}"' in out
    assert "destroy the old key" in out
    assert open_vault(tmp_path, "vault-2.key").get("st").secret("app_key") == APP_KEY
    code, _, err = initialised("creds", "list")
    assert code == 1 and "the vault key does not match this vault" in err
    config_file.write_text(config_file.read_text().replace("vault.key", "vault-2.key"))
    code, out, _ = initialised("creds", "list")
    assert code == 0 and "st" in out


def test_rotate_key_refuses_an_existing_file(initialised: Cli, tmp_path: Path) -> None:
    """The new key never overwrites a file, so an old key cannot be lost that way."""
    taken = tmp_path / "taken.key"
    write_key_file(taken, generate_key())
    before = taken.read_text()
    code, _, err = initialised("creds", "rotate-key", "--new-key-file", str(taken))
    assert code == 1 and "refusing to overwrite" in err
    assert taken.read_text() == before
    assert open_vault(tmp_path).list() == []


def test_config_from_environment_and_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    config_file: Path,
) -> None:
    """Without --config, $ML_CONNECTOR_CONFIG is used, else ./state in the working directory."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, default=None)
    register(parser.add_subparsers(dest="command", required=True))
    monkeypatch.delenv("ML_CONNECTOR_VAULT_KEY", raising=False)
    monkeypatch.setenv("ML_CONNECTOR_CONFIG", str(config_file))
    args = parser.parse_args(["creds", "init", "--key-file", str(tmp_path / "state/vault.key")])
    assert args.handler(args) == 0
    assert Vault.exists(tmp_path / "state" / "connector.db")
    monkeypatch.delenv("ML_CONNECTOR_CONFIG")
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    args = parser.parse_args(["creds", "init", "--key-file", "state/vault.key"])
    assert args.handler(args) == 0
    assert Vault.exists(workdir / "state" / "connector.db")
    assert "next: set key_file" not in capsys.readouterr().out
