"""The ``ml-connector`` command line: one parser, one module per command group.

Exit codes: 0 ok, 1 the command ran and something failed (a run with failures, a FAIL in
``check``, a configuration error), 2 usage, 130 interrupted (Ctrl-C), 141 stdout closed
by its reader (``| head``). Errors ml-connector raises on purpose are printed
as one clear message, never as a traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from connector.commands import (
    bench,
    creds,
    demo,
    errors,
    history,
    mappings,
    reconcile,
    sandbox,
    service,
    sync,
    tenants,
)
from connector.errors import ConnectorError
from connector.runtime.tuning import tune_process

#: Exit status after Ctrl-C (SIGINT), as shells report a process SIGINT killed: 128 + 2.
INTERRUPTED = 130
#: Exit status when stdout's reader went away, as for a process SIGPIPE killed: 128 + 13.
BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ml-connector",
        description="Moves financial records between ServiceTitan and ERPs, exactly once.",
    )
    parser.add_argument("--version", action="version", version=f"ml-connector {_version()}")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="connector.toml to use (default: $ML_CONNECTOR_CONFIG, else ./state defaults)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    creds.register(sub)
    errors.register(sub)
    history.register(sub)
    mappings.register(sub)
    reconcile.register(sub)
    sandbox.register(sub)
    sync.register(sub)
    demo.register(sub)
    service.register(sub)
    bench.register(sub)
    tenants.register(sub)
    _accept_config_anywhere(sub)
    return parser


def _version() -> str:
    """The installed distribution's version (a source checkout not installed: "unknown")."""
    try:
        return metadata.version("ml-connector")
    except metadata.PackageNotFoundError:
        return "unknown"


def _accept_config_anywhere(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Let ``--config`` follow the command too (``ml-connector run --config X``).

    SUPPRESS as the default keeps a subcommand from overwriting a top-level ``--config``.
    """
    for parser in sub.choices.values():
        if not any("--config" in action.option_strings for action in parser._actions):
            parser.add_argument(
                "--config", type=Path, default=argparse.SUPPRESS, help="connector.toml to use"
            )
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _accept_config_anywhere(action)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    tune_process()
    try:
        code = int(args.handler(args))
        # Inside the try: a reader that went away (`| head`) shows here, not at exit.
        sys.stdout.flush()
        return code
    except ConnectorError as exc:
        print(f"ml-connector {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"ml-connector {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout closed it (`ml-connector runs | head`): not an error worth a
        # traceback. Point stdout at /dev/null so the interpreter's final flush is quiet too,
        # and exit as a process killed by SIGPIPE would.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE
