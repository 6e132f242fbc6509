"""The reporting warehouse: migrations, batch loading, current versions, marts and views.

Embedded default DuckDB (`duckdb:///path/file.duckdb`), production PostgreSQL
(`postgresql://user@host:port/db`); the same schemas and names on both.
"""
from warehouse.backend import Warehouse, WarehouseError, connect
from warehouse.current import current_rows
from warehouse.load import LoadResult, load_batch, load_batches
from warehouse.migrate import migrate
from warehouse.refresh import RefreshResult, last_as_of, refresh
from warehouse.runs import accepted_records, ledger_snapshot, record_load_run, record_load_runs

__all__ = [
    "LoadResult", "RefreshResult", "Warehouse", "WarehouseError", "accepted_records", "connect",
    "current_rows", "last_as_of", "ledger_snapshot", "load_batch", "load_batches",
    "migrate", "record_load_run", "record_load_runs", "refresh",
]
