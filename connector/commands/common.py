"""What most commands share: finding the config, opening the store, printing results."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from connector.config import Config, default_config, load_config
from connector.store import Store
from connector.store import open_store as open_state


def config_path(args: argparse.Namespace) -> Path | None:
    """``--config``, else ``$ML_CONNECTOR_CONFIG``, else None (defaults under ./state)."""
    path: Path | None = getattr(args, "config", None)
    if path is None and os.environ.get("ML_CONNECTOR_CONFIG"):
        path = Path(os.environ["ML_CONNECTOR_CONFIG"])
    return path


def config_from(args: argparse.Namespace) -> Config:
    """``--config``, else ``$ML_CONNECTOR_CONFIG``, else defaults under ./state."""
    path = config_path(args)
    if path is None:
        return default_config(Path.cwd() / "state")
    return load_config(path)


async def open_store(config: Config) -> Store:
    """The state opened for reading: works while the service (which holds the lock) runs."""
    return await open_state(config.store.location, writer=False, schema=config.store.schema)


async def open_writer(config: Config) -> Store:
    """The state opened for writing: refused, naming the holder, while the service runs."""
    return await open_state(config.store.location, schema=config.store.schema)


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def print_json(value: Any) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value)).decode() + "\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain aligned table: readable in a terminal and in journald alike."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        line = "  ".join(
            c.rjust(w) if n and c.replace(".", "").isdigit() else c.ljust(w)
            for c, w in zip(row, widths, strict=True)
        )
        print(line.rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
