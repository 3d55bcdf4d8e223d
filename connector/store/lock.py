"""The process lock: one ml-connector process writes a state database at a time.

The ledger's exactly-once protocol assumes a single writer (DESIGN.md, step 3): two
processes claiming the same record would each look it up, find nothing and both write it.
So every process that writes the state takes an exclusive ``flock`` on ``<db>.lock`` beside
the database, and keeps it until it closes the store. The kernel drops the lock when the
process dies, however it dies, so a crash never leaves a stale lock behind. The file holds
the holder's pid and command, for the message the next process shows.

Readers (``runs``, ``audit``, ``review list``, ``mappings list``…) take no lock: SQLite in
WAL mode lets them read while the service writes.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

from connector.errors import ConfigurationError


class StateLockedError(ConfigurationError):
    """Another ml-connector process holds the state database; this one must not write it."""


def lock_path(db_path: Path) -> Path:
    """``connector.db`` → ``connector.db.lock``, in the same directory."""
    return db_path.with_name(db_path.name + ".lock")


class StateLock:
    """An exclusive lock on one state database, held until :meth:`release`."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, db_path: Path) -> StateLock:
        """Take the lock without waiting; raises :class:`StateLockedError` naming the holder.

        Blocking file calls: run it off the event loop (the store does, on its thread).
        """
        path = lock_path(db_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise StateLockedError(busy_message(db_path, holder)) from None
        except BaseException:
            os.close(fd)
            raise
        # Written only once the lock is ours, so the file always names the current holder.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{' '.join(sys.argv)[:200]}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        """Drop the lock (closing the descriptor releases it); the file stays for the next."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def _read_holder(fd: int) -> str:
    text = os.pread(fd, 512, 0).decode("utf-8", "replace")
    pid = text.split("\n", 1)[0].strip()
    return pid if pid.isdigit() else "unknown"


def busy_message(db_path: Path | str, pid: str) -> str:
    return (
        f"another ml-connector (pid {pid}) holds the state {db_path}; stop it, or let the "
        "running service do this (`ml-connector run` syncs every enabled flow on its "
        "schedule and takes webhook events as they come; its console on the admin port "
        "(/console/) retries, dismisses, resolves and edits mappings while it runs; or stop "
        "the service, e.g. `systemctl stop ml-connector`, run the command, then start it "
        "again). Read-only commands (runs, audit, review list, mappings list, errors list) "
        "work while it runs."
    )
