"""Run bookkeeping read and written by the pipeline: reporting.load_run, the ledger snapshot and
the records already accepted."""
from __future__ import annotations

import datetime as dt

from deflect.core.canonical import LedgerEntry, LedgerSnapshot, SourceTables
from warehouse.backend import Warehouse

_COUNTS = (
    "files_seen", "files_loaded", "files_pending", "files_quarantined", "files_duplicate",
    "records_loaded", "records_quarantined",
)


def _instant(value) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else str(value)


def record_load_run(
    wh: Warehouse,
    *,
    run_id: str,
    source: str,
    started_at,
    finished_at,
    as_of: dt.date,
    status: str,
    files_seen: int | None = None,
    files_loaded: int | None = None,
    files_pending: int | None = None,
    files_quarantined: int | None = None,
    files_duplicate: int | None = None,
    records_loaded: int | None = None,
    records_quarantined: int | None = None,
) -> dict:
    """Write the reporting.load_run row of (run_id, source), replacing an earlier one.

    A count left as None is the sum over the run's loaded batches of that source
    (meta.load_audit). Returns the row written."""
    if status not in ("ok", "failed"):
        raise ValueError(f"status must be 'ok' or 'failed', not {status!r}")
    given = dict(
        files_seen=files_seen, files_loaded=files_loaded, files_pending=files_pending,
        files_quarantined=files_quarantined, files_duplicate=files_duplicate,
        records_loaded=records_loaded, records_quarantined=records_quarantined,
    )
    sums = [0] * len(_COUNTS)
    if any(v is None for v in given.values()):  # a statement per source only when needed
        sums = wh.query_one(
            "SELECT " + ", ".join(f"COALESCE(sum({c}), 0)" for c in _COUNTS)
            + " FROM meta.load_audit WHERE run_id = ? AND source = ?",
            [run_id, source],
        )
    counts = {c: int(given[c]) if given[c] is not None else int(s) for c, s in zip(_COUNTS, sums)}
    return record_load_runs(wh, run_id, [dict(source=source, started_at=started_at,
                                              finished_at=finished_at, as_of=as_of,
                                              status=status, **counts)])[0]


_ROWS_PER_STATEMENT = 1000  # 14 parameters a row; PostgreSQL takes at most 65,535
_RUN_COLUMNS = ("run_id", "source", "started_at", "finished_at", "as_of", *_COUNTS, "status")


def record_load_runs(wh: Warehouse, run_id: str, sources: list[dict]) -> list[dict]:
    """Write the reporting.load_run rows of a run's sources, replacing earlier ones, in two
    statements whatever the number of sources (on PostgreSQL each statement costs a round
    trip and a plan; a night has a few dozen sources). Each of `sources` holds source,
    started_at, finished_at, as_of, status and every count. Returns the rows written."""
    rows = []
    for given in sources:
        if given["status"] not in ("ok", "failed"):
            raise ValueError(f"status must be 'ok' or 'failed', not {given['status']!r}")
        row = dict(run_id=run_id, source=given["source"],
                   started_at=_instant(given["started_at"]),
                   finished_at=_instant(given["finished_at"]), as_of=given["as_of"],
                   **{c: int(given[c]) for c in _COUNTS}, status=given["status"])
        rows.append(row)
    if not rows:
        return rows
    marks = "(" + ", ".join(
        "CAST(? AS timestamp with time zone)" if c in ("started_at", "finished_at") else "?"
        for c in _RUN_COLUMNS) + ")"
    with wh.transaction():
        for i in range(0, len(rows), _ROWS_PER_STATEMENT):
            part = rows[i:i + _ROWS_PER_STATEMENT]
            wh.execute(f"DELETE FROM meta.load_run WHERE run_id = ? AND source IN "
                       f"({', '.join('?' * len(part))})", [run_id, *(r["source"] for r in part)])
            wh.execute(f"INSERT INTO meta.load_run ({', '.join(_RUN_COLUMNS)}) VALUES "
                       + ", ".join([marks] * len(part)),
                       [r[c] for r in part for c in _RUN_COLUMNS])
    return rows


def ledger_snapshot(wh: Warehouse, source: str) -> LedgerSnapshot:
    """Every file the source's earlier runs handled, by remote name, and every content digest."""
    snap = LedgerSnapshot()
    rows = wh.query(
        "SELECT remote_name, size, mtime, sha256, status, marker_mtime, marker_size, basis "
        "FROM meta.file_ledger WHERE source = ? ORDER BY remote_name, handled_at, sha256",
        [source],
    )

    def num(v):
        return None if v is None else int(v)

    for name, size, mtime, sha256, status, marker_mtime, marker_size, basis in rows:
        entry = LedgerEntry(remote_name=name, size=num(size), mtime=num(mtime), sha256=sha256,
                            status=status, marker_mtime=num(marker_mtime),
                            marker_size=num(marker_size), basis=basis)
        snap.by_name.setdefault(name, []).append(entry)
        # only loaded bytes make a later copy a duplicate: a quarantined file's bytes were never
        # taken in, so the same bytes again (a replay, a fixed configuration) are checked again
        if sha256 and status == "loaded":
            snap.digests.add(sha256)
    return snap


# record ids per lookup statement (PostgreSQL takes at most 65,535 parameters in one statement)
_IDS_PER_QUERY = 1000


def accepted_records(wh: Warehouse, spec: SourceTables, source: str,
                     schema_version: str | None, record_ids) -> set[tuple[str, str]]:
    """(record_id, record_sha256) of the records among `record_ids` the warehouse staged from
    `source`: accepted by an earlier load. Where the kind stages the schema version of the file
    (TraCS), only those accepted under `schema_version`: the same record under another schema
    might not be valid. One statement per thousand ids over the staging key (record_id first)."""
    parent = spec.parent
    extra, params = "", []
    if "schema_version" in parent.columns:
        extra = " AND schema_version = ?"
        params = [schema_version]
    ids = list(record_ids)
    found: set[tuple[str, str]] = set()
    for i in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ids[i:i + _IDS_PER_QUERY]
        rows = wh.query(
            f"SELECT record_id, record_sha256 FROM staging.{parent.name} "
            f"WHERE record_id IN ({', '.join('?' * len(chunk))}) AND source = ?{extra}",
            [*chunk, source, *params])
        found.update((rid, sha) for rid, sha in rows if sha)
    return found
