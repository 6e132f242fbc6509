"""Loading batch directories (ingestion/canonical.py) into the warehouse, all or nothing.

`load_batches` loads any number of batches in one transaction with exactly the result of loading
them one after another (`load_batch` is the one-batch case): every CSV is bulk-loaded into a
temporary all-text table whose batch_ord column tells the batches apart (on PostgreSQL one COPY
per table for all the batches' files, on DuckDB a read_csv per file), then a few set-based
statements move every batch on at once:
- staging history: a record version is inserted once, keyed by (record_id, form_version) for TraCS
  and (record_id, last_modified) for MEG; an equal version already present changes nothing, even
  when its bytes differ (the first valid copy wins, earlier batches first). Child rows go in with
  their parent copy.
- file ledger: upserted by (source, remote_name, sha256); the last batch's row wins.
- quarantine: one entry per identity, (source, record_id, record_sha256) for a record, (source,
  file_sha256) for a file; open until a later version of the record loads.
- findings: once per file and once per record version.
- meta.load_audit: one row per batch; a batch already there is skipped whole.

A statement costs PostgreSQL a round trip, a plan and its catalog lookups whatever it finds: a
run of 21 batches took about 500 statements one batch at a time, and takes about 65 together,
whatever the number of batches (the 143 CSV files of a night in 9 COPY statements).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from deflect.core.canonical import BATCH_KEYS, BOOKKEEPING, SourceTables
from warehouse.backend import Warehouse, WarehouseError, csv_header, quote_ident

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
    """A table's column types, asked of information_schema once per connection for every table
    of its schema (on PostgreSQL that query costs more than most statements of a load)."""
    key = (schema, table)
    if key not in wh.column_types:
        # the schemas a load and a refresh write, in one query (each costs PostgreSQL about
        # as much as a small load's statement)
        schemas = sorted({schema, "staging", "meta", "marts"})
        marks = ", ".join("?" * len(schemas))
        if wh.dialect == "postgresql":
            # the catalog itself: the same names and types as information_schema.columns (its
            # data_type is the type without modifiers, as regtype prints it) for less than half
            # the server's time, that view checking privileges column by column
            sql = ("SELECT n.nspname, c.relname, a.attname, a.atttypid::regtype::text "
                   "FROM pg_catalog.pg_attribute a "
                   "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                   f"WHERE n.nspname IN ({marks}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                   "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2, a.attnum")
        else:
            sql = ("SELECT table_schema, table_name, column_name, data_type "
                   f"FROM information_schema.columns WHERE table_schema IN ({marks}) "
                   "ORDER BY table_schema, table_name, ordinal_position")
        rows = wh.query(sql, schemas)
        for sch, name, column, dtype in rows:
            wh.column_types.setdefault((sch, name), {})[column] = _sql_type(dtype)
    return wh.column_types.get(key, {})  # a table that does not exist yet is not remembered


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


def _empty_temps(wh: Warehouse, names, committing: bool) -> None:
    """Empty the load's temp tables unless the commit that ends this load does it (PostgreSQL,
    in a transaction of the load's own: inside a caller's transaction the next load would
    otherwise find these rows)."""
    if wh.dialect != "postgresql" or not committing:
        for name in names:
            wh.execute(f"DELETE FROM {name}")


def _stage_csvs(wh: Warehouse, batches: list[_Batch], created: list[str]) -> set[str]:
    """Bulk-load every CSV with rows of the batches into all-text temp tables, one statement
    per table and header order where the backend allows; the names of the tables staged. The
    batch_ord column of each row is that of the batch whose file held it."""
    files: dict[tuple[str, tuple[str, ...]], list[tuple[Path, int]]] = {}
    for b in batches:
        for name in b.tables:
            if name in b.staged:  # a table without rows is not copied
                files.setdefault((name, b.headers[name]), []).append(
                    (b.dir / f"{name}.csv", b.ord))
    for (name, header), paths in files.items():
        columns = next(b.tables[name] for b in batches if name in b.tables)
        tmp = temp_table(wh, _LOAD_PREFIX + name,
                         ", ".join(f"{quote_ident(c)} text" for c in columns)
                         + ", batch_ord integer", created)
        wh.copy_csv_files(tmp, paths, header, "batch_ord")
    return {name for name, _ in files}


def _typed(columns, types: dict[str, str], alias: str = "l") -> str:
    return ", ".join(
        f"CAST({alias}.{quote_ident(c)} AS {types[c]}) AS {quote_ident(c)}" for c in columns
    )


_IDENT = (
    # a file quarantined from its listing alone (F07) has no digest: its name tells it apart
    "CASE WHEN {a}.level = 'file' THEN 'F:' || COALESCE({a}.file_sha256, "
    "'name:' || COALESCE({a}.file_name, '')) "
    "ELSE 'R:' || COALESCE({a}.record_id, '') || ':' || COALESCE({a}.record_sha256, '') END"
)


@dataclass
class _Batch:
    """One batch of a load: its directory, batch.json, result and the tables it has rows of."""

    dir: Path
    meta: dict
    result: LoadResult
    tables: dict[str, tuple[str, ...]]
    staged: set[str]
    headers: dict[str, tuple[str, ...]]  # of the staged tables' files, in file order
    ord: int = -1  # its position among the batches this load writes (batch_ord in SQL)

    @property
    def kind(self) -> str | None:
        return self.meta.get("kind")


def _inspect(batch_dir: Path, kinds: dict[str, SourceTables]) -> _Batch:
    """Read and check a batch directory before anything is written. Raises WarehouseError."""
    meta = read_batch_meta(batch_dir)
    kind = meta.get("kind")
    result = LoadResult(str(meta["batch_id"]), meta.get("run_id"), meta.get("source"), kind,
                        skipped=False)
    if kind is not None and kind not in kinds:
        raise WarehouseError(f"{batch_dir}/batch.json: unknown kind {kind!r}")
    tables = dict(BOOKKEEPING)
    if kind is not None:
        tables.update({t.name: t.columns for t in kinds[kind].tables})
        other = {t.name for k, spec in kinds.items() if k != kind for t in spec.tables}
        # A stray file of another kind with rows would mean the batch mixes source kinds.
        stray = sorted(n for n in other if _has_rows(batch_dir / f"{n}.csv"))
        if stray:
            raise WarehouseError(f"{batch_dir}: {kind} batch holds {stray[0]}.csv")
    staged = {n for n in tables if _has_rows(batch_dir / f"{n}.csv")}
    headers = {name: _check_header(batch_dir / f"{name}.csv", tables[name]) for name in staged}
    if kind is not None:
        result.rows_staged = {t.name: 0 for t in kinds[kind].tables}
    return _Batch(batch_dir, meta, result, tables, staged, headers)


def _check_header(path: Path, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The file's header, which must hold the canonical columns (in any order)."""
    header = csv_header(path)
    if set(header) != set(columns) or len(header) != len(columns):
        extra = sorted(set(header) - set(columns))
        missing = sorted(set(columns) - set(header))
        raise WarehouseError(
            f"{path}: header does not match the canonical columns "
            f"(unexpected {extra}, missing {missing})"
        )
    return tuple(header)


def _load_staging(wh: Warehouse, spec: SourceTables, batches: list[_Batch],
                  created: list[str]) -> None:
    """Staging rows of every batch of one kind in this load, as if loaded one batch after
    another: the first copy of each version not staged before wins, earlier batches first."""
    parent, vcol, vtype = spec.parent.name, spec.version_column, spec.version_type
    children = [t.name for t in spec.children]
    ptypes = column_types(wh, "staging", parent)
    pcols = spec.parent.columns
    cand = temp_table(
        wh, f"cand_{parent}",
        ", ".join(f"{quote_ident(c)} {ptypes[c]}" for c in pcols)
        + f", prev_version {vtype}, batch_ord integer", created)
    # Candidates: the first copy (by batch, file name, then line) of each version not yet
    # staged; prev_version is the newest version staged before this load.
    wh.execute(
        f"""INSERT INTO {cand}
        SELECT {_typed(pcols, ptypes, 'r')},
               (SELECT max(s.{vcol}) FROM staging.{parent} s WHERE s.record_id = r.record_id),
               r.batch_ord
        FROM (SELECT l.*, ROW_NUMBER() OVER (
                  PARTITION BY l.record_id, CAST(l.{vcol} AS {vtype})
                  ORDER BY l.batch_ord, l.file_name, CAST(l.line AS integer), l.file_sha256) AS rn
              FROM {_LOAD_PREFIX}{parent} l) r
        WHERE r.rn = 1 AND NOT EXISTS (
            SELECT 1 FROM staging.{parent} s
            WHERE s.record_id = r.record_id AND s.{vcol} = CAST(r.{vcol} AS {vtype}))""",
    )
    # A record became current with a batch when its newest version there is newer than every
    # version staged before that batch: before this load (prev) or by an earlier batch (prev_run).
    counts = wh.query(
        f"""SELECT batch_ord, sum(n), sum(CASE WHEN (prev IS NULL OR newest > prev)
                AND (prev_run IS NULL OR newest > prev_run) THEN 1 ELSE 0 END)
        FROM (SELECT batch_ord, n, newest, prev, max(newest) OVER (
                  PARTITION BY record_id ORDER BY batch_ord
                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_run
              FROM (SELECT record_id, batch_ord, count(*) AS n, max({vcol}) AS newest,
                           max(prev_version) AS prev
                    FROM {cand} GROUP BY record_id, batch_ord) g) w
        GROUP BY batch_ord"""
    )
    by_ord = {b.ord: b for b in batches}
    for o, n, loaded in counts:
        by_ord[int(o)].result.rows_staged[parent] = int(n)
        by_ord[int(o)].result.records_loaded = int(loaded)
    cols = ", ".join(quote_ident(c) for c in pcols)
    wh.execute(
        f"""INSERT INTO staging.{parent} ({cols}, batch_id, load_seq)
        SELECT {", ".join(f"c.{quote_ident(c)}" for c in pcols)}, m.batch_id, m.load_seq
        FROM {cand} c JOIN {_LOAD_PREFIX}batch_map m ON m.batch_ord = c.batch_ord""",
    )
    present = [c for c in children if any(c in b.staged for b in batches)]
    matches = (f"EXISTS (SELECT 1 FROM {cand} p WHERE p.batch_ord = l.batch_ord "
               f"AND p.record_id = l.record_id AND p.file_sha256 = l.file_sha256 "
               f"AND p.{vcol} = CAST(l.{vcol} AS {vtype}))")
    by_seq = {b.result.load_seq: b for b in batches}
    for child in present:
        ctypes = column_types(wh, "staging", child)
        ccols = next(t.columns for t in spec.children if t.name == child)
        names = ", ".join(quote_ident(c) for c in ccols)
        insert = f"""INSERT INTO staging.{child} ({names}, batch_id, load_seq)
            SELECT {_typed(ccols, ctypes)}, m.batch_id, m.load_seq
            FROM {_LOAD_PREFIX}{child} l JOIN {_LOAD_PREFIX}batch_map m
                ON m.batch_ord = l.batch_ord
            WHERE {matches}"""
        if wh.dialect == "postgresql":
            # the children staged by each batch, counted as they go in: matching them against
            # the candidates a second time cost PostgreSQL about as much as the insert
            for seq, n in wh.query(f"WITH ins AS ({insert} RETURNING load_seq) "
                                   "SELECT load_seq, count(*) FROM ins GROUP BY load_seq"):
                by_seq[int(seq)].result.rows_staged[child] = int(n)
        else:
            wh.execute(insert)
    if present and wh.dialect != "postgresql":
        # DuckDB has no INSERT in WITH; the children matched again, in one cheap statement
        union = " UNION ALL ".join(
            f"SELECT l.batch_ord, '{child}' AS child FROM {_LOAD_PREFIX}{child} l WHERE {matches}"
            for child in present)
        for o, child, n in wh.query(
                f"SELECT batch_ord, child, count(*) FROM ({union}) c GROUP BY batch_ord, child"):
            by_ord[int(o)].result.rows_staged[child] = int(n)


def _load_ledger(wh: Warehouse, batches: list[_Batch], created: list[str]) -> None:
    """Upsert by (source, remote_name, sha256): the row of the last batch holding it wins."""
    cols = BOOKKEEPING["file_ledger"]
    types = column_types(wh, "meta", "file_ledger")
    cand = temp_table(wh, "cand_file_ledger",
                      ", ".join(f"{quote_ident(c)} {types[c]}" for c in cols)
                      + ", batch_ord integer", created)
    wh.execute(
        f"""INSERT INTO {cand}
        SELECT {_typed(cols, types, 'r')}, r.batch_ord FROM (
            SELECT l.*, ROW_NUMBER() OVER (
                PARTITION BY l.source, l.remote_name, COALESCE(l.sha256, '')
                ORDER BY l.batch_ord DESC, l.handled_at DESC) AS rn
            FROM {_LOAD_PREFIX}file_ledger l) r
        WHERE r.rn = 1""",
    )
    by_ord = {b.ord: b for b in batches}
    for o, n in wh.query(
            f"""SELECT batch_ord, count(*) FROM (
                SELECT DISTINCT batch_ord, source, remote_name, COALESCE(sha256, '') AS sha
                FROM {_LOAD_PREFIX}file_ledger) d GROUP BY batch_ord"""):
        by_ord[int(o)].result.ledger_rows = int(n)
    key = (
        "t.source = c.source AND t.remote_name = c.remote_name "
        "AND COALESCE(t.sha256, '') = COALESCE(c.sha256, '')"
    )
    sets = ", ".join(
        f"{quote_ident(c)} = c.{quote_ident(c)}"
        for c in cols if c not in ("source", "remote_name", "sha256")
    )
    wh.execute(
        f"""UPDATE meta.file_ledger AS t SET {sets}, batch_id = m.batch_id
        FROM {cand} AS c JOIN {_LOAD_PREFIX}batch_map m ON m.batch_ord = c.batch_ord
        WHERE {key}""",
    )
    names = ", ".join(quote_ident(c) for c in cols)
    wh.execute(
        f"""INSERT INTO meta.file_ledger ({names}, batch_id)
        SELECT {", ".join(f"c.{quote_ident(c)}" for c in cols)}, m.batch_id
        FROM {cand} c JOIN {_LOAD_PREFIX}batch_map m ON m.batch_ord = c.batch_ord
        WHERE NOT EXISTS (SELECT 1 FROM meta.file_ledger t WHERE {key})""",
    )
    # every row, as written, kept for good: the current row above may be replaced later
    hist = ", ".join(quote_ident(c) for c in cols)
    wh.execute(
        f"""INSERT INTO meta.file_ledger_history ({hist}, batch_id, load_seq)
        SELECT {_typed(cols, types, 'l')}, m.batch_id, m.load_seq
        FROM {_LOAD_PREFIX}file_ledger l JOIN {_LOAD_PREFIX}batch_map m
            ON m.batch_ord = l.batch_ord""",
    )
    # A file once listed as pending and now downloaded: its placeholder row has done its job,
    # unless a later batch than the download listed it as pending again.
    wh.execute(
        f"""DELETE FROM meta.file_ledger WHERE sha256 IS NULL AND status = 'pending'
        AND EXISTS (SELECT 1 FROM {cand} c WHERE c.source = meta.file_ledger.source
            AND c.remote_name = meta.file_ledger.remote_name AND c.sha256 IS NOT NULL
            AND c.batch_ord >= COALESCE((SELECT max(p.batch_ord) FROM {cand} p
                WHERE p.source = meta.file_ledger.source
                  AND p.remote_name = meta.file_ledger.remote_name AND p.sha256 IS NULL), -1))"""
    )


def _load_quarantine(wh: Warehouse, batches: list[_Batch], created: list[str]) -> None:
    """One entry per identity, the first copy (by batch, file, line) of an identity not known."""
    cols = BOOKKEEPING["quarantine"]
    types = column_types(wh, "meta", "quarantine")
    names = ", ".join(quote_ident(c) for c in cols)
    cand = temp_table(wh, "cand_quarantine",
                      ", ".join(f"{quote_ident(c)} {types[c]}" for c in cols)
                      + ", batch_ord integer", created)
    order = "ORDER BY l.batch_ord, l.file_name, CAST(l.line AS integer), l.quarantine_id"
    wh.execute(
        f"""INSERT INTO {cand}
        SELECT {_typed(cols, types, 'r')}, r.batch_ord FROM (
            SELECT l.*,
                   ROW_NUMBER() OVER (PARTITION BY l.source, {_IDENT.format(a='l')} {order}) AS rn,
                   ROW_NUMBER() OVER (PARTITION BY l.quarantine_id {order}) AS rn_id
            FROM {_LOAD_PREFIX}quarantine l) r
        WHERE r.rn = 1 AND r.rn_id = 1
          AND NOT EXISTS (SELECT 1 FROM meta.quarantine q WHERE q.quarantine_id = r.quarantine_id)
          AND NOT EXISTS (SELECT 1 FROM meta.quarantine q WHERE q.source = r.source
                          AND {_IDENT.format(a='q')} = {_IDENT.format(a='r')})""",
    )
    wh.execute(
        f"""INSERT INTO meta.quarantine ({names}, kind, batch_id, load_seq, status,
                                        superseded_checked)
        SELECT {", ".join(f"c.{quote_ident(c)}" for c in cols)}, m.kind, m.batch_id, m.load_seq,
               'open', TRUE
        FROM {cand} c JOIN {_LOAD_PREFIX}batch_map m ON m.batch_ord = c.batch_ord""",
    )
    by_ord = {b.ord: b for b in batches}
    for o, n in wh.query(f"SELECT batch_ord, count(*) FROM {cand} GROUP BY batch_ord"):
        by_ord[int(o)].result.quarantine_added = int(n)


_FINDING_SAME = ("source", "code", "file_sha256", "record_id", "record_sha256", "line",
                 "column", "path", "message")


def _load_findings(wh: Warehouse, batches: list[_Batch], created: list[str]) -> None:
    """Findings once per file and once per record version, as one batch after another would:

    - a finding equal to one already recorded (same source, file, code, record, place and
      message) adds nothing; equal findings of one batch all go in;
    - a record version's findings come from the first file that carried it: the first by name
      within a batch, and no other file once one file's findings of that version are recorded."""
    cols = BOOKKEEPING["finding"]
    types = column_types(wh, "meta", "finding")
    names = ", ".join(quote_ident(c) for c in cols)
    cand = temp_table(wh, "cand_finding",
                      ", ".join(f"{quote_ident(c)} {types[c]}" for c in cols)
                      + ", batch_ord integer", created)
    same = " AND ".join(f"f.{quote_ident(c)} IS NOT DISTINCT FROM p.{quote_ident(c)}"
                        for c in _FINDING_SAME)
    keyed = "r.source IS NOT NULL AND r.record_id IS NOT NULL AND r.record_sha256 IS NOT NULL"
    # passes: what the record-version rule lets through (file findings always pass):
    #   the batch's first file of the version, and, when findings of the version were recorded
    #   before this load, only their file, or else the file of the first batch that has any.
    wh.execute(
        f"""INSERT INTO {cand}
        SELECT {", ".join(f"p.{quote_ident(c)}" for c in cols)}, p.batch_ord FROM (
            SELECT e.*, MIN(e.batch_ord) OVER (
                       PARTITION BY {", ".join(f"e.{quote_ident(c)}" for c in _FINDING_SAME)})
                       AS first_ord
            FROM (
                SELECT r.*, CASE
                    WHEN r.level <> 'record' THEN TRUE
                    WHEN r.file_rank > 1 THEN FALSE
                    WHEN NOT ({keyed}) THEN TRUE
                    WHEN EXISTS (SELECT 1 FROM meta.finding f WHERE f.level = 'record'
                            AND f.source = r.source AND f.record_id = r.record_id
                            AND f.record_sha256 = r.record_sha256
                            AND f.file_sha256 IS DISTINCT FROM r.file_sha256) THEN FALSE
                    WHEN EXISTS (SELECT 1 FROM meta.finding f WHERE f.level = 'record'
                            AND f.source = r.source AND f.record_id = r.record_id
                            AND f.record_sha256 = r.record_sha256) THEN TRUE
                    ELSE r.file_sha256 IS NOT DISTINCT FROM r.first_file END AS passes
                FROM (
                    SELECT {_typed(cols, types, 'l')}, l.batch_ord,
                           DENSE_RANK() OVER (
                               PARTITION BY l.source, l.record_id, l.record_sha256, l.batch_ord
                               ORDER BY l.file_name, l.file_sha256) AS file_rank,
                           FIRST_VALUE(l.file_sha256) OVER (
                               PARTITION BY l.source, l.record_id, l.record_sha256,
                                            CASE WHEN l.level = 'record' THEN 1 ELSE 0 END
                               ORDER BY l.batch_ord, l.file_name, l.file_sha256
                               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
                               AS first_file
                    FROM {_LOAD_PREFIX}finding l) r) e
            WHERE e.passes) p
        WHERE (p.batch_ord = p.first_ord OR p.source IS NULL OR p.file_sha256 IS NULL)
          AND NOT EXISTS (SELECT 1 FROM meta.finding f
                          WHERE f.source = p.source AND f.file_sha256 = p.file_sha256
                            AND {same})""",
    )
    wh.execute(
        f"""INSERT INTO meta.finding ({names}, batch_id)
        SELECT {", ".join(f"c.{quote_ident(c)}" for c in cols)}, m.batch_id
        FROM {cand} c JOIN {_LOAD_PREFIX}batch_map m ON m.batch_ord = c.batch_ord""",
    )
    by_ord = {b.ord: b for b in batches}
    for o, n in wh.query(f"SELECT batch_ord, count(*) FROM {cand} GROUP BY batch_ord"):
        by_ord[int(o)].result.findings_added = int(n)


def _resolve_quarantine(wh: Warehouse, spec: SourceTables, batches: list[_Batch],
                        created: list[str]) -> None:
    """Mark open record entries resolved once a later version of the same record is staged.

    A version that could not be read (S01 on the version itself) is resolved by any version that
    loads from another file at or after the quarantine. As one batch after another would: an
    entry is resolved by the first batch of its kind, among those that staged or quarantined
    something (the others cannot resolve anything new), at or after both the entry and the
    staged row that resolves it."""
    kind = spec.kind
    active = [b.result.load_seq for b in batches if b.kind == kind
              and (sum(b.result.rows_staged.values()) or b.result.quarantine_added)]
    if not active:
        return
    parent, vcol = spec.parent.name, spec.version_column
    try_cast = "meta.try_int" if spec.version_type == "integer" else "meta.try_timestamp"
    table = temp_table(wh, _LOAD_PREFIX + "active", "kind text, load_seq integer", created)
    _insert_rows(wh, table, ("kind", "load_seq"), [[kind, seq] for seq in active])
    # An entry open before this load whose resolving version was staged before it would have
    # been resolved by that load (the batch that staged the version, or quarantined the entry,
    # was active in it): so only the versions this load staged, against every open entry of
    # their records, and the entries this load added, against every staged version of theirs,
    # can resolve anything. Both sides are looked up by index: years of open entries and
    # staged versions are not scanned (docs/performance.md).
    closes = f"""q.status = 'open' AND q.level = 'record' AND q.kind = ?
              AND (s.{vcol} > {try_cast}(q.record_version)
                   OR ({try_cast}(q.record_version) IS NULL AND s.load_seq >= q.load_seq
                       AND s.file_sha256 IS DISTINCT FROM q.file_sha256))"""
    after = "CASE WHEN s.load_seq > q.load_seq THEN s.load_seq ELSE q.load_seq END"
    this_load = _of_this_load(active)
    due = f"""SELECT d.quarantine_id, min(m.load_seq) AS load_seq FROM (
            SELECT c.quarantine_id, min(c.after_seq) AS after_seq FROM (
                SELECT q.quarantine_id, {after} AS after_seq
                FROM staging.{parent} s JOIN meta.quarantine q ON q.record_id = s.record_id
                WHERE {this_load("s.load_seq")} AND {closes}
                UNION ALL
                SELECT q.quarantine_id, {after} AS after_seq
                FROM meta.quarantine q JOIN staging.{parent} s ON s.record_id = q.record_id
                WHERE {this_load("q.load_seq")} AND {closes}) c
            GROUP BY c.quarantine_id) d
        JOIN {table} m ON m.kind = ? AND m.load_seq >= d.after_seq
        GROUP BY d.quarantine_id"""
    wh.execute(
        f"""UPDATE meta.quarantine SET status = 'resolved', resolved_load_seq = r.load_seq,
            resolved_run_id = m.run_id
        FROM ({due}) r JOIN {_LOAD_PREFIX}batch_map m ON m.load_seq = r.load_seq
        WHERE meta.quarantine.quarantine_id = r.quarantine_id""",
        [kind, kind, kind],
    )
    by_seq = {b.result.load_seq: b for b in batches}
    for seq, n in wh.query(
            "SELECT resolved_load_seq, count(*) FROM meta.quarantine "
            f"WHERE {this_load('resolved_load_seq')} GROUP BY resolved_load_seq"):
        by_seq[int(seq)].result.quarantine_resolved = int(n)


# A table this load grew by at least this many rows, and by a fifth or more, is analyzed before
# the statements that join it: a first load of a year's backfill into an empty warehouse left
# PostgreSQL with no statistics on 1.4 M staged versions and 148,000 entries, and its default
# guesses (one open entry) made the resolution a nested loop of index scans over every staged
# version for every entry: minutes per kind, where a hash join takes seconds.
ANALYZE_MIN_ROWS = 20_000
_QUARANTINE_JOINED = ("quarantine_id", "status", "level", "kind", "record_id", "record_version",
                      "load_seq", "file_sha256", "superseded_load_seq")


def _analyze_grown(wh: Warehouse, kinds: dict[str, SourceTables], batches: list[_Batch]) -> None:
    """ANALYZE (PostgreSQL) the staging parents and meta.quarantine this load grew a lot, inside
    its transaction: ANALYZE samples the transaction's own new rows."""
    if wh.dialect != "postgresql":
        return
    added = {("meta", "quarantine"): sum(b.result.quarantine_added for b in batches)}
    # the columns those statements join and filter on: statistics of every column of a wide
    # staging table cost five times as much (0.37 s against 0.07 s for 47,000 forms)
    columns = {("meta", "quarantine"): _QUARANTINE_JOINED}
    for spec in kinds.values():
        added[("staging", spec.parent.name)] = sum(
            b.result.rows_staged.get(spec.parent.name, 0) for b in batches)
        columns[("staging", spec.parent.name)] = (
            "record_id", spec.version_column, "load_seq", "file_sha256")
    grown = [key for key, n in added.items() if n >= ANALYZE_MIN_ROWS]
    if not grown:
        return
    marks = ", ".join("(?, ?)" for _ in grown)
    known = {(schema, name): tuples for schema, name, tuples in wh.query(
        "SELECT n.nspname, c.relname, c.reltuples FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE (n.nspname, c.relname) IN ({marks})", [v for key in grown for v in key])}
    for schema, name in grown:
        # reltuples: the estimate of the last ANALYZE (-1: never), before this load's rows
        if added[(schema, name)] >= 0.2 * max(float(known.get((schema, name), -1)), 0.0):
            cols = ", ".join(quote_ident(c) for c in columns[(schema, name)])
            wh.execute(f"ANALYZE {schema}.{name} ({cols})")


def _of_this_load(seqs: list[int]):
    """column -> an SQL condition that `column` is one of this load's `seqs`, for the lookups
    that must read only what this load staged or added. The seqs are literals (integers):
    against a temporary table without statistics PostgreSQL scanned every staged version
    rather than use the load_seq index. And the range beside the list is redundant but
    estimable: the load's seqs are newer than the table's statistics, so PostgreSQL took each
    listed value for an average batch (33,000 MEG versions where 2,200 were staged) and hashed
    every entry, calling try_timestamp on each, where the range, measured against the index's
    actual maximum, tells it that few rows match (docs/performance.md)."""
    listed = ", ".join(str(int(seq)) for seq in seqs)
    low, high = int(min(seqs)), int(max(seqs))
    return lambda column: f"{column} IN ({listed}) AND {column} BETWEEN {low} AND {high}"


def _supersede(wh: Warehouse, spec: SourceTables, batches: list[_Batch]) -> None:
    """Record on each record entry the load that staged its own version from another file
    (`superseded_load_seq`, and its run `superseded_run_id`; quality.quarantine reads them as
    `superseded` and `state_run_id`): the versions this load staged against every entry, and
    the entries it added against every staged version. Staging holds one row per version, so
    the first such load is the only one. The state view used to look this up over every entry
    and every staged version whenever it was read (migrations 0025, 0026)."""
    seqs = [b.result.load_seq for b in batches if b.kind == spec.kind]
    if not seqs:
        return
    parent, vcol = spec.parent.name, spec.version_column
    try_cast = "meta.try_int" if spec.version_type == "integer" else "meta.try_timestamp"
    this_load = _of_this_load(seqs)
    same = f"""meta.quarantine.kind = ? AND meta.quarantine.level = 'record'
        AND meta.quarantine.superseded_load_seq IS NULL
        AND s.record_id = meta.quarantine.record_id
        AND s.{vcol} = {try_cast}(meta.quarantine.record_version)
        AND s.file_sha256 IS DISTINCT FROM meta.quarantine.file_sha256"""
    # and the run of that load (0026): this load's from its batch map, an earlier one's from
    # its audit rows (min(), as the state view took it before)
    run = f"""(SELECT min(r.run_id) FROM (
            SELECT load_seq, run_id FROM {_LOAD_PREFIX}batch_map
            UNION ALL SELECT load_seq, run_id FROM meta.load_audit) r
        WHERE r.load_seq = s.load_seq)"""
    for side in ("s.load_seq", "meta.quarantine.load_seq"):
        wh.execute(f"""UPDATE meta.quarantine SET superseded_load_seq = s.load_seq,
            superseded_run_id = {run}
            FROM staging.{parent} s WHERE {this_load(side)} AND {same}""", [spec.kind])


_AUDIT_COLUMNS = (
    "batch_id", "load_seq", "run_id", "source", "kind", "started_at", "finished_at", "status",
    "error", "files_seen", "files_loaded", "files_pending", "files_quarantined",
    "files_duplicate", "records_extracted", "records_quarantined", "records_loaded",
    "rows_staged", "findings_added", "quarantine_added", "quarantine_resolved",
    "records_already_accepted",
)


def _audit(wh: Warehouse, batches: list[_Batch]) -> None:
    """One meta.load_audit row per batch loaded."""
    rows = []
    for b in batches:
        r = b.result
        values = {k: b.meta.get(k) for k in BATCH_KEYS}
        values.update(
            load_seq=r.load_seq, records_loaded=r.records_loaded,
            rows_staged=sum(r.rows_staged.values()), findings_added=r.findings_added,
            quarantine_added=r.quarantine_added, quarantine_resolved=r.quarantine_resolved,
        )
        for k in ("started_at", "finished_at"):
            values[k] = None if values[k] is None else str(values[k])
        rows.append([values.get(c) for c in _AUDIT_COLUMNS])
    _insert_rows(wh, "meta.load_audit", _AUDIT_COLUMNS, rows)


# Rows per multi-row INSERT (and ids per IN list): PostgreSQL takes at most 65,535 parameters
# in one statement, and a load may hold thousands of batches.
ROWS_PER_STATEMENT = 1000


def _chunks(items: list, size: int | None = None):
    size = size or ROWS_PER_STATEMENT
    return (items[i:i + size] for i in range(0, len(items), size))


def _insert_rows(wh: Warehouse, table: str, columns, rows: list[list]) -> None:
    """INSERT rows (lists of values in `columns` order) with a few multi-row statements."""
    for part in _chunks(rows):
        marks = "(" + ", ".join("?" * len(columns)) + ")"
        wh.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                   + ", ".join([marks] * len(part)), [v for row in part for v in row])


def _has_rows(path: Path) -> bool:
    """True when a CSV exists and holds at least one line after its header."""
    if not path.exists():
        return False
    with open(path, "rb") as fh:
        fh.readline()
        return bool(fh.readline().strip())


def load_batch(wh: Warehouse, kinds, batch_dir: str | Path) -> LoadResult:
    """Load one batch directory in one transaction; a batch loaded before changes nothing."""
    return load_batches(wh, kinds, [batch_dir])[0]


def load_batches(wh: Warehouse, kinds, batch_dirs) -> list[LoadResult]:
    """Load batch directories in one transaction, with the result of loading them one after
    another in the order given; a batch loaded before (or twice in the list) changes nothing.

    Every batch is read and checked first: a bad one fails the load before anything is written.
    Each statement covers every batch at once (a column batch_ord tells them apart), and a
    statement whose input table is empty in every batch is not sent: on PostgreSQL each costs a
    round trip and a plan whatever it finds, and most batches hold no quarantine or findings.

    `kinds`: the `SourceTables` of every source kind (adapters.registry.staging_tables())."""
    kinds = {k.kind: k for k in kinds}
    batches = [_inspect(Path(d), kinds) for d in batch_dirs]
    if not batches:
        return []
    created: list[str] = []  # temp tables created by this load (kept once it commits)
    own_transaction = not wh.in_transaction
    with wh.transaction():
        if wh.dialect == "postgresql":
            # One load at a time: load_seq and "newer than current" assume a serial history.
            wh.execute("LOCK TABLE meta.load_audit IN SHARE ROW EXCLUSIVE MODE")
        loaded = set()
        for ids in _chunks(sorted({b.result.batch_id for b in batches})):
            loaded |= {r[0] for r in wh.query(
                f"SELECT batch_id FROM meta.load_audit WHERE batch_id IN "
                f"({', '.join('?' * len(ids))})", ids)}
        last_seq = int(wh.scalar("SELECT COALESCE(max(load_seq), 0) FROM meta.load_audit"))
        todo: list[_Batch] = []
        for b in batches:
            if b.result.batch_id in loaded:
                b.result.skipped = True
                continue
            loaded.add(b.result.batch_id)
            b.ord, b.result.load_seq = len(todo), last_seq + len(todo) + 1
            todo.append(b)
        if todo:
            _load_all(wh, kinds, todo, created)
            _empty_temps(wh, wh.temp_tables | set(created), committing=own_transaction)
    if own_transaction:  # committed: they exist for the next load
        wh.temp_tables.update(created)
    return [b.result for b in batches]


def _load_all(wh: Warehouse, kinds: dict[str, SourceTables], todo: list[_Batch],
              created: list[str]) -> None:
    bmap = temp_table(wh, _LOAD_PREFIX + "batch_map",
                      "batch_ord integer, batch_id text, load_seq integer, run_id text, "
                      "kind text", created)
    _insert_rows(wh, bmap, ("batch_ord", "batch_id", "load_seq", "run_id", "kind"),
                 [[b.ord, b.result.batch_id, b.result.load_seq, b.result.run_id, b.kind]
                  for b in todo])
    staged = _stage_csvs(wh, todo, created)
    for kind, spec in kinds.items():
        of_kind = [b for b in todo if b.kind == kind]
        if any(spec.parent.name in b.staged for b in of_kind):
            _load_staging(wh, spec, of_kind, created)
    if "file_ledger" in staged:
        _load_ledger(wh, todo, created)
    if "quarantine" in staged:
        _load_quarantine(wh, todo, created)
    if "finding" in staged:
        _load_findings(wh, todo, created)
    _analyze_grown(wh, kinds, todo)
    # Only record entries resolve or are superseded, and only by staging of their own kind.
    for spec in kinds.values():
        _supersede(wh, spec, todo)
        _resolve_quarantine(wh, spec, todo, created)
    _audit(wh, todo)
