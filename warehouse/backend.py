"""A thin connection layer over the two warehouse backends.

`connect(url)` gives a `Warehouse` for either the embedded default (`duckdb:///path/file.duckdb`,
`duckdb://:memory:`) or production (`postgresql://user@host:port/db`, psycopg 3). Everything above
this module writes one SQL text for both: `?` placeholders, schema-qualified names, and the few
dialect differences (bulk CSV load, DataFrame insert) live here.

No ORM: duckdb-engine's reflection does not work under SQLAlchemy 2.1 (field notes).
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

DIALECTS = ("duckdb", "postgresql")
_COPY_CHUNK = 1 << 20
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


class WarehouseError(RuntimeError):
    """A warehouse problem the caller can act on (bad URL, bad batch file)."""


def database_errors() -> tuple[type[Exception], ...]:
    """The exception base classes either driver raises for a failed statement."""
    import duckdb
    import psycopg

    return (duckdb.Error, psycopg.Error)


def quote_ident(name: str) -> str:
    """Double-quote a column name (`column` is a reserved word in both dialects)."""
    return '"' + name.replace('"', '""') + '"'


def _check_table(table: str) -> str:
    if not _IDENT.match(table):
        raise WarehouseError(f"not a plain table name: {table!r}")
    return table


def csv_header(path: str | Path) -> list[str]:
    """The header row of a canonical CSV file."""
    with open(path, newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh), [])


_COPY_ROW = "deflect_copy_row"  # the temporary sequence numbering the rows of one COPY


def _read_csv(columns: Sequence[str]) -> str:
    """DuckDB's read_csv of one canonical CSV file (the path its one parameter)."""
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in columns)
    return (f"read_csv(?, header = true, columns = {{{spec}}}, nullstr = '', quote = '\"', "
            f"escape = '\"', delim = ',', auto_detect = false)")


def csv_records(path: str | Path) -> int:
    """The records of a CSV file after its header: the line ends outside quoted fields (a
    quoted field may hold one; a doubled quote inside one toggles twice). Read in chunks."""
    ends, quoted, last = 0, False, b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(_COPY_CHUNK):
            for i, part in enumerate(chunk.split(b'"')):
                if i:
                    quoted = not quoted
                if not quoted:
                    ends += part.count(b"\n")
            last = chunk[-1:]
    return max(ends + (last != b"\n") - 1, 0)


def _py(value: Any) -> Any:
    """A DataFrame cell as a plain Python value the drivers understand (NaN/NaT -> None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes, dt.date, decimal.Decimal)):
        return value.item()  # numpy scalar
    return value


def _coerce(value: Any, data_type: str) -> Any:
    """A plain value made to fit a column of `data_type` (either dialect's spelling)."""
    if value is None:
        return None
    t = data_type.lower()
    if t == "date" and isinstance(value, dt.datetime):
        return value.date()
    if t in ("integer", "bigint", "smallint") and isinstance(value, float):
        return int(value)
    if t == "boolean" and not isinstance(value, bool):
        return bool(value)
    return value


class Warehouse:
    """One open connection. Statements run in autocommit unless inside `transaction()`."""

    dialect: str

    def __init__(self, url: str, dialect: str, conn: Any):
        self.url = url
        self.dialect = dialect
        self._conn = conn
        self._in_tx = False
        # (schema, table) -> {column: type}, filled by warehouse.load.column_types
        self.column_types: dict[tuple[str, str], dict[str, str]] = {}
        # temporary tables this connection keeps between loads (warehouse.load.temp_table)
        self.temp_tables: set[str] = set()
        # Spy-friendly counter: how many CSV files went through the bulk path.
        self.copy_calls = 0

    # --- plain statements -----------------------------------------------------------------
    def _sql(self, sql: str, params: Sequence[Any] | None) -> str:
        if self.dialect == "postgresql" and params:
            return sql.replace("%", "%%").replace("?", "%s")
        return sql

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run one statement (or a script when there are no params); rows affected when known."""
        if self.dialect == "postgresql":
            cur = self._conn.execute(self._sql(sql, params), params or None)
            return cur.rowcount
        res = self._conn.execute(sql, list(params)) if params else self._conn.execute(sql)
        desc = res.description
        if desc and desc[0][0] == "Count":  # DuckDB reports DML row counts as a one-row result
            row = res.fetchone()
            return int(row[0]) if row else 0
        return -1

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        if self.dialect == "postgresql":
            return self._conn.execute(self._sql(sql, params), params or None).fetchall()
        return self._conn.execute(sql, list(params) if params else None).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] | None = None) -> tuple | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self.query_one(sql, params)
        return None if row is None else row[0]

    def read_frame(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Rows as a DataFrame of plain Python values (date, int, str, None): object columns."""
        if self.dialect == "postgresql":
            cur = self._conn.execute(self._sql(sql, params), params or None)
        else:
            cur = self._conn.execute(sql, list(params) if params else None)
        columns = [d[0] for d in cur.description]
        rows = cur.fetchall()
        # dtype=object keeps None as None (inference would turn it into NaN)
        return pd.DataFrame(rows, columns=columns, dtype=object)

    @property
    def in_transaction(self) -> bool:
        return self._in_tx

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """All or nothing. Nested use joins the outer transaction."""
        if self._in_tx:
            yield self
            return
        self._in_tx = True
        try:
            if self.dialect == "postgresql":
                with self._conn.transaction():
                    yield self
            else:
                self._conn.execute("BEGIN TRANSACTION")
                try:
                    yield self
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
        finally:
            self._in_tx = False

    # --- bulk paths ---------------------------------------------------------------------------
    def copy_csv(self, table: str, csv_path: str | Path, columns: Sequence[str]) -> None:
        """Append a canonical CSV file (header row, empty field = NULL) to `table`.

        `columns` are the file's header columns in file order; the table must have them.
        PostgreSQL streams the file through COPY FROM STDIN; DuckDB reads it with read_csv.
        Quoted empty strings load as NULL too (canonical rows never hold '').
        """
        _check_table(table)
        cols = ", ".join(quote_ident(c) for c in columns)
        self.copy_calls += 1
        if self.dialect == "postgresql":
            sql = (
                f"COPY {table} ({cols}) FROM STDIN "
                f"(FORMAT csv, HEADER true, ENCODING 'UTF8', FORCE_NULL ({cols}))"
            )
            with self._conn.cursor() as cur, cur.copy(sql) as copy, open(csv_path, "rb") as fh:
                while chunk := fh.read(_COPY_CHUNK):
                    copy.write(chunk)
            return
        self._conn.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM "
                           + _read_csv(columns), [str(csv_path)])

    def copy_csv_files(self, table: str, files: Sequence[tuple[str | Path, int]],
                       columns: Sequence[str], tag: str) -> None:
        """Append canonical CSV files that share one header (`columns`, in file order) to
        `table`, with column `tag` of each file's rows set to the number paired with the file.

        PostgreSQL copies them in one COPY (each COPY costs a round trip and a statement, and a
        night holds a hundred small files): the tag comes from the column's DEFAULT, set for
        this COPY to look up the row's position in the stream (a temporary sequence) among the
        files' first rows, which `csv_records` counts; the rows COPY read are checked against
        that count. DuckDB reads them one by one (one read_csv over many files was no faster).
        """
        _check_table(table)
        _check_table(tag)
        if not files:
            return
        cols = ", ".join(quote_ident(c) for c in columns)
        if self.dialect != "postgresql":
            for path, number in files:
                self.copy_calls += 1
                self._conn.execute(f"INSERT INTO {table} ({cols}, {tag}) SELECT {cols}, "
                                   f"{int(number)} FROM " + _read_csv(columns), [str(path)])
            return
        firsts, rows = [], 0
        for path, _ in files:
            firsts.append(rows + 1)
            rows += csv_records(path)
        numbers = ", ".join(str(int(n)) for _, n in files)
        self.execute(  # one round trip: literals only
            f"CREATE TEMP SEQUENCE IF NOT EXISTS {_COPY_ROW}; "
            f"SELECT setval('{_COPY_ROW}', 1, false); "
            f"ALTER TABLE {table} ALTER COLUMN {tag} SET DEFAULT (ARRAY[{numbers}])"
            f"[width_bucket(nextval('{_COPY_ROW}'), "
            f"ARRAY[{', '.join(map(str, firsts))}]::bigint[])]")
        self.copy_calls += 1
        sql = f"COPY {table} ({cols}) FROM STDIN (FORMAT csv, ENCODING 'UTF8', FORCE_NULL ({cols}))"
        with self._conn.cursor() as cur:
            with cur.copy(sql) as copy:
                for path, _ in files:
                    with open(path, "rb") as fh:
                        fh.readline()  # the header: names, never quoted
                        last = b"\n"
                        while chunk := fh.read(_COPY_CHUNK):
                            copy.write(chunk)
                            last = chunk[-1:]
                        if last != b"\n":
                            copy.write(b"\n")
            if cur.rowcount != rows:
                raise WarehouseError(f"{table}: COPY read {cur.rowcount} rows of files holding "
                                     f"{rows} records ({files[0][0]} ...)")

    def insert_frame(self, table: str, frame: pd.DataFrame, columns: Sequence[str]) -> int:
        """Append the DataFrame's `columns` to `table` in one bulk operation; rows written.

        Values are coerced to the column types first (a pandas float 34.0 into an integer
        column, a Timestamp into a date column), so frames built by pandas load as they are."""
        _check_table(table)
        if frame is None or len(frame) == 0:
            return 0
        schema, name = table.split(".", 1) if "." in table else (None, table)
        types = dict(
            self.query(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? AND (table_schema = ? OR CAST(? AS text) IS NULL)",
                [name, schema, schema],
            )
        )
        data = {c: [_coerce(_py(v), types.get(c, "")) for v in frame[c].tolist()] for c in columns}
        cols = ", ".join(quote_ident(c) for c in columns)
        if self.dialect == "postgresql":
            with self._conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in zip(*(data[c] for c in columns)):
                    copy.write_row(row)
            return len(frame)
        # DuckDB: hand over text and let it cast to each column's own type.
        text = pd.DataFrame(
            {c: [None if v is None else (v.isoformat() if isinstance(v, dt.date) else str(v))
                 for v in data[c]] for c in columns},
            dtype=object,
        )
        view = f"frame_{id(text)}"
        self._conn.register(view, text)
        try:
            select = ", ".join(
                f"CAST({quote_ident(c)} AS {types.get(c, 'VARCHAR')})" for c in columns
            )
            self._conn.execute(f"INSERT INTO {table} ({cols}) SELECT {select} FROM {view}")
        finally:
            self._conn.unregister(view)
        return len(frame)

    # --- lifecycle ----------------------------------------------------------------------------
    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def dialect_of(url: str) -> str:
    scheme = url.split(":", 1)[0].lower()
    if scheme == "duckdb":
        return "duckdb"
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return "postgresql"
    raise WarehouseError(f"unsupported warehouse URL scheme {scheme!r} (duckdb:// or postgresql://)")


def connect(url: str, *, read_only: bool = False) -> Warehouse:
    """Open the warehouse at `url` (the file of a DuckDB URL is created when missing).

    `read_only` opens DuckDB read-only (the file must exist) and makes PostgreSQL sessions
    read-only; readers that only list the ledger use it."""
    dialect = dialect_of(url)
    if dialect == "duckdb":
        import duckdb

        path = url[len("duckdb://"):] or ":memory:"
        if path != ":memory:" and not read_only:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return Warehouse(url, dialect, duckdb.connect(path, read_only=read_only))
    import psycopg

    conn_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    conn = psycopg.connect(conn_url, autocommit=True)
    # No JIT compilation. PostgreSQL compiles a statement whose estimated cost passes
    # jit_above_cost, and the views over years of entries and staging estimate high (a lookup
    # per row the planner cannot tell is skipped): the steward report's reading of a five-year
    # warehouse spent 8.9 s compiling and 1.2 s executing (docs/performance.md). No statement
    # of a night runs long enough to win the compilation back.
    conn.execute("SET jit = off")
    if read_only:
        conn.execute("SET default_transaction_read_only = on")
    return Warehouse(url, dialect, conn)
