"""Migration 0023 computes quality.quarantine_state by joins instead of per-entry lookups: the
same rows as 0019's definition, on both backends, for entries of every state and the edge cases
of how a load closes a file entry; on PostgreSQL a plan with no join on an OR. (0023's plan had no
per-row subquery either; 0026 looks up per row what only some rows need, for those rows:
tests/warehouse/test_entry_state_per_row.py.)"""
import re

import pytest

from tests.warehouse.helpers import state_rows_of
from tests.warehouse.test_entry_states import R2, R4, R5, _fill, _id
from warehouse import connect
from warehouse.migrate import list_migrations

R6A, R6B = "20261105T073000Z-eeee0006", "20261105T073000Z-aaaa0006"  # one load_seq, two runs
R7 = "20261106T100000Z-rrrr0007"
TRACS_VERSION = "3"


def _file_entry(wh, label: str, name: str, load_seq: int | None) -> None:
    wh.execute(
        "INSERT INTO meta.quarantine (quarantine_id, run_id, source, kind, file_name, "
        "file_sha256, level, codes, status, load_seq) VALUES (?, ?, 'tracs-isp', 'tracs', ?, ?, "
        "'file', 'F08', 'open', ?)", [_id(label), R2, name, "e" * 64, load_seq])


def _loaded(wh, name: str, run: str, seq: int, *, source="tracs-isp", status="loaded") -> None:
    wh.execute(
        "INSERT INTO meta.file_ledger_history (source, remote_name, status, run_id, batch_id, "
        "load_seq) VALUES (?, ?, ?, ?, ?, ?)", [source, name, status, run, f"h{seq}-{name}", seq])


def _fill_edges(wh) -> dict[str, tuple[str, str | None]]:
    """Entries beyond test_entry_states' set; each label -> (state, state_run_id) expected."""
    for batch, run in (("b6a", R6A), ("b6b", R6B), ("b7", R7)):
        wh.execute("INSERT INTO meta.load_audit (batch_id, load_seq, run_id, source, kind) "
                   "VALUES (?, ?, ?, 'tracs-isp', 'tracs')", [batch, 7 if run == R7 else 6, run])
    # re-delivered by name at 6 and replayed at 7: the first of the two closes it
    _file_entry(wh, "both", "both.xml", 2)
    _loaded(wh, "both.xml", R6A, 6)
    _loaded(wh, "fixed-both.xml", R7, 7)
    wh.execute("INSERT INTO meta.replay (run_id, source, file_name, replay_of_run_id, entry_id) "
               "VALUES (?, 'tracs-isp', 'fixed-both.xml', ?, ?)", [R7, R2, _id("both")])
    # loads that do not close an entry: before it, of another source, not loaded
    _file_entry(wh, "early", "early.xml", 5)
    _loaded(wh, "early.xml", R4, 4)
    _file_entry(wh, "elsewhere", "elsewhere.xml", 2)
    _loaded(wh, "elsewhere.xml", R4, 4, source="meg-sieg")
    _file_entry(wh, "refused-again", "refused.xml", 2)
    _loaded(wh, "refused.xml", R4, 4, status="quarantined")
    # an entry whose own load is unknown: any later load of its name closes it
    _file_entry(wh, "no-seq", "no-seq.xml", None)
    _loaded(wh, "no-seq.xml", R4, 4)
    # a TraCS record whose version loaded from another file, in a load_seq of two runs
    wh.execute(
        "INSERT INTO meta.quarantine (quarantine_id, run_id, source, kind, file_name, "
        "file_sha256, level, record_id, record_version, codes, status, load_seq) VALUES "
        "(?, ?, 'tracs-isp', 'tracs', 'a.xml', ?, 'record', 'ISP26-9', ?, 'S01', 'open', 2)",
        [_id("tracs-copy"), R2, "e" * 64, TRACS_VERSION])
    wh.execute(
        "INSERT INTO staging.stg_tracs__field_report (source, file_name, file_sha256, record_id, "
        "form_version, batch_id, load_seq) VALUES ('tracs-isp', 'b.xml', ?, 'ISP26-9', ?, 'b6a', "
        "6)", ["f" * 64, int(TRACS_VERSION)])
    return {"both": ("resolved", R6B), "early": ("open", None), "elsewhere": ("open", None),
            "refused-again": ("open", None), "no-seq": ("resolved", R4),
            "tracs-copy": ("superseded", R6B)}


@pytest.fixture
def edges_url(migrated_url):
    with connect(migrated_url) as wh:
        _fill(wh)
        expected = _fill_edges(wh)
    return migrated_url, expected


def test_same_rows_as_the_definition_it_replaces(edges_url):
    url, expected = edges_url
    with connect(url) as wh:
        old = state_rows_of(wh, 19)
        new = wh.query("SELECT * FROM quality.quarantine_state ORDER BY quarantine_id")
        through = wh.query("SELECT quarantine_id, state, state_run_id FROM quality.quarantine")
    assert [tuple(r) for r in new] == [tuple(r) for r in old]
    states = {r[0]: (r[1], r[2]) for r in through}
    assert {s for s, _ in states.values()} == {
        "open", "reviewed", "dismissed", "superseded", "resolved", "replayed"}
    for label, want in expected.items():
        assert states[_id(label)] == want, label
    assert states[_id("file-redelivered")] == ("resolved", R4)
    assert states[_id("file-replayed")] == ("replayed", R5)


@pytest.mark.postgres
def test_plan_has_no_join_on_an_or(edges_url):
    url, _ = edges_url
    if not url.startswith("postgresql"):
        pytest.skip("a PostgreSQL plan")
    with connect(url) as wh:
        plan = "\n".join(r[0] for r in wh.query("EXPLAIN SELECT * FROM quality.quarantine"))
    assert not re.search(r"Join Filter: .* OR ", plan)


def test_the_migration_replaces_the_view_in_place_and_only_indexes_on_postgresql():
    mig = next(m for m in list_migrations() if m.version == 23)
    portable = mig.files["any"].read_text(encoding="utf-8")
    # replaced in place (CREATE OR REPLACE, nothing dropped): the grants of 0014 stay
    assert re.findall(r"^(CREATE|DROP)\b.*$", portable, re.MULTILINE) == ["CREATE"]
    assert "CREATE OR REPLACE VIEW quality.quarantine_state AS" in portable
    extra = mig.files["postgresql"].read_text(encoding="utf-8")
    statements = re.findall(r"^(CREATE|DROP|GRANT|REVOKE)\s+(\w+)", extra, re.MULTILINE)
    assert statements and {kind for _, kind in statements} == {"INDEX"}
