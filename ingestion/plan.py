"""Planning a source: list the drop, apply the completion protocol, compare with the ledger.

A file an earlier run handled is left alone only when nothing its outcome depended on has
changed: the listing (name, size, mtime), its completion marker (a new `.done` or `.sha256` is a
new delivery, whatever the data file's size and mtime), and, for a quarantined file, the
decision's basis (`decision_basis`: the configuration and schemas it was judged under). Anything
else is fetched again; its bytes then decide (same SHA-256 as a loaded file: a duplicate).
Planning downloads nothing.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

from deflect.core.canonical import LedgerEntry, LedgerSnapshot
from deflect.core.config import SourceConfig
from ingestion.transport import RemoteEntry, open_drop

log = logging.getLogger(__name__)

FINAL_STATUSES = ("loaded", "quarantined", "duplicate")


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: int
    pending: bool = False  # listed but not complete: recorded in the ledger, never fetched
    marker_mtime: int | None = None  # its completion marker as listed
    marker_size: int | None = None


@dataclass
class SourcePlan:
    source: str
    files_seen: list[RemoteFile] = field(default_factory=list)  # complete or not
    to_fetch: list[RemoteFile] = field(default_factory=list)
    pending: list[RemoteFile] = field(default_factory=list)
    unchanged: list[RemoteFile] = field(default_factory=list)
    oversize: list[RemoteFile] = field(default_factory=list)  # listed size over the limit (F07)


def decision_basis(source, adapter, max_file_bytes: int | None) -> str:
    """A short fingerprint of what a file's quarantine may depend on besides its bytes: the
    source's kind and unit (F05), the size limit (F07) and the schema files (F03, F08, S01). A
    quarantined file is checked again when it changes."""
    schemas = {v: hashlib.sha256(p.read_bytes()).hexdigest()[:16] for v, p in adapter.schemas.files}
    data = {"kind": source.kind, "unit": source.unit, "max_file_bytes": max_file_bytes,
            "schemas": schemas}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def quarantine_basis(basis: str, announced: str | None) -> str:
    """What a quarantine decision rests on: the source's basis and the digest its checksum
    sidecar announced then ('-' without one): a corrected sidecar is a reason to judge again."""
    return f"{basis}:{announced or '-'}"


def same_delivery(f: RemoteFile, e: LedgerEntry) -> bool:
    """The ledger entry is of this very delivery: same size and mtime, and the same completion
    marker where the ledger recorded one (a new .done or .sha256 is a new delivery)."""
    if e.size != f.size or e.mtime != f.mtime:
        return False
    return e.marker_mtime is None or (e.marker_mtime, e.marker_size) == (
        f.marker_mtime, f.marker_size)


def _is_unchanged(f: RemoteFile, entries: list[LedgerEntry], basis: str | None,
                  announced) -> bool:
    """True when an earlier run handled this very delivery for good. A quarantine is final only
    under the same basis, and not when the checksum sidecar still disagrees with the bytes
    (F04: the transfer is retried every run, as the spec says). `announced()` reads the
    sidecar only when that question arises (_NO_SIDECAR for sources without one)."""
    for e in entries:
        if e.status not in FINAL_STATUSES or not same_delivery(f, e):
            continue
        if e.status == "quarantined":
            if e.basis is None or e.basis.split(":")[0] != basis:
                continue  # judged under another configuration or schema: judge again
            if e.sha256 is None:
                return True  # judged on its listing alone (F07): nothing else to compare
            digest = announced()
            if digest is _NO_SIDECAR:
                return True
            if e.basis != quarantine_basis(basis, digest) or digest != e.sha256:
                continue  # the sidecar changed, or still disagrees: fetched again (F04)
        return True
    return False


_NO_SIDECAR = object()


def classify(listing: list[RemoteEntry], adapter, ledger: LedgerSnapshot, source_name: str,
             basis: str | None = None, max_file_bytes: int | None = None,
             read_small=None) -> SourcePlan:
    """The plan for one listing (pure apart from `read_small`, which reads the sidecar of a file
    quarantined before); `basis`: decision_basis of the source now."""
    plan = SourcePlan(source=source_name)
    by_name = {e.name: e for e in listing}
    for entry in sorted(listing, key=lambda e: e.name):
        if not adapter.is_data_name(entry.name):
            continue
        marker = by_name.get(adapter.completion_marker(entry.name) or "")
        f = RemoteFile(entry.name, entry.size, entry.mtime,
                       marker_mtime=marker.mtime if marker else None,
                       marker_size=marker.size if marker else None)
        plan.files_seen.append(f)
        if not adapter.is_complete(entry, by_name):
            plan.pending.append(RemoteFile(f.name, f.size, f.mtime, pending=True))
            continue
        def announced(name=f.name):
            if read_small is None or not adapter.sidecar_name(name):
                return _NO_SIDECAR
            return adapter.announced_sha256(name, read_small)

        if _is_unchanged(f, ledger.by_name.get(f.name, []), basis, announced):
            plan.unchanged.append(f)
            continue
        if max_file_bytes is not None and f.size > max_file_bytes:
            plan.oversize.append(f)  # still fetched: its quarantine (F07) needs its digest
        plan.to_fetch.append(f)
    return plan


def plan_source(source: SourceConfig, adapter, ledger: LedgerSnapshot, *,
                max_file_bytes: int | None = None) -> SourcePlan:
    """List the source's drop and decide what to fetch (raises SourceError when unreachable);
    `adapter` is the source kind's (adapters.registry.adapter_for)."""
    with open_drop(source) as drop:
        listing = drop.list()
        plan = classify(listing, adapter, ledger, source.name,
                        decision_basis(source, adapter, max_file_bytes), max_file_bytes,
                        drop.read_small)
    log.info("source %s: %d data files listed, %d to fetch, %d pending, %d unchanged",
             source.name, len(plan.files_seen), len(plan.to_fetch), len(plan.pending),
             len(plan.unchanged))
    return plan


def batch_bytes_for(files, batch_bytes: int | None, spread: int) -> int | None:
    """The byte cap of a source's batches: `batch_bytes`, or more when the files listed would
    otherwise make more than `spread` batches by size (each batch costs a connection, a worker
    and its own memory of the records it accepted)."""
    if batch_bytes is None:
        return None
    total = sum(f.size for f in files)
    return max(batch_bytes, -(-total // spread))


def split_plan(plan: SourcePlan, batch_size: int,
               batch_bytes: int | None = None) -> list[list[RemoteFile]]:
    """Batches of files to fetch, for mapping across workers (never one task per file).

    A batch holds at most `batch_size` files and, when `batch_bytes` is given, at most that many
    listed bytes unless one file alone is larger: a night of many large files of one source
    (TraCS) spreads over the workers instead of keeping one busy while the others wait. Files
    keep their name order across batches (the load's order). Pending files ride along (they cost
    no download) so the ledger records them as pending."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if batch_bytes is not None and batch_bytes < 1:
        raise ValueError("batch_bytes must be at least 1")
    batches: list[list[RemoteFile]] = []
    size = 0
    for f in plan.to_fetch:
        full = batches and (len(batches[-1]) >= batch_size or (
            batch_bytes is not None and size + f.size > batch_bytes))
        if not batches or full:
            batches.append([])
            size = 0
        batches[-1].append(f)
        size += f.size
    for f in plan.pending:
        if not batches or len(batches[-1]) >= batch_size:
            batches.append([])
        batches[-1].append(f)
    return batches
