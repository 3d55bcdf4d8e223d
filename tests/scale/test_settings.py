"""A node's settings and `run --workers`'s options: mistakes stop the node with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.config import default_config
from connector.errors import ConfigurationError
from connector.scale.settings import NodeSettings


def test_the_url_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --database-url a node takes $ML_CONNECTOR_DATABASE_URL; tenants' state goes
    beside the node's own store."""
    monkeypatch.setenv("ML_CONNECTOR_DATABASE_URL", "postgresql://c@db/connector")
    settings = NodeSettings.from_config(default_config(tmp_path), None)
    assert settings.database_url == "postgresql://c@db/connector"
    assert settings.state_dir == tmp_path


def test_a_sqlite_path_is_not_a_cluster_url(tmp_path: Path) -> None:
    """A URL that is not postgresql:// is refused, naming its scheme."""
    with pytest.raises(ConfigurationError, match="must be a postgresql:// URL, not sqlite:"):
        NodeSettings.from_config(default_config(tmp_path), "sqlite:///state.db")


def test_a_timeout_shorter_than_the_heartbeat_is_refused(tmp_path: Path) -> None:
    """A stalled-worker timeout within one heartbeat would rob live nodes: refused."""
    with pytest.raises(ConfigurationError, match="must be longer than the heartbeat"):
        NodeSettings.from_config(
            default_config(tmp_path), "postgresql://db/c", heartbeat_s=5, stalled_after_s=5
        )


def test_database_url_without_workers_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run --database-url` alone is refused: the single-VM service does not use it."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--database-url", "postgresql://db/c"]) == 1
    assert "give --workers N too" in capsys.readouterr().err


def test_zero_workers_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`run --workers 0` is a usage error (exit 2) saying the least allowed."""
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--workers", "0"])
    assert exit_info.value.code == 2
    assert "must be 1 or more" in capsys.readouterr().err
