"""The shared ingestion core: pickup (SFTP / local), validation, quarantine, canonical rows.

    plan = plan_source(source, ledger, max_file_bytes=...)
    for files in split_plan(plan, batch_size):
        process_files(source, files, config=..., ledger=..., run_id=..., batch_id=...,
                      batch_dir=..., secret=...)
"""
from ingestion.plan import RemoteFile, SourcePlan, plan_source, split_plan
from ingestion.process import BatchResult, FileOutcome, IngestResult, ingest_source, process_files
from ingestion.transport import HostKeyMismatch, SourceError

__all__ = [
    "BatchResult", "FileOutcome", "HostKeyMismatch", "IngestResult", "RemoteFile", "SourceError",
    "SourcePlan", "ingest_source", "plan_source", "process_files", "split_plan",
]
