"""Migration 0026 derives each entry's state from its own row: the same rows as 0025's
definition, on both backends; the run that superseded an entry stored by the load (and by the
migration for the entries before it); and on PostgreSQL, a reading restricted by state_run_id
applies the restriction as meta.quarantine is scanned, with no lookup for a record entry a load
has checked."""
import json
import shutil

import pytest

from tests.warehouse.helpers import state_rows_of
from tests.warehouse.test_entry_states import _fill
from tests.warehouse.test_entry_states_set_based import _fill_edges
from tests.warehouse.test_superseded_at_load import _load_the_cases, _write_the_cases
from warehouse import connect
from warehouse.migrate import migrate, migrations_dir

COLUMNS_0019 = (
    "q.quarantine_id, q.run_id, q.source, q.file_name, q.file_sha256, q.level, q.record_id, "
    "q.record_version, q.record_sha256, q.codes, q.line, q.raw_path, q.status, "
    "q.resolved_run_id")


def _entries_as_0025(wh) -> list[tuple]:
    """quality.quarantine's rows as 0025 defined them: the table joined with its state view."""
    rows = {r[0]: r for r in state_rows_of(wh, 25)}
    own = wh.query(f"SELECT {COLUMNS_0019} FROM meta.quarantine q ORDER BY q.quarantine_id")
    return [tuple(r) + tuple(rows[r[0]][1:]) for r in own]


def _entries_now(wh) -> list[tuple]:
    return [tuple(r) for r in wh.query("SELECT * FROM quality.quarantine ORDER BY quarantine_id")]


def test_same_rows_as_0025_after_loads(wh, tmp_path):
    _load_the_cases(wh, tmp_path)
    assert _entries_now(wh) == _entries_as_0025(wh)
    states = [tuple(r) for r in wh.query(
        "SELECT * FROM quality.quarantine_state ORDER BY quarantine_id")]
    assert states == state_rows_of(wh, 25)
    # the loads stored the run with the load
    assert sorted(wh.query("SELECT quarantine_id, superseded_run_id FROM meta.quarantine "
                           "WHERE superseded_load_seq IS NOT NULL")) == [
        ("q1", "run-1"), ("q2", "run-4"), ("q4", "run-8")]


def test_same_rows_as_0025_for_every_state_and_edge(migrated_url):
    with connect(migrated_url) as wh:
        _fill(wh)
        _fill_edges(wh)  # file entries closed in each way, a load_seq of two runs, unchecked
        assert _entries_now(wh) == _entries_as_0025(wh)
        # the same after a load-like update that stores the superseding run (min of two runs)
        wh.execute("UPDATE meta.quarantine SET superseded_checked = TRUE")
        wh.execute("UPDATE meta.quarantine SET superseded_load_seq = 6 "
                   "WHERE record_id = 'ISP26-9'")
        before = _entries_as_0025(wh)
        wh.execute("UPDATE meta.quarantine SET superseded_run_id = (SELECT min(run_id) FROM "
                   "meta.load_audit WHERE load_seq = 6) WHERE record_id = 'ISP26-9'")
        assert _entries_now(wh) == before


def test_the_migration_stores_the_run_of_entries_superseded_before_it(warehouse_url, tmp_path):
    def up_to(last: int):
        folder = tmp_path / f"migrations-{last}"
        folder.mkdir()
        for path in migrations_dir().iterdir():
            if path.name[:4].isdigit() and int(path.name[:4]) <= last:
                shutil.copy(path, folder / path.name)
        return folder

    with connect(warehouse_url) as wh:
        migrate(wh, up_to(24))
        _write_the_cases(wh)  # as loads before 0025 left them
        migrate(wh, up_to(25))  # 0025 records the superseding loads, not their runs
        old = _entries_as_0025(wh)
        assert migrate(wh)[0] == 26
        assert sorted(wh.query("SELECT quarantine_id, superseded_run_id FROM meta.quarantine "
                               "WHERE superseded_load_seq IS NOT NULL")) == [
            ("q1", "run-1"), ("q2", "run-4")]
        assert _entries_now(wh) == old


def _plans(node):
    yield node
    for child in node.get("Plans", []):
        yield from _plans(child)


@pytest.mark.postgres
def test_a_reading_by_state_run_pays_only_for_the_entries_it_keeps(pg_url, tmp_path):
    with connect(pg_url) as wh:
        migrate(wh)
        _load_the_cases(wh, tmp_path)
        wh.execute("ANALYZE")
        (plan,), = wh.query(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT quarantine_id, state FROM quality.quarantine "
            "WHERE NOT (state_run_id IS NOT NULL AND state_run_id <= 'run-4')")
        kept = [r[0] for r in wh.query(
            "SELECT quarantine_id FROM quality.quarantine "
            "WHERE NOT (state_run_id IS NOT NULL AND state_run_id <= 'run-4') "
            "ORDER BY quarantine_id")]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    nodes = list(_plans(plan[0]["Plan"]))
    scans = [n for n in nodes if n.get("Relation Name") == "quarantine"]
    # one scan of the table, which applies the restriction itself
    assert len(scans) == 1 and "Filter" in scans[0]
    assert scans[0]["Actual Rows"] == len(kept) == 3 and scans[0]["Rows Removed by Filter"] == 2
    # every record entry was checked by its load: no lookup ran for any of them
    assert all(n.get("Actual Loops", 0) == 0 for n in nodes
               if n.get("Subplan Name", "").startswith("SubPlan"))
    assert kept == ["q3", "q4", "q5"]
