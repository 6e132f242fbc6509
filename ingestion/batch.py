"""The batch directory of ingestion/canonical.py, written atomically.

Everything goes into a temporary sibling directory that is renamed to the batch directory at the
end, so the warehouse sees a whole batch or none. Rows of one file are spooled apart and appended
to the batch only when the file is accepted: a file-level finding late in a file discards them.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from deflect.core.canonical import BATCH_KEYS, BOOKKEEPING
from ingestion.findings import Finding
from ingestion.landing import DIR_MODE, FILE_MODE, ensure_dir, link_or_copy, write_bytes_atomic

# Rows of one file kept in memory per table before they spill to disk (FileSpool).
SPOOL_BYTES = 4 * 1024 * 1024


def _csv_value(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


def _csv_row(row: dict, cols) -> list:
    """The CSV cells of `row` in the order of `cols`, as `_csv_value` writes them. The csv
    module writes None as an empty cell itself, so only a row holding a bool needs the
    conversion (`True in values` also matches 1, which the conversion leaves alone)."""
    values = list(map(row.get, cols))
    if True in values or False in values:
        return [_csv_value(v) for v in values]
    return values


def _open_csv(path: Path, columns):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(columns)
    return fh, w


def quarantine_id(source: str, record_id: str | None, record_sha256: str | None,
                  file_sha256: str | None = None) -> str:
    """Deterministic: the same unchanged record (or file) always gets the same id."""
    if record_sha256 is None:
        basis = f"file\n{source}\n{file_sha256}"
    else:
        basis = f"record\n{source}\n{record_id or ''}\n{record_sha256}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


class BatchWriter:
    def __init__(self, batch_dir: Path, *, run_id: str, source: str, quarantine_dir: Path,
                 tables=()):
        """`tables`: the `StagingTable`s of the source's kind; the bookkeeping tables are
        always written."""
        self.batch_dir = Path(batch_dir)
        self.run_id, self.source = run_id, source
        self.quarantine_dir = quarantine_dir
        ensure_dir(self.batch_dir.parent)
        self.tmp = self.batch_dir.parent / f".{self.batch_dir.name}.tmp-{secrets.token_hex(6)}"
        self.tmp.mkdir(mode=DIR_MODE)
        self.columns = {**{t.name: t.columns for t in tables}, **BOOKKEEPING}
        self._files = {}
        for table, cols in self.columns.items():
            self._files[table] = _open_csv(self.tmp / f"{table}.csv", cols)
        self.quarantine_ids: set[str] = set()
        self.rows_written = {t: 0 for t in self.columns}

    def write(self, table: str, row: dict) -> None:
        self._files[table][1].writerow(_csv_row(row, self.columns[table]))
        self.rows_written[table] += 1

    def finding_row(self, file_name, file_sha256, record_id, record_sha256, f: Finding) -> dict:
        return {"run_id": self.run_id, "source": self.source, "file_name": file_name,
                "file_sha256": file_sha256, "record_id": record_id, "record_sha256": record_sha256,
                "code": f.code, "level": f.level, "line": f.line, "column": f.column,
                "path": f.path, "message": f.message}

    def quarantine(self, row: dict, findings: list[dict], raw: bytes | Path | None) -> bool:
        """Add the findings of one quarantined file or record (every occurrence: they name the
        file), and its quarantine entry once (the same unchanged record arriving again in a
        cumulative file adds no second entry); keep the raw bytes."""
        for f in findings:
            self.write("finding", f)
        if row["quarantine_id"] in self.quarantine_ids:
            return False
        self.quarantine_ids.add(row["quarantine_id"])
        if isinstance(raw, Path):
            link_or_copy(raw, Path(row["raw_path"]))
        elif raw is not None:
            write_bytes_atomic(Path(row["raw_path"]), raw)
        self.write("quarantine", row)
        return True

    def spool(self, file_name: str, file_sha256: str) -> FileSpool:
        return FileSpool(self, file_name, file_sha256)

    def abort(self) -> None:
        for fh, _ in self._files.values():
            fh.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def finish(self, meta: dict) -> Path:
        for fh, _ in self._files.values():
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        data = {k: meta.get(k) for k in BATCH_KEYS}
        path = self.tmp / "batch.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        old = None
        if self.batch_dir.exists():  # a re-run of the same batch replaces it whole
            old = self.batch_dir.parent / f".{self.batch_dir.name}.old-{secrets.token_hex(6)}"
            os.replace(self.batch_dir, old)
        os.replace(self.tmp, self.batch_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.batch_dir


class _TableSpool:
    """One table's rows of one file: in memory while small (most files are), an unnamed file in
    the batch's own directory beyond SPOOL_BYTES, so memory stays bounded whatever the file's
    size, and a night of thousands of small files costs no file creation per file and table.

    The csv writer writes straight into a StringIO (tempfile.SpooledTemporaryFile would put a
    Python-level write and size check under every row)."""

    __slots__ = ("directory", "fh", "rolled", "writer")

    def __init__(self, directory: Path):
        self.directory, self.rolled = directory, False
        self.fh = io.StringIO(newline="")
        self.writer = csv.writer(self.fh, lineterminator="\n")

    def spill_if_large(self) -> None:
        if not self.rolled and self.fh.tell() > SPOOL_BYTES:
            disk = tempfile.TemporaryFile(  # noqa: SIM115 - closed with the spool
                mode="w+", encoding="utf-8", newline="", dir=self.directory)
            disk.write(self.fh.getvalue())
            self.fh.close()
            self.fh, self.rolled = disk, True
            self.writer = csv.writer(disk, lineterminator="\n")


class FileSpool:
    """What one file produces, kept apart until the file is accepted (commit) or not (discard)."""

    def __init__(self, writer: BatchWriter, file_name: str, file_sha256: str):
        self.writer, self.file_name, self.file_sha256 = writer, file_name, file_sha256
        self.dir = writer.tmp / ".spool"  # quarantined records' raw XML, made when first needed
        self._files = {}
        self._quarantine: list[tuple[dict, list[dict], Path]] = []
        self.counts: dict[str, int] = {}

    def _table(self, table: str) -> _TableSpool:
        spool = self._files.get(table)
        if spool is None:
            spool = self._files[table] = _TableSpool(self.writer.tmp)
        return spool

    def row(self, table: str, row: dict) -> None:
        spool = self._table(table)
        spool.writer.writerow(_csv_row(row, self.writer.columns[table]))
        spool.spill_if_large()
        self.counts[table] = self.counts.get(table, 0) + 1

    def quarantine_record(self, record_id, version, record_sha256, findings: list[Finding],
                          line, raw: bytes) -> None:
        w = self.writer
        self.dir.mkdir(mode=DIR_MODE, exist_ok=True)
        raw_tmp = self.dir / f"raw-{len(self._quarantine)}.xml"
        fd = os.open(raw_tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        row = {
            "quarantine_id": quarantine_id(w.source, record_id, record_sha256),
            "run_id": w.run_id, "source": w.source, "file_name": self.file_name,
            "file_sha256": self.file_sha256, "level": "record", "record_id": record_id,
            "record_version": version, "record_sha256": record_sha256,
            "codes": ",".join(sorted({f.code for f in findings})), "line": line,
            "raw_path": str(w.quarantine_dir / f"{record_sha256}.xml"),
        }
        frows = [w.finding_row(self.file_name, self.file_sha256, record_id, record_sha256, f)
                 for f in findings]
        self._quarantine.append((row, frows, raw_tmp))

    def dump(self, out: Path) -> None:
        """Write what this spool holds to `out` (a shard's hand-over to the parent process):
        one headerless CSV per table and the quarantined records; their raw XML is already
        there when `self.dir` is under `out`."""
        out.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        for table, spool in self._files.items():
            spool.fh.seek(0)
            fd = os.open(out / f"{table}.csv", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as dest:
                shutil.copyfileobj(spool.fh, dest, 1024 * 1024)
            spool.fh.close()
        self._files = {}
        state = {"counts": self.counts,
                 "quarantine": [(row, frows, str(raw)) for row, frows, raw in self._quarantine]}
        (out / "spool.json").write_text(json.dumps(state), encoding="utf-8")

    def absorb(self, out: Path) -> None:
        """Take over what a shard's spool dumped to `out` (see `dump`)."""
        state = json.loads((out / "spool.json").read_text(encoding="utf-8"))
        for table, n in state["counts"].items():
            spool = self._table(table)
            with open(out / f"{table}.csv", encoding="utf-8", newline="") as src:
                while chunk := src.read(1024 * 1024):
                    spool.fh.write(chunk)
                    spool.spill_if_large()
            self.counts[table] = self.counts.get(table, 0) + n
        self._quarantine += [(row, frows, Path(raw)) for row, frows, raw in state["quarantine"]]
        # the first occurrence in the file keeps the entry (BatchWriter.quarantine), as unsharded
        self._quarantine.sort(key=lambda q: int(q[0]["line"] or 0))

    def commit(self) -> None:
        for table, spool in self._files.items():
            spool.fh.seek(0)
            shutil.copyfileobj(spool.fh, self.writer._files[table][0], 1024 * 1024)
            spool.fh.close()
            self.writer.rows_written[table] += self.counts[table]
        for row, frows, raw_tmp in self._quarantine:
            self.writer.quarantine(row, frows, raw_tmp)
        self._cleanup()

    def discard(self) -> None:
        for spool in self._files.values():
            spool.fh.close()
        self._cleanup()

    def _cleanup(self) -> None:
        self._files = {}
        self._quarantine = []
        if self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)
