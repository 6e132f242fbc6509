"""Small builders for ingestion tests: drops, configurations, batch readers."""
from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
from pathlib import Path

from deflect.core.canonical import LedgerEntry, LedgerSnapshot
from deflect.core.config import Config, SourceConfig

DATA = Path(__file__).parent / "data"
SECRET = b"example-secret"
TRACS_NAME = "TRACS_IL0849800_20261125T013004_0001.xml"
MEG_NAME = "CaseActivity_SIEG_20270120.xml"


def tracs_doc() -> str:
    return (DATA / "tracs_valid.xml").read_text(encoding="utf-8")


def meg_doc() -> bytes:
    return (DATA / "meg_valid.xml").read_bytes()


def make_config(tmp_path: Path, *sources: SourceConfig, max_file_bytes: int = 64 * 1024 * 1024) -> Config:
    return Config(path=tmp_path / "deflect.yaml", warehouse="duckdb://unused",
                  landing_dir=tmp_path / "landing", person_key_secret_env="DEFLECT_PERSON_KEY",
                  sources=tuple(sources), max_file_bytes=max_file_bytes,
                  work_dir=tmp_path / "work", report_dir=tmp_path / "reports")


def local_source(directory: Path, kind: str = "tracs", name: str | None = None,
                 unit: str | None = None) -> SourceConfig:
    directory.mkdir(parents=True, exist_ok=True)
    if kind == "meg" and unit is None:
        unit = "SIEG"
    return SourceConfig(name=name or f"{kind}-test", kind=kind, url=f"file://{directory}",
                        unit=unit)


def put_tracs(directory: Path, name: str, data: bytes | str, *, sidecar: bool | bytes = True,
              gz: bool = False) -> Path:
    """A TraCS data file and (by default) its correct sidecar."""
    directory.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if gz:
        raw = gzip.compress(raw)
        name = name if name.endswith(".gz") else name + ".gz"
    path = directory / name
    path.write_bytes(raw)
    if sidecar is True:
        (directory / (name + ".sha256")).write_bytes(
            f"{hashlib.sha256(raw).hexdigest()}  {name}\n".encode())
    elif isinstance(sidecar, bytes):
        (directory / (name + ".sha256")).write_bytes(sidecar)
    return path


def put_meg(directory: Path, name: str, data: bytes | str, *, done: bool = True,
            mtime: int | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path = directory / name
    path.write_bytes(raw)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    if done:
        marker = directory / (name + ".done")
        marker.write_bytes(b"")
        st = path.stat()
        os.utime(marker, (st.st_mtime, st.st_mtime))
    return path


def read_table(batch_dir: Path, table: str) -> list[dict]:
    """The rows of one CSV of a batch; a batch holds only its own kind's staging tables, so
    another kind's table has none."""
    if not (batch_dir / f"{table}.csv").exists() and table.startswith("stg_"):
        return []
    with open(batch_dir / f"{table}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_batch(batch_dir: Path) -> dict:
    return json.loads((batch_dir / "batch.json").read_text())


def ledger_from_batches(*batch_dirs: Path) -> LedgerSnapshot:
    """What the warehouse's ledger would hold after loading these batches."""
    snap = LedgerSnapshot()
    for b in batch_dirs:
        for row in read_table(b, "file_ledger"):
            def num(v):
                return int(v) if v else None

            entry = LedgerEntry(row["remote_name"], int(row["size"]), int(row["mtime"]),
                                row["sha256"] or None, row["status"],
                                num(row.get("marker_mtime")), num(row.get("marker_size")),
                                row.get("basis") or None)
            entries = snap.by_name.setdefault(entry.remote_name, [])
            entries[:] = [e for e in entries if e.sha256 != entry.sha256]
            entries.append(entry)
            if entry.sha256 and entry.status == "loaded":
                snap.digests.add(entry.sha256)
    return snap
