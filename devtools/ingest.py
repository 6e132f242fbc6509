"""One call from a configured source to a batch directory, for tests and experiments: plan, then
one `process_files` over everything to fetch. The pipeline (deflect.pipeline) splits the same
work into batches instead."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from adapters.registry import adapter_for
from deflect.core.canonical import LedgerSnapshot
from deflect.core.config import Config, SourceConfig
from ingestion import BatchResult, SourceError, SourcePlan, plan_source, process_files

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    plan: SourcePlan | None
    batch: BatchResult | None
    status: str
    error: str | None = None


def ingest_source(source: SourceConfig, *, config: Config, ledger: LedgerSnapshot, run_id: str,
                  batch_dir: Path, secret: bytes, batch_id: str | None = None) -> IngestResult:
    """Plan, then one process_files over everything to fetch."""
    adapter = adapter_for(source.kind)
    try:
        plan = plan_source(source, adapter, ledger, max_file_bytes=config.max_file_bytes)
    except SourceError as exc:
        log.error("source %s: %s", source.name, exc)
        return IngestResult(None, None, "failed", str(exc))
    batch = process_files(source, plan.to_fetch + plan.pending, adapter=adapter, config=config,
                          ledger=ledger, run_id=run_id,
                          batch_id=batch_id or f"{run_id}-{source.name}", batch_dir=batch_dir,
                          secret=secret)
    return IngestResult(plan, batch, batch.status, batch.error)
