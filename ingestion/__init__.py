"""The shared ingestion core: pickup (SFTP / local), validation, quarantine, canonical rows.

    plan = plan_source(source, adapter, ledger, max_file_bytes=...)
    for files in split_plan(plan, batch_size):
        process_files(source, files, adapter=adapter, config=..., ledger=..., run_id=...,
                      batch_id=..., batch_dir=..., secret=...)

The adapter is handed in by the caller (adapters.registry.adapter_for); ingestion never imports
one.
"""
from ingestion.plan import RemoteFile, SourcePlan, plan_source, split_plan
from ingestion.process import BatchResult, FileOutcome, process_files
from ingestion.transport import HostKeyMismatch, SourceError

__all__ = [
    "BatchResult", "FileOutcome", "HostKeyMismatch", "RemoteFile", "SourceError", "SourcePlan",
    "plan_source", "process_files", "split_plan",
]
