"""Processing a batch of files of one source: fetch, verify, deduplicate, validate, extract.

One connection per batch. Each file is downloaded atomically into the landing area, checked
against its sidecar (TraCS), recognised as a duplicate when its bytes were seen before, else
validated and extracted in streaming. A failure of the source itself (host key, authentication,
network after retries) ends the batch as 'failed' with what was finished so far: the batch
directory is always whole.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from deflect.core.canonical import LedgerSnapshot
from deflect.core.config import Config, SourceConfig
from ingestion import document
from ingestion.adapter import Adapter, FileContext
from ingestion.batch import BatchWriter, quarantine_id
from ingestion.document import DocumentProcessor, RecordIds
from ingestion.findings import F04, F07, Finding
from ingestion.landing import atomic_file, commit_tmp, ensure_dir, safe_name
from ingestion.plan import RemoteFile, decision_basis, quarantine_basis, same_delivery
from ingestion.shards import SHARD_MIN_BYTES, ShardFailed, default_shards, run_sharded
from ingestion.transport import SourceError, open_drop
from ingestion.xmlsafe import FileBudget

log = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    name: str
    # loaded | quarantined | duplicate | pending (changed while fetching) | vanished | unchanged
    # (the same quarantine as before: an F04 transfer retried in vain)
    status: str
    sha256: str | None = None
    landing_path: str | None = None
    codes: list[str] = field(default_factory=list)
    records_loaded: int = 0
    records_quarantined: int = 0
    records_already_accepted: int = 0  # accepted before, neither validated nor extracted again
    duplicate_of: str | None = None
    announced: str | None = None  # the SHA-256 its checksum sidecar gave, if any


@dataclass
class BatchResult:
    batch_id: str
    run_id: str
    source: str
    status: str  # ok | failed
    error: str | None
    batch_dir: Path
    files: list[FileOutcome] = field(default_factory=list)
    counts: dict = field(default_factory=dict)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _suffix(name: str) -> str:
    return ".xml.gz" if name.endswith(".gz") else ".xml"


class _Batch:
    def __init__(self, source: SourceConfig, adapter: Adapter, config: Config,
                 ledger: LedgerSnapshot, run_id: str, writer: BatchWriter, secret: bytes,
                 accepted_before=None):
        self.source, self.adapter, self.config = source, adapter, config
        self.ledger, self.run_id, self.writer, self.secret = ledger, run_id, writer, secret
        # accepted_before(schema_version, record_ids) -> {(record_id, record_sha256)} the
        # warehouse holds for this source; and what this batch's committed files accepted, by
        # schema version -> record id -> SHA-256s (files come in name order, the order in which
        # the load keeps the first copy of a version, so skipping later copies changes nothing)
        self.accepted_before = accepted_before
        self.accepted: dict[str | None, dict[str, set[str]]] = {}
        self.day_dir = config.landing_dir / safe_name(source.name) / dt.date.today().strftime("%Y%m%d")
        self.quarantine_dir = config.landing_dir / "quarantine"
        self.seen: dict[str, str] = {}  # digest -> remote name, this batch
        self.outcomes: list[FileOutcome] = []
        self.basis = decision_basis(source, adapter, config.max_file_bytes)

    # -- one file ------------------------------------------------------------------------------
    def handle(self, drop, f: RemoteFile) -> FileOutcome:
        if f.size > self.config.max_file_bytes:
            # decided from the listing: never downloaded, so a huge file cannot fill the landing
            # area; a file that grew past the limit after the listing stops at its listed size
            return self._quarantine_listed(f, [F07.finding(
                f"listed at {f.size} bytes, over the size limit of "
                f"{self.config.max_file_bytes}; not downloaded")])
        try:
            # at most one byte more than listed: a file that grew (or became a link to an endless
            # device) is "changed while fetching", never a full disk
            # pass 1 reads the bytes as they arrive (not a gzip file's: it would inflate them
            # twice); a retried download starts it again from the first byte
            early = None if f.name.endswith(".gz") else _Pass1WhileFetching(
                self.adapter, self.config, keep=f.size <= document.KEEP_TREE_MAX_BYTES)
            w = drop.fetch(f.name, lambda: atomic_file(self.day_dir, early and early.restart()),
                           limit=f.size)
        except FileNotFoundError:
            # deleted since the listing (retention): nothing to record, nothing was fetched
            log.warning("source %s: %s vanished since the listing", self.source.name, f.name)
            return FileOutcome(f.name, "vanished")
        if w.size != f.size:
            w.tmp.unlink(missing_ok=True)
            log.warning("source %s: %s changed while fetching; left for a later run",
                        self.source.name, f.name)
            return self._record(FileOutcome(f.name, "pending"), f)
        sha = w.sha.hexdigest()
        announced = (self.adapter.announced_sha256(f.name, drop.read_small)
                     if self.adapter.sidecar_name(f.name) else None)
        if self._quarantined_before(f, sha, announced):
            # the same bytes of the same delivery, judged on the same basis: the same quarantine
            # again (an F04 transfer retried in vain); counted in no column, nothing recorded
            w.tmp.unlink(missing_ok=True)
            return FileOutcome(f.name, "unchanged", sha)
        landed = commit_tmp(w.tmp, self.day_dir / f"{safe_name(f.name)}.{sha[:12]}")
        out = FileOutcome(f.name, "loaded", sha, str(landed))

        out.announced = announced
        if self.adapter.sidecar_name(f.name) and announced != sha:
            detail = "malformed or missing sidecar" if announced is None else \
                "SHA-256 of the downloaded bytes differs from the sidecar"
            return self._quarantine_file(out, f, [F04.finding(detail)], landed)

        first = self.seen.get(sha) or self._ledger_name(sha)
        if first is not None:
            out.status, out.duplicate_of = "duplicate", first
            return self._record(out, f)
        self.seen[sha] = f.name

        pass1 = early.result() if early else None
        result, spool = self._check(landed, f, sha, pass1, early.take_events() if early else None)
        if result.file_findings:
            spool.discard()
            return self._quarantine_file(out, f, result.file_findings, landed)
        spool.commit()
        out.records_loaded, out.records_quarantined = result.records_loaded, result.records_quarantined
        out.records_already_accepted = result.records_already_accepted
        mine = self.accepted.setdefault(result.schema_version, {})
        for rid, rsha in result.accepted:
            mine.setdefault(rid, set()).add(rsha)
        return self._record(out, f)

    def known(self, schema_version: str | None, record_ids: list[str]) -> set[tuple[str, str]]:
        """(record_id, record_sha256) accepted before among `record_ids` under the same schema
        version: by this batch's committed files, or staged by earlier loads."""
        mine = self.accepted.get(schema_version, {})
        out = {(rid, sha) for rid in record_ids for sha in mine.get(rid, ())}
        if self.accepted_before is not None:
            out |= set(self.accepted_before(schema_version, record_ids))
        return out

    def _check(self, landed: Path, f: RemoteFile, sha: str, pass1=None, replay=None):
        """Both passes over a landed file into a fresh spool: (result, spool). A large file on
        several cores (ingestion/shards.py), again in one process if a shard fails. `pass1`:
        its (counts, root) when pass 1 already ran over the download; `replay`: the events
        pass 2 reads, when pass 1 kept the tree (a small file: parsed once in all)."""
        budget = file_budget(self.config)

        def processor(pass1=None, replay=None):
            ctx = FileContext(self.source, f.name, sha, {}, self.secret)
            spool = self.writer.spool(f.name, sha)
            return DocumentProcessor(landed, self.adapter, ctx, spool, self.config.max_file_bytes,
                                     budget, known=self.known, pass1=pass1, replay=replay)

        shards = self.config.file_shards or default_shards()
        if shards > 1 and f.size >= SHARD_MIN_BYTES:
            # (a kept tree is replayed by every shard, each from its own copy after the fork)
            proc = processor(pass1, replay)
            try:
                return run_sharded(proc, shards), proc.sink
            except ShardFailed as exc:
                log.warning("source %s: %s; checking it again in one process",
                            self.source.name, exc)
                proc.sink.discard()
                pass1 = replay = None  # everything again from the landed file
        proc = processor(pass1, replay)
        return proc.run(), proc.sink

    def _quarantined_before(self, f: RemoteFile, sha: str, announced: str | None) -> bool:
        if self.adapter.sidecar_name(f.name) is None:
            return False
        basis = quarantine_basis(self.basis, announced)
        return any(e.status == "quarantined" and e.sha256 == sha and e.basis == basis
                   and same_delivery(f, e) for e in self.ledger.by_name.get(f.name, []))

    def _ledger_name(self, sha: str) -> str | None:
        if sha not in self.ledger.digests:
            return None
        for name, entries in self.ledger.by_name.items():
            if any(e.sha256 == sha for e in entries):
                return name
        return ""  # known digest, name not in the snapshot

    def _quarantine_file(self, out: FileOutcome, f: RemoteFile, findings: list[Finding],
                         landed: Path) -> FileOutcome:
        out.status, out.codes = "quarantined", [x.code for x in findings]
        w = self.writer
        row = {
            "quarantine_id": quarantine_id(self.source.name, None, None, out.sha256),
            "run_id": self.run_id, "source": self.source.name, "file_name": f.name,
            "file_sha256": out.sha256, "level": "file", "record_id": None,
            "record_version": None, "record_sha256": None,
            "codes": ",".join(sorted(set(out.codes))), "line": findings[0].line,
            "raw_path": str(self.quarantine_dir / f"{out.sha256}{_suffix(f.name)}"),
        }
        frows = [w.finding_row(f.name, out.sha256, None, None, x) for x in findings]
        w.quarantine(row, frows, landed)
        return self._record(out, f)

    def _quarantine_listed(self, f: RemoteFile, findings: list[Finding]) -> FileOutcome:
        """Quarantine a file on what its listing says, without its bytes (no digest, no raw
        copy): its identity is the listing's (name, size, mtime)."""
        out = FileOutcome(f.name, "quarantined", codes=[x.code for x in findings])
        w = self.writer
        row = {
            "quarantine_id": quarantine_id(self.source.name, None, None,
                                           f"listed:{f.name}:{f.size}:{f.mtime}"),
            "run_id": self.run_id, "source": self.source.name, "file_name": f.name,
            "file_sha256": None, "level": "file", "record_id": None, "record_version": None,
            "record_sha256": None, "codes": ",".join(sorted(set(out.codes))),
            "line": None, "raw_path": None,
        }
        w.quarantine(row, [w.finding_row(f.name, None, None, None, x) for x in findings], None)
        return self._record(out, f)

    def _record(self, out: FileOutcome, f: RemoteFile) -> FileOutcome:
        self.writer.write("file_ledger", {
            "source": self.source.name, "remote_name": f.name, "size": f.size, "mtime": f.mtime,
            "sha256": out.sha256, "status": out.status, "run_id": self.run_id,
            "landing_path": out.landing_path, "duplicate_of": out.duplicate_of,
            "records_loaded": out.records_loaded, "records_quarantined": out.records_quarantined,
            "records_already_accepted": out.records_already_accepted,
            "handled_at": _now(), "marker_mtime": f.marker_mtime, "marker_size": f.marker_size,
            "basis": (quarantine_basis(self.basis, out.announced)
                      if out.status == "quarantined" else None),
        })
        self.outcomes.append(out)
        return out


def file_budget(config: Config) -> FileBudget:
    """What checking one file may cost, from now (configuration: file_timeout_s, file_memory_mb)."""
    return FileBudget(config.file_timeout_s, config.file_memory_mb * 2**20)


class _Pass1WhileFetching:
    """Pass 1 (document.RecordIds) over a download's bytes as they arrive: its parse overlaps
    the transfer, and the landed file is parsed once fewer times (docs/performance.md).

    Only a head start: whatever stops it (a finding, its budget, any error) drops it, and the
    landed file's own pass 1 then runs as before and reports what it finds, within the file's
    budget. Its own budget has the file's limits from the start of the download."""

    def __init__(self, adapter: Adapter, config: Config, keep: bool = False):
        self.adapter, self.config, self.keep = adapter, config, keep
        self.ids: RecordIds | None = None
        self.events: list | None = None

    def restart(self):
        """A fresh pass 1 for a fresh download attempt; returns what to feed the bytes to.
        `keep`: it keeps the tree and pass 2's events (document.KEEP_TREE_MAX_BYTES)."""
        self.ids = RecordIds(self.adapter, file_budget(self.config), keep=self.keep)
        self.events = None
        return self.feed

    def feed(self, data: bytes) -> None:
        if self.ids is None:
            return
        try:
            self.ids.feed(data)
        except Exception:  # noqa: BLE001 - a head start only: the landed file's pass 1 reports
            self.ids = None

    def result(self):
        """(counts, root) of the whole download, or None when pass 1 must read the file."""
        ids, self.ids = self.ids, None
        if ids is None:
            return None
        try:
            out = ids.close()
        except Exception:  # noqa: BLE001 - as in feed
            return None
        self.events = ids.events
        return out

    def take_events(self) -> list | None:
        """After `result`: the events pass 2 replays over the kept tree, or None (not kept, or
        pass 1 dropped); handed over once."""
        events, self.events = self.events, None
        return events


def process_files(source: SourceConfig, files: list[RemoteFile], *, adapter: Adapter,
                  config: Config, ledger: LedgerSnapshot, run_id: str, batch_id: str,
                  batch_dir: Path, secret: bytes, accepted_before=None) -> BatchResult:
    """Fetch, verify, validate and extract a batch of one source's files into `batch_dir`;
    `adapter` is the source kind's. `accepted_before(schema_version, record_ids)`: the
    (record_id, record_sha256) pairs among `record_ids` already accepted from this source (the
    warehouse's staging); such a record arriving again is counted, not checked again."""
    ensure_dir(config.landing_dir)
    started = _now()
    writer = BatchWriter(batch_dir, run_id=run_id, source=source.name,
                         quarantine_dir=config.landing_dir / "quarantine",
                         tables=adapter.tables.tables)
    batch = _Batch(source, adapter, config, ledger, run_id, writer, secret, accepted_before)
    status, error = "ok", None
    total_bytes = 0
    for f in files:
        if f.pending:
            batch._record(FileOutcome(f.name, "pending"), f)
    fetch = [f for f in files if not f.pending]
    try:
        if fetch:
            with open_drop(source) as drop:
                for i, f in enumerate(fetch, 1):
                    out = batch.handle(drop, f)
                    total_bytes += f.size
                    log.info("source %s: %d/%d files, %d bytes (%s: %s)", source.name, i,
                             len(fetch), total_bytes, f.name, out.status)
    except SourceError as exc:
        status, error = "failed", str(exc)
        log.error("source %s: %s", source.name, error)
    except BaseException:
        writer.abort()
        raise
    outs = batch.outcomes
    counts = {
        "files_seen": len(files),
        "files_loaded": sum(o.status == "loaded" for o in outs),
        "files_pending": sum(o.status == "pending" for o in outs),
        "files_quarantined": sum(o.status == "quarantined" for o in outs),
        "files_duplicate": sum(o.status == "duplicate" for o in outs),
        "records_extracted": sum(o.records_loaded for o in outs),
        "records_quarantined": sum(o.records_quarantined for o in outs),
        "records_already_accepted": sum(o.records_already_accepted for o in outs),
    }
    writer.finish({"batch_id": batch_id, "run_id": run_id, "source": source.name,
                   "kind": source.kind, "started_at": started, "finished_at": _now(),
                   "status": status, "error": error, **counts})
    return BatchResult(batch_id, run_id, source.name, status, error, Path(batch_dir), outs, counts)
