"""Run the `deflect` command with one fault injected, in this process:

    python -m tests.reliability.faults FAULT [deflect arguments...]

FAULT is one of KILL_POINTS (the process kills itself with SIGKILL there, as `kill -9` would, or
as a crashing host would stop it), `disk-full` (writes into the landing area fail with ENOSPC
after a few files) or `connection-lost` (PostgreSQL ends the load's connection mid-transaction). Test-only: the production code has no hooks; the fault is patched in here.
"""
from __future__ import annotations

import errno
import os
import signal
import sys


def _kill(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def _after(module, name: str, calls: int = 1):
    """Patch module.name to run as usual `calls - 1` times, then kill the process."""
    real = getattr(module, name)
    count = {"n": 0}

    def wrapped(*args, **kwargs):
        count["n"] += 1
        if count["n"] >= calls:
            _kill()
        return real(*args, **kwargs)

    setattr(module, name, wrapped)


def _download():
    from ingestion import landing

    real = landing.HashingWriter.write
    seen = {"n": 0}

    def write(self, data):
        seen["n"] += 1
        if seen["n"] == 3:  # some files down, one half-written in .part-*
            real(self, data[: len(data) // 2])
            _kill()
        return real(self, data)

    landing.HashingWriter.write = write


def _validation():
    from ingestion import document

    _after(document.DocumentProcessor, "_record", calls=15)


def _load():
    # inside the load's transaction, after staging and before the ledger and the audit
    from warehouse import load

    _after(load, "_load_ledger")


def _refresh():
    # inside the refresh's transaction, after the first marts table was emptied and refilled
    import importlib

    # the module (warehouse/__init__ exports a function of the same name)
    _after(importlib.import_module("warehouse.refresh"), "_replace", calls=3)


def _publish():
    from stewardship import report

    _after(report, "write_run_report")


def _disk_full():
    from ingestion import landing

    real = landing.HashingWriter.write
    written = {"bytes": 0}

    def write(self, data):
        written["bytes"] += len(data)
        if written["bytes"] > 64 * 1024:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.tmp))
        return real(self, data)

    landing.HashingWriter.write = write


def _work_full():
    # the work area fills while a batch writes its canonical rows
    from ingestion import batch

    real = batch.BatchWriter.write
    rows = {"n": 0}

    def write(self, table, row):
        rows["n"] += 1
        if rows["n"] > 200:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.tmp))
        return real(self, table, row)

    batch.BatchWriter.write = write
    real_spool = batch.FileSpool.row

    def spool_row(self, table, row):
        rows["n"] += 1
        if rows["n"] > 200:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.writer.tmp))
        return real_spool(self, table, row)

    batch.FileSpool.row = spool_row


def _slow_download():
    # every download crawls: a run to kill while its workers are busy
    import time

    from ingestion import landing

    real = landing.HashingWriter.write

    def write(self, data):
        time.sleep(30)
        return real(self, data)

    landing.HashingWriter.write = write


def _grows():
    # the producer appends to the TraCS export between the listing and the download
    from ingestion import transport

    real = transport.LocalDrop.fetch

    def fetch(self, name, writer_factory, limit=None):
        if name.startswith("TRACS_"):
            with open(self._path(name), "ab") as fh:
                fh.write(b"\n")
        return real(self, name, writer_factory, limit)

    transport.LocalDrop.fetch = fetch


def _connection_lost():
    # the load's own connection is ended by the server in the middle of its transaction, as
    # a database restart or a dropped network would end it
    from warehouse import load

    real = load._load_ledger

    def dropped(wh, *args, **kwargs):
        wh.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return real(wh, *args, **kwargs)

    load._load_ledger = dropped


KILL_POINTS = {"download": _download, "validation": _validation, "load": _load,
               "refresh": _refresh, "publish": _publish}
FAULTS = {**KILL_POINTS, "disk-full": _disk_full, "work-full": _work_full,
          "connection-lost": _connection_lost, "slow-download": _slow_download,
          "grows": _grows}


if __name__ == "__main__":
    FAULTS[sys.argv[1]]()
    from deflect.cli import main

    sys.exit(main(sys.argv[2:]))
