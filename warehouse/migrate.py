"""Versioned migrations: warehouse/migrations/NNNN_name.sql, applied in order, once each.

A file `NNNN_name.sql` is portable and runs on both backends. Where the dialects differ a version
has variants `NNNN_name.duckdb.sql` / `NNNN_name.postgresql.sql`: alone, a variant is that
dialect's whole migration; beside a portable file it is an addition run after it on its dialect
(grants, which DuckDB does not have). A version with a variant for the other dialect only is
recorded as applied without running anything (roles, for instance, exist only on PostgreSQL). Each version runs in its own transaction with its row in
meta.schema_migrations, so a failed migration leaves nothing behind.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from deflect.core.canonical import SourceTables
from warehouse.backend import DIALECTS, Warehouse, quote_ident

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(duckdb|postgresql))?\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    files: dict  # dialect ("any", "duckdb", "postgresql") -> Path

    def script_for(self, dialect: str) -> str | None:
        parts = [self.files[k].read_text(encoding="utf-8")
                 for k in ("any", dialect) if k in self.files]
        return "\n".join(parts) if parts else None


def migrations_dir() -> Path:
    return Path(str(resources.files("warehouse") / "migrations"))


def list_migrations(directory: Path | None = None) -> list[Migration]:
    found: dict[int, Migration] = {}
    for path in sorted((directory or migrations_dir()).iterdir()):
        m = _NAME.match(path.name)
        if not m:
            continue
        version, name, dialect = int(m.group(1)), m.group(2), m.group(3) or "any"
        if dialect not in (*DIALECTS, "any"):
            raise ValueError(f"{path.name}: unknown dialect {dialect}")
        mig = found.setdefault(version, Migration(version, name, {}))
        if mig.name != name:
            raise ValueError(f"migration {version:04d} has two names: {mig.name}, {name}")
        if dialect in mig.files:
            raise ValueError(f"migration {version:04d} has two files for {dialect}")
        mig.files[dialect] = path
    return [found[v] for v in sorted(found)]


def _ensure_bookkeeping(wh: Warehouse) -> None:
    exists = wh.scalar(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'meta' AND table_name = 'schema_migrations'"
    )
    if not exists:
        with wh.transaction():
            wh.execute("CREATE SCHEMA IF NOT EXISTS meta")
            wh.execute(
                "CREATE TABLE IF NOT EXISTS meta.schema_migrations ("
                "version integer PRIMARY KEY, name text NOT NULL, "
                "applied_at timestamp with time zone NOT NULL)"
            )


def applied_versions(wh: Warehouse) -> set[int]:
    return {r[0] for r in wh.query("SELECT version FROM meta.schema_migrations")}


def migrate(wh: Warehouse, directory: Path | None = None) -> list[int]:
    """Apply every pending migration in order; the versions applied now (empty when up to date)."""
    _ensure_bookkeeping(wh)
    done = applied_versions(wh)
    applied = []
    for mig in list_migrations(directory):
        if mig.version in done:
            continue
        script = mig.script_for(wh.dialect)
        with wh.transaction():
            if script and script.strip():
                wh.execute(script)
            wh.execute(
                "INSERT INTO meta.schema_migrations (version, name, applied_at) "
                "VALUES (?, ?, CURRENT_TIMESTAMP)",
                [mig.version, mig.name],
            )
        applied.append(mig.version)
    return applied


def staging_ddl(spec: SourceTables, dialect: str) -> list[str]:
    """CREATE statements of one kind's staging tables, as its adapter declares them: the
    canonical columns with their types, then the loading batch (batch_id, load_seq); the parent
    keyed by (record_id, version). Migration 0002 made the TraCS and MEG tables this way; a
    kind added later gets its tables from here (tests/warehouse checks the two agree)."""
    vcol = spec.version_column
    out = []
    for table in spec.tables:
        cols = []
        for c in table.columns:
            required = c in ("source", "record_id", vcol)
            cols.append(f"{quote_ident(c)} {table.sql_type(c)}" + (" NOT NULL" if required else ""))
        cols += ["batch_id text NOT NULL", "load_seq integer NOT NULL"]
        if table is spec.parent:
            cols.append(f"PRIMARY KEY (record_id, {quote_ident(vcol)})")
        out.append(f"CREATE TABLE IF NOT EXISTS staging.{table.name} ({', '.join(cols)})")
        if dialect == "postgresql":
            what = "batch" if table is spec.parent else "version"
            on = "batch_id" if table is spec.parent else f"record_id, {quote_ident(vcol)}"
            out.append(f"CREATE INDEX IF NOT EXISTS {table.name}_{what} "
                       f"ON staging.{table.name} ({on})")
    return out


def ensure_staging(wh: Warehouse, kinds) -> list[str]:
    """Create the staging tables of every kind that has none yet; the tables created."""
    have = {r[0] for r in wh.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'staging'")}
    created = []
    for spec in kinds:
        missing = [t.name for t in spec.tables if t.name not in have]
        if not missing:
            continue
        with wh.transaction():
            for statement in staging_ddl(spec, wh.dialect):
                wh.execute(statement)
        created += missing
    return created
