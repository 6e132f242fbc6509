"""Loading one batch directory (ingestion/canonical.py) into the warehouse, all or nothing.

Every CSV is bulk-loaded (COPY / read_csv) into a temporary all-text table, then set-based
statements move it on:
- staging history: a record version is inserted once, keyed by (record_id, form_version) for TraCS
  and (record_id, last_modified) for MEG; an equal version already present changes nothing, even
  when its bytes differ (the first valid copy wins). Child rows go in with their parent copy.
- file ledger: upserted by (source, remote_name, sha256).
- quarantine: one entry per identity, (source, record_id, record_sha256) for a record, (source,
  file_sha256) for a file; open until a later version of the record loads.
- findings: once per file and once per record version.
- meta.load_audit: one row per batch; a batch already there is skipped whole.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.canonical import BATCH_KEYS, BOOKKEEPING, TABLES
from warehouse.backend import Warehouse, WarehouseError, csv_header, quote_ident

# staging parent table, its version column and SQL type, and its children, per source kind
KINDS = {
    "tracs": (
        "stg_tracs__field_report", "form_version", "integer",
        ("stg_tracs__individual", "stg_tracs__deflection", "stg_tracs__evidence_item"),
    ),
    "meg": (
        "stg_meg__case", "last_modified", "timestamp",
        ("stg_meg__subject", "stg_meg__deflection", "stg_meg__evaluation"),
    ),
}
_LOAD_PREFIX = "load_"


@dataclass
class LoadResult:
    batch_id: str
    run_id: str | None
    source: str | None
    kind: str | None
    skipped: bool  # True when this batch had been loaded before: nothing changed
    load_seq: int | None = None
    records_loaded: int = 0  # records that became current with this batch
    rows_staged: dict[str, int] = field(default_factory=dict)
    ledger_rows: int = 0
    findings_added: int = 0
    quarantine_added: int = 0
    quarantine_resolved: int = 0


def read_batch_meta(batch_dir: Path) -> dict:
    path = batch_dir / "batch.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WarehouseError(f"{path}: missing") from None
    if not isinstance(meta, dict) or not meta.get("batch_id"):
        raise WarehouseError(f"{path}: no batch_id")
    unknown = sorted(set(meta) - set(BATCH_KEYS))
    if unknown:
        raise WarehouseError(f"{path}: unknown key {unknown[0]!r}")
    return meta


def _sql_type(data_type: str) -> str:
    """A column's type, as written in a portable CAST, from either information_schema."""
    t = data_type.lower()
    if t in ("varchar", "text", "character varying"):
        return "text"
    if t.startswith("timestamp with time zone"):
        return "timestamp with time zone"
    if t.startswith("timestamp"):
        return "timestamp"
    if t.startswith(("decimal", "numeric")):
        return "numeric"
    return t  # integer, bigint, date, boolean


def column_types(wh: Warehouse, schema: str, table: str) -> dict[str, str]:
    """A table's column types, asked of information_schema once per connection (on PostgreSQL
    that query costs more than most of a small batch's statements)."""
    key = (schema, table)
    if key not in wh.column_types:
        rows = wh.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, table],
        )
        wh.column_types[key] = {name: _sql_type(dtype) for name, dtype in rows}
    return wh.column_types[key]


def temp_table(wh: Warehouse, name: str, columns: str, created: list[str]) -> str:
    """A temporary table kept by this connection from one load to the next, empty at the start
    of every load; its name. `columns` are its column definitions.

    Created once (a CREATE and its DROP cost PostgreSQL more than most of a small batch's
    statements): PostgreSQL empties it at every commit (ON COMMIT DELETE ROWS), DuckDB, which
    has no such option, by `_empty_temps` at the end of the load. Names created in a load are
    appended to `created`, and kept by `wh` only once that load has committed (a rolled-back
    CREATE is gone)."""
    if name not in wh.temp_tables and name not in created:
        suffix = " ON COMMIT DELETE ROWS" if wh.dialect == "postgresql" else ""
        # IF NOT EXISTS: DuckDB may keep a table whose creating load rolled back
        wh.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns}){suffix}")
        created.append(name)
    return name


def _empty_temps(wh: Warehouse, names) -> None:
    if wh.dialect != "postgresql":
        for name in names:
            wh.execute(f"DELETE FROM {name}")


def _stage_csv(wh: Warehouse, batch_dir: Path, name: str, columns: tuple[str, ...],
               created: list[str]) -> str:
    """Bulk-load `<name>.csv` (it has rows) into an all-text temp table; the table's name."""
    tmp = temp_table(wh, _LOAD_PREFIX + name,
                     ", ".join(f"{quote_ident(c)} text" for c in columns), created)
    path = batch_dir / f"{name}.csv"
    header = csv_header(path)
    if set(header) != set(columns) or len(header) != len(columns):
        extra = sorted(set(header) - set(columns))
        missing = sorted(set(columns) - set(header))
        raise WarehouseError(
            f"{path}: header does not match the canonical columns "
            f"(unexpected {extra}, missing {missing})"
        )
    wh.copy_csv(tmp, path, header)
    return tmp


def _typed(columns, types: dict[str, str], alias: str = "l") -> str:
    return ", ".join(
        f"CAST({alias}.{quote_ident(c)} AS {types[c]}) AS {quote_ident(c)}" for c in columns
    )


def _load_staging(wh: Warehouse, kind: str, batch_id: str, load_seq: int, result: LoadResult,
                  staged: set[str], created: list[str]):
    """`staged`: the canonical tables this batch holds rows of."""
    parent, vcol, vtype, children = KINDS[kind]
    ptypes = column_types(wh, "staging", parent)
    pcols = TABLES[parent]
    cand = temp_table(
        wh, f"cand_{parent}",
        ", ".join(f"{quote_ident(c)} {ptypes[c]}" for c in pcols) + f", prev_version {vtype}",
        created)
    # Candidates: the first copy (by file name, then line) of each version not yet staged.
    wh.execute(
        f"""INSERT INTO {cand}
        SELECT {_typed(pcols, ptypes, 'r')},
               (SELECT max(s.{vcol}) FROM staging.{parent} s WHERE s.record_id = r.record_id)
                   AS prev_version
        FROM (SELECT l.*, ROW_NUMBER() OVER (
                  PARTITION BY l.record_id, CAST(l.{vcol} AS {vtype})
                  ORDER BY l.file_name, CAST(l.line AS integer), l.file_sha256) AS rn
              FROM {_LOAD_PREFIX}{parent} l) r
        WHERE r.rn = 1 AND NOT EXISTS (
            SELECT 1 FROM staging.{parent} s
            WHERE s.record_id = r.record_id AND s.{vcol} = CAST(r.{vcol} AS {vtype}))""",
    )
    result.records_loaded = int(
        wh.scalar(
            f"""SELECT count(*) FROM (
                SELECT record_id, max({vcol}) AS newest, max(prev_version) AS prev
                FROM {cand} GROUP BY record_id) c
            WHERE c.prev IS NULL OR c.newest > c.prev"""
        )
    )
    cols = ", ".join(quote_ident(c) for c in pcols)
    result.rows_staged[parent] = wh.execute(
        f"INSERT INTO staging.{parent} ({cols}, batch_id, load_seq) "
        f"SELECT {cols}, ?, ? FROM {cand}",
        [batch_id, load_seq],
    )
    for child in children:
        if child not in staged:
            result.rows_staged[child] = 0  # no rows of this table in the batch
            continue
        ctypes = column_types(wh, "staging", child)
        ccols = TABLES[child]
        names = ", ".join(quote_ident(c) for c in ccols)
        result.rows_staged[child] = wh.execute(
            f"""INSERT INTO staging.{child} ({names}, batch_id, load_seq)
            SELECT {_typed(ccols, ctypes)}, ?, ? FROM {_LOAD_PREFIX}{child} l
            WHERE EXISTS (SELECT 1 FROM {cand} p
                WHERE p.record_id = l.record_id AND p.file_sha256 = l.file_sha256
                  AND p.{vcol} = CAST(l.{vcol} AS {vtype}))""",
            [batch_id, load_seq],
        )


def _load_ledger(wh: Warehouse, batch_id: str, created: list[str]) -> int:
    cols = BOOKKEEPING["file_ledger"]
    types = column_types(wh, "meta", "file_ledger")
    cand = temp_table(wh, "cand_file_ledger",
                      ", ".join(f"{quote_ident(c)} {types[c]}" for c in cols), created)
    n = wh.execute(
        f"""INSERT INTO {cand}
        SELECT {_typed(cols, types, 'r')} FROM (
            SELECT l.*, ROW_NUMBER() OVER (
                PARTITION BY l.source, l.remote_name, COALESCE(l.sha256, '')
                ORDER BY l.handled_at DESC) AS rn
            FROM {_LOAD_PREFIX}file_ledger l) r
        WHERE r.rn = 1""",
    )
    key = (
        "t.source = c.source AND t.remote_name = c.remote_name "
        "AND COALESCE(t.sha256, '') = COALESCE(c.sha256, '')"
    )
    sets = ", ".join(
        f"{quote_ident(c)} = c.{quote_ident(c)}"
        for c in cols if c not in ("source", "remote_name", "sha256")
    )
    wh.execute(
        f"UPDATE meta.file_ledger AS t SET {sets}, batch_id = ? FROM {cand} AS c WHERE {key}",
        [batch_id],
    )
    names = ", ".join(quote_ident(c) for c in cols)
    wh.execute(
        f"""INSERT INTO meta.file_ledger ({names}, batch_id)
        SELECT {names}, ? FROM {cand} c
        WHERE NOT EXISTS (SELECT 1 FROM meta.file_ledger t WHERE {key})""",
        [batch_id],
    )
    # A file once listed as pending and now downloaded: its placeholder row has done its job.
    wh.execute(
        f"""DELETE FROM meta.file_ledger WHERE sha256 IS NULL AND status = 'pending'
        AND EXISTS (SELECT 1 FROM {cand} c WHERE c.source = meta.file_ledger.source
            AND c.remote_name = meta.file_ledger.remote_name AND c.sha256 IS NOT NULL)"""
    )
    return n


def _load_quarantine(wh: Warehouse, kind: str | None, batch_id: str, load_seq: int) -> int:
    cols = BOOKKEEPING["quarantine"]
    types = column_types(wh, "meta", "quarantine")
    names = ", ".join(quote_ident(c) for c in cols)
    # identity of an entry: a record version's bytes, or a file's bytes
    ident = (
        "CASE WHEN {a}.level = 'file' THEN 'F:' || COALESCE({a}.file_sha256, '') "
        "ELSE 'R:' || COALESCE({a}.record_id, '') || ':' || COALESCE({a}.record_sha256, '') END"
    )
    return wh.execute(
        f"""INSERT INTO meta.quarantine ({names}, kind, batch_id, load_seq, status)
        SELECT {_typed(cols, types, 'r')}, ?, ?, ?, 'open' FROM (
            SELECT l.*, ROW_NUMBER() OVER (
                PARTITION BY l.source, {ident.format(a='l')}
                ORDER BY l.file_name, CAST(l.line AS integer), l.quarantine_id) AS rn
            FROM {_LOAD_PREFIX}quarantine l) r
        WHERE r.rn = 1
          AND NOT EXISTS (SELECT 1 FROM meta.quarantine q WHERE q.quarantine_id = r.quarantine_id)
          AND NOT EXISTS (SELECT 1 FROM meta.quarantine q WHERE q.source = r.source
                          AND {ident.format(a='q')} = {ident.format(a='r')})""",
        [kind, batch_id, load_seq],
    )


def _load_findings(wh: Warehouse, batch_id: str) -> int:
    cols = BOOKKEEPING["finding"]
    types = column_types(wh, "meta", "finding")
    names = ", ".join(quote_ident(c) for c in cols)
    same = " AND ".join(
        f"f.{quote_ident(c)} IS NOT DISTINCT FROM r.{quote_ident(c)}"
        for c in ("source", "code", "file_sha256", "record_id", "record_sha256", "line", "column",
                  "path", "message")
    )
    # A record version's findings are recorded from the first file that carried it; the same
    # unchanged record in a later (cumulative) file adds nothing. Every finding names the file
    # it came from (file_sha256 is never NULL), so the plain equalities on source and file come
    # first: they use the finding_file index where IS NOT DISTINCT FROM cannot.
    return wh.execute(
        f"""INSERT INTO meta.finding ({names}, batch_id)
        SELECT {names}, ? FROM (
            SELECT {_typed(cols, types, 'l')},
                   DENSE_RANK() OVER (
                       PARTITION BY l.source, l.record_id, l.record_sha256
                       ORDER BY l.file_name, l.file_sha256) AS file_rank
            FROM {_LOAD_PREFIX}finding l) r
        WHERE NOT EXISTS (SELECT 1 FROM meta.finding f
                          WHERE f.source = r.source AND f.file_sha256 = r.file_sha256 AND {same})
          AND NOT (r.level = 'record' AND (r.file_rank > 1 OR EXISTS (
                SELECT 1 FROM meta.finding f WHERE f.level = 'record' AND f.source = r.source
                  AND f.record_id = r.record_id AND f.record_sha256 = r.record_sha256
                  AND f.file_sha256 IS DISTINCT FROM r.file_sha256)))""",
        [batch_id],
    )


def resolve_quarantine(wh: Warehouse, run_id: str | None, load_seq: int,
                       kinds=tuple(KINDS)) -> int:
    """Mark open record entries resolved once a later version of the same record is staged.

    A version that could not be read (S01 on the version itself) is resolved by any version that
    loads from another file at or after the quarantine. `kinds`: the source kinds whose staging or
    quarantine changed (the others cannot have anything new to resolve)."""
    total = 0
    for kind in kinds:
        parent, vcol, _vtype, _children = KINDS[kind]
        try_cast = "meta.try_int" if vcol == "form_version" else "meta.try_timestamp"
        total += wh.execute(
            f"""UPDATE meta.quarantine SET status = 'resolved', resolved_run_id = ?,
                resolved_load_seq = ?
            WHERE status = 'open' AND level = 'record' AND kind = ?
              AND EXISTS (SELECT 1 FROM staging.{parent} s
                WHERE s.record_id = meta.quarantine.record_id AND (
                    s.{vcol} > {try_cast}(meta.quarantine.record_version)
                    OR ({try_cast}(meta.quarantine.record_version) IS NULL
                        AND s.load_seq >= meta.quarantine.load_seq
                        AND s.file_sha256 IS DISTINCT FROM meta.quarantine.file_sha256)))""",
            [run_id, load_seq, kind],
        )
    return total


def _audit(wh: Warehouse, meta: dict, load_seq: int, result: LoadResult) -> None:
    cols = [
        "batch_id", "load_seq", "run_id", "source", "kind", "started_at", "finished_at", "status",
        "error", "files_seen", "files_loaded", "files_pending", "files_quarantined",
        "files_duplicate", "records_extracted", "records_quarantined", "records_loaded",
        "rows_staged", "findings_added", "quarantine_added", "quarantine_resolved",
    ]
    values = {k: meta.get(k) for k in BATCH_KEYS}
    values.update(
        load_seq=load_seq, records_loaded=result.records_loaded,
        rows_staged=sum(result.rows_staged.values()), findings_added=result.findings_added,
        quarantine_added=result.quarantine_added, quarantine_resolved=result.quarantine_resolved,
    )
    for k in ("started_at", "finished_at"):
        values[k] = None if values[k] is None else str(values[k])
    wh.execute(
        f"INSERT INTO meta.load_audit ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [values.get(c) for c in cols],
    )


def _has_rows(path: Path) -> bool:
    """True when a CSV exists and holds at least one line after its header."""
    if not path.exists():
        return False
    with open(path, "rb") as fh:
        fh.readline()
        return bool(fh.readline().strip())


def load_batch(wh: Warehouse, batch_dir: str | Path) -> LoadResult:
    """Load one batch directory in one transaction; a batch loaded before changes nothing.

    Statements whose input table is empty in this batch are not sent: on PostgreSQL each costs a
    round trip and a plan whatever it finds, and most batches hold no quarantine or findings."""
    batch_dir = Path(batch_dir)
    meta = read_batch_meta(batch_dir)
    batch_id, kind = str(meta["batch_id"]), meta.get("kind")
    result = LoadResult(batch_id, meta.get("run_id"), meta.get("source"), kind, skipped=False)
    if kind is not None and kind not in KINDS:
        raise WarehouseError(f"{batch_dir}/batch.json: unknown kind {kind!r}")
    created: list[str] = []  # temp tables created by this load (kept once it commits)
    own_transaction = not wh.in_transaction
    with wh.transaction():
        if wh.dialect == "postgresql":
            # One load at a time: load_seq and "newer than current" assume a serial history.
            wh.execute("LOCK TABLE meta.load_audit IN SHARE ROW EXCLUSIVE MODE")
        loaded, last_seq = wh.query_one(
            "SELECT count(CASE WHEN batch_id = ? THEN 1 END), COALESCE(max(load_seq), 0) "
            "FROM meta.load_audit", [batch_id])
        if loaded:
            result.skipped = True
            return result
        load_seq = int(last_seq) + 1
        result.load_seq = load_seq
        tables = dict(BOOKKEEPING)
        if kind is not None:
            parent, _v, _t, children = KINDS[kind]
            tables.update({n: TABLES[n] for n in (parent, *children)})
            other = {n for k, spec in KINDS.items() if k != kind for n in (spec[0], *spec[3])}
            # Ingestion writes every canonical table, header-only where a kind has no rows;
            # only a stray file with rows would mean the batch mixes source kinds.
            stray = sorted(n for n in other if _has_rows(batch_dir / f"{n}.csv"))
            if stray:
                raise WarehouseError(f"{batch_dir}: {kind} batch holds {stray[0]}.csv")
        staged = {n for n in tables if _has_rows(batch_dir / f"{n}.csv")}
        # a table without rows is not copied: every statement that would read it is skipped
        for n, c in tables.items():
            if n in staged:
                _stage_csv(wh, batch_dir, n, c, created)
        if kind is not None and KINDS[kind][0] in staged:
            _load_staging(wh, kind, batch_id, load_seq, result, staged, created)
        elif kind is not None:
            result.rows_staged = dict.fromkeys((KINDS[kind][0], *KINDS[kind][3]), 0)
        if "file_ledger" in staged:
            result.ledger_rows = _load_ledger(wh, batch_id, created)
        if "quarantine" in staged:
            result.quarantine_added = _load_quarantine(wh, kind, batch_id, load_seq)
        if "finding" in staged:
            result.findings_added = _load_findings(wh, batch_id)
        # Only record entries resolve, and only by staging of their own kind; a batch that
        # staged nothing and quarantined nothing cannot resolve anything new.
        if kind is not None and (sum(result.rows_staged.values()) or result.quarantine_added):
            result.quarantine_resolved = resolve_quarantine(wh, result.run_id, load_seq, [kind])
        _audit(wh, meta, load_seq, result)
        _empty_temps(wh, wh.temp_tables | set(created))
    if own_transaction:  # committed: they exist for the next load
        wh.temp_tables.update(created)
    return result
