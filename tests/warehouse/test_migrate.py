import pytest

from warehouse import connect, migrate
from warehouse.backend import database_errors
from warehouse.migrate import list_migrations

# reporting-contract.md: every view, its columns in order, their PostgreSQL types
CONTRACT = {
    "reporting.deflection": [
        ("deflection_id", "text"), ("person_key", "text"), ("referral_date", "date"),
        ("referral_quarter", "text"), ("pathway", "text"), ("approving_unit_code", "text"),
        ("originating_agency_type", "text"), ("county_fips", "text"), ("sources", "text"),
        ("sex", "text"), ("race", "text"), ("ethnicity", "text"), ("age_at_referral", "integer"),
        ("first_evaluation_date", "date"), ("evaluated_within_90_days", "boolean"),
        ("outcome", "text"), ("prosecutor_submission_date", "date"), ("flags", "text"),
    ],
    "reporting.deflection_counts": [
        ("approving_unit_code", "text"), ("referral_quarter", "text"), ("pathway", "text"),
        ("deflections", "bigint"),
    ],
    "reporting.followup_compliance": [
        ("approving_unit_code", "text"), ("referral_quarter", "text"), ("referrals", "bigint"),
        ("due", "bigint"), ("evaluated_within_90_days", "bigint"), ("overdue", "bigint"),
        ("pct_evaluated_within_90_days", "numeric"),
    ],
    "reporting.published_deflection_counts": [
        ("approving_unit_code", "text"), ("referral_quarter", "text"), ("deflections", "bigint"),
        ("suppressed", "boolean"), ("vintage_id", "text"), ("origin", "text"),
    ],
    "reporting.load_run": [
        ("run_id", "text"), ("source", "text"), ("started_at", "timestamp with time zone"),
        ("finished_at", "timestamp with time zone"), ("as_of", "date"), ("files_seen", "integer"),
        ("files_loaded", "integer"), ("files_pending", "integer"),
        ("files_quarantined", "integer"), ("files_duplicate", "integer"),
        ("records_loaded", "bigint"), ("records_quarantined", "bigint"), ("status", "text"),
    ],
    "quality.finding": [
        ("run_id", "text"), ("source", "text"), ("file_name", "text"), ("record_id", "text"),
        ("deflection_id", "text"), ("code", "text"), ("level", "text"), ("line", "integer"),
        ("column", "integer"), ("path", "text"), ("message", "text"),
    ],
}

_DUCKDB_TYPES = {"varchar": "text", "timestamp with time zone": "timestamp with time zone"}


def normalise_type(data_type: str) -> str:
    t = data_type.lower()
    if t.startswith(("decimal", "numeric")):
        return "numeric"
    return _DUCKDB_TYPES.get(t, t)


def columns_of(wh, qualified: str) -> list[tuple[str, str]]:
    schema, name = qualified.split(".")
    rows = wh.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    )
    return [(c, normalise_type(t)) for c, t in rows]


def test_migrate_from_empty_creates_every_contract_view(warehouse_url):
    with connect(warehouse_url) as wh:
        applied = migrate(wh)
        assert applied == [m.version for m in list_migrations()]
        for view, expected in CONTRACT.items():
            assert columns_of(wh, view) == expected, view
        for view in CONTRACT:
            assert wh.query(f"SELECT * FROM {view}") == []


def test_migrate_again_changes_nothing(warehouse_url):
    with connect(warehouse_url) as wh:
        migrate(wh)
        before = wh.query("SELECT version, name FROM meta.schema_migrations ORDER BY version")
    with connect(warehouse_url) as wh:
        assert migrate(wh) == []
        after = wh.query("SELECT version, name FROM meta.schema_migrations ORDER BY version")
    assert after == before


def test_staging_tables_are_what_the_adapters_declare(warehouse_url):
    """Migration 0002 and the adapters' declarations (from which a new kind's tables are made)
    give the same tables, column for column and type for type."""
    from adapters.registry import staging_tables
    from warehouse.migrate import ensure_staging, staging_ddl

    with connect(warehouse_url) as wh:
        migrate(wh)
        assert ensure_staging(wh, staging_tables()) == []  # all there already
        migrated = {t.name: columns_of(wh, f"staging.{t.name}")
                    for k in staging_tables() for t in k.tables}
        with wh.transaction():
            for k in staging_tables():
                for t in k.tables:
                    wh.execute(f"ALTER TABLE staging.{t.name} RENAME TO old_{t.name}")
        for k in staging_tables():
            for statement in staging_ddl(k, wh.dialect):
                if statement.startswith("CREATE TABLE"):
                    wh.execute(statement)
        declared = {t.name: columns_of(wh, f"staging.{t.name}")
                    for k in staging_tables() for t in k.tables}
    assert declared == migrated


def test_a_new_kind_gets_its_staging_tables(warehouse_url):
    from deflect.core.canonical import LINEAGE, SourceTables, StagingTable
    from warehouse.migrate import ensure_staging

    parent = StagingTable("stg_rms__report", LINEAGE + ("record_id", "version", "status"),
                          {"line": "integer", "version": "integer"})
    child = StagingTable("stg_rms__person", LINEAGE + ("record_id", "version", "sex"),
                         {"line": "integer", "version": "integer"})
    kind = SourceTables("rms", parent, (child,), "version", "VOID")
    with connect(warehouse_url) as wh:
        migrate(wh)
        assert ensure_staging(wh, [kind]) == ["stg_rms__report", "stg_rms__person"]
        assert ensure_staging(wh, [kind]) == []
        assert ("version", "integer") in columns_of(wh, "staging.stg_rms__person")


def test_staging_tables_hold_every_canonical_column(wh):
    from adapters.registry import staging_columns

    for table, columns in staging_columns().items():
        have = [c for c, _ in columns_of(wh, f"staging.{table}")]
        assert have[: len(columns)] == list(columns), table


def test_quality_views_exist(wh):
    for view in ("quality.quarantine", "quality.file_ledger", "reporting.unit"):
        assert columns_of(wh, view), view


def test_a_failed_migration_leaves_nothing_behind(warehouse_url, tmp_path):
    (tmp_path / "0001_ok.sql").write_text("CREATE SCHEMA IF NOT EXISTS scratch;")
    (tmp_path / "0002_bad.sql").write_text(
        "CREATE TABLE scratch.t (a integer); SELECT * FROM scratch.no_such_table;"
    )
    with connect(warehouse_url) as wh:
        with pytest.raises(database_errors()):
            migrate(wh, tmp_path)
        assert wh.query("SELECT version FROM meta.schema_migrations") == [(1,)]
        tables = wh.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'scratch'"
        )
        assert tables == []


def test_migration_names_are_checked(tmp_path):
    (tmp_path / "0001_a.sql").write_text("")
    (tmp_path / "0001_b.duckdb.sql").write_text("")
    with pytest.raises(ValueError, match="two names"):
        list_migrations(tmp_path)


def test_a_variant_beside_a_portable_file_is_added_on_its_dialect(tmp_path):
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE t (a integer);")
    (tmp_path / "0001_a.postgresql.sql").write_text("THIS IS NOT SQL;")
    (mig,) = list_migrations(tmp_path)
    assert mig.script_for("duckdb") == "CREATE TABLE t (a integer);"
    assert mig.script_for("postgresql") == "CREATE TABLE t (a integer);\nTHIS IS NOT SQL;"
    with connect(f"duckdb://{tmp_path / 'w.duckdb'}") as wh:
        assert migrate(wh, tmp_path) == [1]


def test_dialect_variant_only_for_other_dialect_is_recorded_without_running(tmp_path):
    (tmp_path / "0001_pg_only.postgresql.sql").write_text("THIS IS NOT SQL;")
    with connect(f"duckdb://{tmp_path / 'w.duckdb'}") as wh:
        assert migrate(wh, tmp_path) == [1]
