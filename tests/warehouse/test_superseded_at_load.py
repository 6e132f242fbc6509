"""Migration 0025: the load records which entries its staging supersedes (an entry's own version
staged from another file), so that the state view no longer joins every entry with every staged
version when it is read. Its rows must stay those of 0023's definition, on both backends: for
entries loaded before and after their copy, of both kinds, not superseded by a copy of the same
file, and for entries written before the migration (checked by it, once)."""
import shutil

from tests.warehouse.helpers import (
    SHA_A,
    SHA_B,
    STAGING,
    meg_case,
    state_rows_of,
    tracs_form,
    write_batch,
)
from tests.warehouse.test_load import quarantine_row
from warehouse import connect, load_batch
from warehouse.migrate import migrate, migrations_dir


def _states_both_ways(wh) -> tuple[list[tuple], list[tuple]]:
    new = wh.query("SELECT * FROM quality.quarantine_state ORDER BY quarantine_id")
    return state_rows_of(wh, 23), [tuple(r) for r in new]


def _entry(qid, record_id, version, file_sha, file_name="q.xml"):
    return {"quarantine": [quarantine_row(qid, record_id, version, f"r-{qid}", file_sha=file_sha,
                                          file_name=file_name)]}


def _load_the_cases(wh, tmp_path) -> None:
    # copy first: FR-1 v3 staged from file A (run-1), then its entry from file B (run-2)
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", tracs_form("FR-1", 3),
                                        run_id="run-1"))
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", _entry("q1", "FR-1", "3", SHA_B),
                                        run_id="run-2"))
    # entry first: FR-2 v2 quarantined from file B (run-3), then staged from file A (run-4)
    load_batch(wh, STAGING, write_batch(tmp_path, "b3", "tracs", _entry("q2", "FR-2", "2", SHA_B),
                                        run_id="run-3"))
    load_batch(wh, STAGING, write_batch(tmp_path, "b4", "tracs", tracs_form("FR-2", 2),
                                        run_id="run-4"))
    # the same file's copy does not supersede: FR-3 v1 quarantined and staged from file A
    load_batch(wh, STAGING, write_batch(tmp_path, "b5", "tracs", _entry("q3", "FR-3", "1", SHA_A),
                                        run_id="run-5"))
    load_batch(wh, STAGING, write_batch(tmp_path, "b6", "tracs", tracs_form("FR-3", 1),
                                        run_id="run-6"))
    # a MEG case, entry first, then its version from another file
    version = "2026-10-22T10:00:00"
    load_batch(wh, STAGING, write_batch(tmp_path, "m1", "meg",
                                        _entry("q4", "SIEG/SIEG-2026-0001", version, SHA_B),
                                        run_id="run-7"))
    load_batch(wh, STAGING, write_batch(tmp_path, "m2", "meg",
                                        meg_case("SIEG/SIEG-2026-0001", version), run_id="run-8"))
    # an entry never copied
    load_batch(wh, STAGING, write_batch(tmp_path, "b7", "tracs", _entry("q5", "FR-5", "1", SHA_B),
                                        run_id="run-9"))


def _write_the_cases(wh) -> None:
    """Entries and staged versions as loads before 0025 wrote them (a few columns)."""
    for seq in range(1, 7):
        wh.execute("INSERT INTO meta.load_audit (batch_id, load_seq, run_id, source, kind) "
                   "VALUES (?, ?, ?, 'tracs-isp', 'tracs')", [f"b{seq}", seq, f"run-{seq}"])
    for qid, record_id, version, sha, seq in (("q1", "FR-1", "3", SHA_B, 2),
                                              ("q2", "FR-2", "2", SHA_B, 3),
                                              ("q3", "FR-3", "1", SHA_A, 5),
                                              ("q5", "FR-5", "1", SHA_B, 6)):
        wh.execute("INSERT INTO meta.quarantine (quarantine_id, run_id, source, kind, file_name, "
                   "file_sha256, level, record_id, record_version, codes, status, load_seq) "
                   "VALUES (?, ?, 'tracs-isp', 'tracs', 'q.xml', ?, 'record', ?, ?, 'S01', "
                   "'open', ?)", [qid, f"run-{seq}", sha, record_id, version, seq])
    for record_id, version, seq in (("FR-1", 3, 1), ("FR-2", 2, 4), ("FR-3", 1, 5)):
        wh.execute("INSERT INTO staging.stg_tracs__field_report (source, file_name, file_sha256, "
                   "record_id, form_version, batch_id, load_seq) VALUES ('tracs-isp', 'f.xml', "
                   "?, ?, ?, ?, ?)", [SHA_A, record_id, version, f"b{seq}", seq])


def test_loads_record_what_the_view_derived(wh, tmp_path):
    _load_the_cases(wh, tmp_path)
    old, new = _states_both_ways(wh)
    assert new == old
    states = {r[0]: (r[1], r[2]) for r in new}
    assert states == {"q1": ("superseded", "run-1"), "q2": ("superseded", "run-4"),
                      "q3": ("open", None), "q4": ("superseded", "run-8"), "q5": ("open", None)}
    # recorded by the loads, not looked up by the view
    assert sorted(wh.query("SELECT quarantine_id, superseded_checked FROM meta.quarantine")) == [
        (q, True) for q in ("q1", "q2", "q3", "q4", "q5")]
    assert sorted(wh.query("SELECT quarantine_id FROM meta.quarantine "
                           "WHERE superseded_load_seq IS NOT NULL")) == [("q1",), ("q2",), ("q4",)]


def test_entries_written_before_the_migration_are_checked_by_it(warehouse_url, tmp_path):
    before = tmp_path / "migrations"
    before.mkdir()
    for path in migrations_dir().iterdir():
        if path.name[:4].isdigit() and int(path.name[:4]) < 25:
            shutil.copy(path, before / path.name)
    with connect(warehouse_url) as wh:
        migrate(wh, before)
        _write_the_cases(wh)  # as 0023's loads left them: nothing recorded on the entries
        old, _ = _states_both_ways(wh)
        upto25 = tmp_path / "migrations-25"
        shutil.copytree(before, upto25)
        for path in migrations_dir().glob("0025_*"):
            shutil.copy(path, upto25)
        assert migrate(wh, upto25) == [25]
        assert wh.scalar("SELECT count(*) FROM meta.quarantine "
                         "WHERE NOT superseded_checked") == 0
        again, new = _states_both_ways(wh)
        assert new == again == old
        assert {r[0]: r[1] for r in new}["q2"] == "superseded"


def test_rows_written_by_other_means_are_still_looked_up(wh, tmp_path):
    _load_the_cases(wh, tmp_path)
    # an entry written without the load (as a fixture or a repair would): not checked
    wh.execute("INSERT INTO meta.quarantine (quarantine_id, run_id, source, kind, file_name, "
               "file_sha256, level, record_id, record_version, codes, status, load_seq) VALUES "
               "('q6', 'run-x', 'tracs-isp', 'tracs', 'x.xml', ?, 'record', 'FR-1', '3', 'S01', "
               "'open', 99)", ["c" * 64])
    old, new = _states_both_ways(wh)
    assert new == old
    assert {r[0]: r[1] for r in new}["q6"] == "superseded"
