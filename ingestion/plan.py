"""Planning a source: list the drop, apply the completion protocol, compare with the ledger.

Planning downloads nothing but sidecars of files an earlier run quarantined (to tell a corrupt
transfer, F04, which is fetched again, from a final quarantine).
"""
from __future__ import annotations

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


@dataclass
class SourcePlan:
    source: str
    files_seen: list[RemoteFile] = field(default_factory=list)  # complete or not
    to_fetch: list[RemoteFile] = field(default_factory=list)
    pending: list[RemoteFile] = field(default_factory=list)
    unchanged: list[RemoteFile] = field(default_factory=list)
    oversize: list[RemoteFile] = field(default_factory=list)  # listed size over the limit (F07)


def _is_unchanged(f: RemoteFile, entries: list[LedgerEntry], sidecar_digest) -> bool:
    """True when an earlier run handled this very listing entry (same name, size, mtime) for
    good. A quarantined entry whose digest is not the sidecar's was a corrupt transfer (F04):
    not final, fetched again. `sidecar_digest()` reads the sidecar only when that question
    arises (None for sources without sidecars)."""
    for e in entries:
        if e.status not in FINAL_STATUSES or e.size != f.size or e.mtime != f.mtime:
            continue
        if e.status != "quarantined":
            return True
        expected = sidecar_digest()
        if expected is _NO_SIDECAR or expected == e.sha256:
            return True
    return False


_NO_SIDECAR = object()


def classify(listing: list[RemoteEntry], adapter, ledger: LedgerSnapshot, source_name: str,
             read_small=None, max_file_bytes: int | None = None) -> SourcePlan:
    """The plan for one listing (pure apart from `read_small`, used for F04 re-checks)."""
    plan = SourcePlan(source=source_name)
    by_name = {e.name: e for e in listing}
    for entry in sorted(listing, key=lambda e: e.name):
        if not adapter.is_data_name(entry.name):
            continue
        f = RemoteFile(entry.name, entry.size, entry.mtime)
        plan.files_seen.append(f)
        if not adapter.is_complete(entry, by_name):
            plan.pending.append(RemoteFile(f.name, f.size, f.mtime, pending=True))
            continue

        def sidecar_digest(name=f.name):
            side = adapter.sidecar_name(name)
            if not side or read_small is None:
                return _NO_SIDECAR
            return adapter.announced_sha256(name, read_small)

        if _is_unchanged(f, ledger.by_name.get(f.name, []), sidecar_digest):
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
        plan = classify(listing, adapter, ledger, source.name, drop.read_small, max_file_bytes)
    log.info("source %s: %d data files listed, %d to fetch, %d pending, %d unchanged",
             source.name, len(plan.files_seen), len(plan.to_fetch), len(plan.pending),
             len(plan.unchanged))
    return plan


def split_plan(plan: SourcePlan, batch_size: int) -> list[list[RemoteFile]]:
    """Batches of files to fetch, for mapping across workers (never one task per file).

    Pending files ride along (they cost no download) so the ledger records them as pending."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    files = plan.to_fetch + plan.pending
    return [files[i:i + batch_size] for i in range(0, len(files), batch_size)]
