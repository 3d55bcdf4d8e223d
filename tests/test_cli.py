"""The command line: exit codes, --config placement, JSON on read commands, no tracebacks."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from connector.cli import main


def test_config_may_follow_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`ml-connector runs --config X` reads X, like `ml-connector --config X runs`."""
    config = tmp_path / "connector.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "state.db"}"\n')
    assert main(["runs", "--config", str(config), "--json"]) == 0
    assert msgspec.json.decode(capsys.readouterr().out) == []
    assert (tmp_path / "state.db").exists()


def test_a_bad_config_is_one_clear_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A configuration mistake prints the file and key with exit 1, never a traceback."""
    config = tmp_path / "connector.toml"
    config.write_text("[store]\npaht = 'x'\n")
    assert main(["--config", str(config), "runs"]) == 1
    err = capsys.readouterr().err
    assert "connector.toml" in err and "paht" in err and "Traceback" not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command or a missing required option is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as unknown:
        main(["frobnicate"])
    assert unknown.value.code == 2
    with pytest.raises(SystemExit) as missing:
        main(["sync"])
    assert missing.value.code == 2


def test_unknown_flow_names_the_configured_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sync --flow nope` says which flows exist instead of failing obscurely."""
    config = tmp_path / "connector.toml"
    config.write_text(
        f'[store]\npath = "{tmp_path / "state.db"}"\n[vault]\nkey_file = "{tmp_path / "k"}"\n'
    )
    from connector.vault import Vault, generate_key, write_key_file

    key = generate_key()
    write_key_file(tmp_path / "k", key)
    Vault.init(tmp_path / "state.db", key)
    assert main(["--config", str(config), "sync", "--flow", "nope"]) == 1
    assert "no flow named 'nope'" in capsys.readouterr().err
