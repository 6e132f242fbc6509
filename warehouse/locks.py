"""One pipeline run at a time per warehouse.

Two `deflect run` at once would each plan against the same ledger and then load the same files:
nothing doubles (the load is idempotent) but the ledger calls files duplicates of themselves and
`load_run` over-counts. A run therefore holds the warehouse's run lock from start to summary:

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`), held on a connection of its
  own, so it works across hosts and is released by the server if the process dies;
- DuckDB: an exclusive `flock` on `<warehouse file>.run-lock` beside the file (the embedded
  warehouse is one machine's), released by the kernel if the process dies.

The second run is refused at once with `RunLocked`, naming who holds the lock since when.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
from pathlib import Path

from warehouse.backend import WarehouseError, connect, dialect_of

# pg_advisory_lock key: the first 8 bytes of sha256("deflect.run"), as a signed bigint
RUN_LOCK_KEY = int.from_bytes(bytes.fromhex("6a0b8e8fd5d0e9c1"), "big", signed=True)


class RunLocked(WarehouseError):
    """Another run holds the warehouse's run lock."""


def _holder() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid(),
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


@contextlib.contextmanager
def run_lock(url: str, run_id: str | None = None):
    """Hold the run lock of the warehouse at `url` for the duration of the block."""
    holder = {**_holder(), "run_id": run_id}
    if dialect_of(url) == "duckdb":
        path = Path(url[len("duckdb://"):] + ".run-lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunLocked(f"another run holds the warehouse {path.with_suffix('')} "
                                f"({_read_holder(fd)}); try again when it has finished") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode(), 0)
            yield holder
        finally:
            os.close(fd)  # releases the flock
        return
    wh = connect(url)
    try:
        got = wh.scalar("SELECT pg_try_advisory_lock(?)", [RUN_LOCK_KEY])
        if not got:
            who = wh.query(
                "SELECT a.client_addr, a.pid, a.backend_start, a.application_name "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted "
                "AND ((l.classid::bigint << 32) | l.objid::bigint) = ?", [RUN_LOCK_KEY])
            desc = (f"server pid {who[0][1]} connected since {who[0][2]}" if who
                    else "another session")
            raise RunLocked(f"another run holds the warehouse's run lock ({desc}); try again "
                            f"when it has finished")
        try:
            yield holder
        finally:
            wh.scalar("SELECT pg_advisory_unlock(?)", [RUN_LOCK_KEY])
    finally:
        wh.close()


def _read_holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return "holder unknown"
    if not data:
        return "holder unknown"
    return (f"run {data.get('run_id') or '?'}, pid {data.get('pid')} on {data.get('host')} "
            f"since {data.get('since')}")
