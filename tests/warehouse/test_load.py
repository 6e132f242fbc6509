import pytest

from bench.load_ab import contents
from tests.warehouse.helpers import (
    SHA_A,
    SHA_B,
    STAGING,
    current,
    meg_case,
    merge,
    table_counts,
    tracs_form,
    write_batch,
)
from warehouse import WarehouseError, load_batch
from warehouse.backend import database_errors


def current_version(wh, record_id):
    rows = current(wh, include_withdrawn=True).tracs_field_report
    return rows.loc[rows.record_id == record_id, "form_version"].tolist()


def test_loading_the_same_batch_twice_changes_nothing(wh, tmp_path):
    bdir = write_batch(tmp_path, "b1", "tracs", merge(tracs_form("FR-26-0000001", 1),
                                                      tracs_form("FR-26-0000002", 1, line=40)))
    first = load_batch(wh, STAGING, bdir)
    assert not first.skipped
    assert first.records_loaded == 2
    assert first.rows_staged["stg_tracs__field_report"] == 2
    assert first.rows_staged["stg_tracs__individual"] == 2
    before = table_counts(wh)
    again = load_batch(wh, STAGING, bdir)
    assert again.skipped
    assert table_counts(wh) == before


def test_a_new_batch_with_the_same_records_adds_nothing(wh, tmp_path):
    rows = tracs_form("FR-26-0000001", 1)
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", rows))
    before = table_counts(wh, ("staging",))
    result = load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", rows))
    assert result.records_loaded == 0
    assert table_counts(wh, ("staging",)) == before


def test_newer_version_replaces_current_older_and_equal_change_nothing(wh, tmp_path):
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", tracs_form("FR-26-0000001", 2)))
    newer = load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", tracs_form(
        "FR-26-0000001", 3, deflections=(("1", "OFFICER_INTERVENTION", "SIEG"),))))
    assert newer.records_loaded == 1
    assert current_version(wh, "FR-26-0000001") == [3]
    # an older version arriving late is kept in history but is not current
    older = load_batch(wh, STAGING, write_batch(tmp_path, "b3", "tracs", tracs_form("FR-26-0000001", 1)))
    assert older.records_loaded == 0
    assert older.rows_staged["stg_tracs__field_report"] == 1
    # an equal version with different bytes changes nothing: the first copy wins
    equal = load_batch(wh, STAGING, write_batch(tmp_path, "b4", "tracs", tracs_form(
        "FR-26-0000001", 3, file_sha=SHA_B, deflections=(("1", "SELF_REFERRAL", "DMEG"),))))
    assert equal.records_loaded == 0 and sum(equal.rows_staged.values()) == 0
    now = current(wh)
    assert current_version(wh, "FR-26-0000001") == [3]
    assert now.tracs_deflection.pathway.tolist() == ["OFFICER_INTERVENTION"]
    assert now.tracs_deflection.file_sha256.tolist() == [SHA_A]
    assert wh.scalar("SELECT count(*) FROM staging.stg_tracs__field_report") == 3


def test_children_come_from_exactly_the_current_version(wh, tmp_path):
    v1 = tracs_form("FR-26-0000001", 1, people=(("1", "CD", "k" * 64), ("2", "AR", None)),
                    deflections=(("1", "SELF_REFERRAL", "SIEG"),), items=(("1", "Y", "HELD"),))
    v2 = tracs_form("FR-26-0000001", 2, people=(("1", "AR", "k" * 64),), deflections=(),
                    items=(("1", "Y", "DESTROYED"),))
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", v1))
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", v2))
    cur = current(wh)
    assert cur.tracs_individual[["seq", "disposition"]].values.tolist() == [[1, "AR"]]
    assert len(cur.tracs_deflection) == 0
    assert cur.tracs_evidence_item.item_status.tolist() == ["DESTROYED"]


def test_two_versions_in_one_batch_count_once(wh, tmp_path):
    rows = merge(tracs_form("FR-26-0000001", 1), tracs_form("FR-26-0000001", 2, line=50))
    result = load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", rows))
    assert result.records_loaded == 1
    assert current_version(wh, "FR-26-0000001") == [2]


def test_same_version_twice_in_one_batch_loads_the_first_copy(wh, tmp_path):
    rows = merge(
        tracs_form("FR-26-0000001", 1, file_name="TRACS_b.xml", file_sha=SHA_B),
        tracs_form("FR-26-0000001", 1, file_name="TRACS_a.xml", file_sha=SHA_A),
    )
    result = load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", rows))
    assert result.rows_staged["stg_tracs__field_report"] == 1
    assert result.rows_staged["stg_tracs__individual"] == 1
    assert current(wh).tracs_field_report.file_name.tolist() == ["TRACS_a.xml"]


def test_a_row_repeated_whole_in_one_batch_stages_once(wh, tmp_path):
    """Two lines alike in every column (the same file twice): the parent is staged once, from
    one of them; its children, matched by version and file, go in as they are."""
    form = tracs_form("FR-26-0000001", 1)
    rows = merge(form, form)
    result = load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", rows))
    assert result.rows_staged["stg_tracs__field_report"] == 1 and result.records_loaded == 1
    assert result.rows_staged["stg_tracs__individual"] == 2
    assert wh.scalar("SELECT count(*) FROM staging.stg_tracs__field_report") == 1


def test_voided_form_stays_in_history_but_not_current(wh, tmp_path):
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", tracs_form("FR-26-0000001", 1)))
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs",
                               tracs_form("FR-26-0000001", 2, status="Voided")))
    cur = current(wh)
    assert len(cur.tracs_field_report) == 0 and len(cur.tracs_deflection) == 0
    assert wh.scalar("SELECT count(*) FROM staging.stg_tracs__deflection") == 2
    withdrawn = current(wh, include_withdrawn=True).tracs_field_report
    assert withdrawn[["form_version", "status"]].values.tolist() == [[2, "Voided"]]


def test_meg_newest_last_modified_wins_and_void_withdraws(wh, tmp_path):
    rid = "SIEG/SIEG-2026-0001"
    load_batch(wh, STAGING, write_batch(tmp_path, "m1", "meg", meg_case(rid, "2026-10-22T10:00:00")))
    newer = load_batch(wh, STAGING, write_batch(tmp_path, "m2", "meg", meg_case(
        rid, "2026-10-23T09:00:00", evaluations=(("1", "2026-11-01", "ENG"),
                                                 ("1", "2026-11-20", "TRT")))))
    assert newer.records_loaded == 1
    older = load_batch(wh, STAGING, write_batch(tmp_path, "m3", "meg", meg_case(rid, "2026-10-21T08:00:00")))
    assert older.records_loaded == 0
    cur = current(wh)
    assert cur.meg_case.last_modified.tolist() == ["2026-10-23T09:00:00"]
    assert len(cur.meg_evaluation) == 2
    assert cur.meg_deflection.referral_date.map(type).tolist() == [type(cur.meg_deflection.referral_date[0])]
    load_batch(wh, STAGING, write_batch(tmp_path, "m4", "meg", meg_case(rid, "2026-10-24T09:00:00",
                                                               status="VOID")))
    cur = current(wh)
    assert len(cur.meg_case) == 0 and len(cur.meg_deflection) == 0
    assert wh.scalar("SELECT count(*) FROM staging.stg_meg__case") == 4


def test_current_rows_hold_plain_python_values(wh, tmp_path):
    import datetime as dt

    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", tracs_form("FR-26-0000001", 1)))
    cur = current(wh)
    form = cur.tracs_field_report.iloc[0]
    assert form.export_date == dt.date(2026, 10, 25)
    assert type(form.form_version) is int and form.time_occurred is None
    people = tracs_form("FR-26-0000002", 1, people=(("1", "CD", None),))
    people["stg_tracs__individual"][0]["seq"] = None
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", people))
    individual = current(wh).tracs_individual.iloc[1]
    assert individual.seq is None and individual.person_key is None
    defl = cur.tracs_deflection.iloc[0]
    assert defl.age_at_referral == 34 and defl.case_manager_contact_date is None
    assert defl.co_responder_type is None


def test_copy_path_is_used_for_every_csv(wh, tmp_path, monkeypatch):
    from warehouse import load_batches

    calls = []
    real = type(wh).copy_csv_files

    def spy(self, table, files, columns, tag):
        calls.append((table, [(p.parent.name, p.name, n) for p, n in files]))
        return real(self, table, files, columns, tag)

    monkeypatch.setattr(type(wh), "copy_csv_files", spy)
    b1 = write_batch(tmp_path, "b1", "tracs", tracs_form("FR-26-0000001", 1))
    b2 = write_batch(tmp_path, "b2", "tracs", tracs_form("FR-26-0000002", 1))
    with_rows = sorted(p.name for p in b1.glob("*.csv") if len(p.read_text().splitlines()) > 1)
    assert "finding.csv" not in with_rows  # header only: costs no statement at all
    load_batches(wh, STAGING, [b1, b2])
    # one call per table for both batches, each file with its batch's position
    assert sorted(calls) == [(f"load_{name[:-4]}", [("b1", name, 0), ("b2", name, 1)])
                             for name in with_rows]
    assert with_rows == sorted([
        "stg_tracs__field_report.csv", "stg_tracs__individual.csv", "stg_tracs__deflection.csv",
    ])


def test_csv_files_copied_together_keep_each_files_number(wh, tmp_path):
    """Several files in one statement: quoted line ends, doubled quotes, a last line without
    its end and a file of one row all come back with their own file's number."""
    from warehouse.backend import csv_records

    texts = [
        'a,b\n1,"two\nlines"\n2,"say ""x""\n, and\n""y"""\n3,\n',
        'a,b\n4,plain',  # no line end after the last row
        'b,a\nfive,5\n',  # the same columns in another order: a file of its own
        'a,b\n"6",""\n7,"8"\n',
    ]
    paths = []
    for i, text in enumerate(texts):
        path = tmp_path / f"f{i}.csv"
        path.write_bytes(text.encode())
        paths.append(path)
    assert [csv_records(p) for p in paths] == [3, 1, 1, 2]
    wh.execute("CREATE TEMP TABLE copy_probe (a text, b text, n integer)")
    wh.copy_csv_files("copy_probe", [(paths[0], 10), (paths[1], 11), (paths[3], 13)],
                      ["a", "b"], "n")
    wh.copy_csv_files("copy_probe", [(paths[2], 12)], ["b", "a"], "n")
    got = wh.query("SELECT n, a, b FROM copy_probe ORDER BY a")
    wh.execute("DROP TABLE copy_probe")
    assert got == [(10, "1", "two\nlines"), (10, "2", 'say "x"\n, and\n"y"'), (10, "3", None),
                   (11, "4", "plain"), (12, "5", "five"), (13, "6", None), (13, "7", "8")]


def test_column_types_are_those_information_schema_gives(wh):
    """PostgreSQL's types come from its catalog, cheaper to ask than information_schema."""
    from warehouse.load import _sql_type, column_types

    expected: dict = {}
    for schema, table, column, dtype in wh.query(
            "SELECT table_schema, table_name, column_name, data_type "
            "FROM information_schema.columns "
            "WHERE table_schema IN ('staging', 'meta', 'marts', 'reporting') "
            "ORDER BY table_schema, table_name, ordinal_position"):
        expected.setdefault((schema, table), {})[column] = _sql_type(dtype)
    assert {"numeric", "timestamp with time zone", "date", "boolean", "integer"} <= {
        t for cols in expected.values() for t in cols.values()}
    wh.column_types.clear()
    for (schema, table), cols in expected.items():
        got = column_types(wh, schema, table)
        assert got == cols and list(got) == list(cols), (schema, table)


def test_temp_tables_are_created_once_per_connection_and_start_empty(wh, tmp_path, monkeypatch):
    created = []
    real = type(wh).execute

    def spy(self, sql, params=None):
        if sql.startswith("CREATE TEMP TABLE"):
            created.append(sql.split()[6])  # CREATE TEMP TABLE IF NOT EXISTS <name>
        return real(self, sql, params)

    monkeypatch.setattr(type(wh), "execute", spy)
    first = load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", tracs_form("FR-26-0000001", 1)))
    # three CSV tables, the candidates, the map of the batches and the batches that can resolve
    assert len(created) == len(set(created)) == 6
    second = load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", tracs_form("FR-26-0000002", 1)))
    assert len(created) == 6  # the same tables again, no new statement
    # the second load saw only its own rows: nothing of b1 was staged twice
    assert first.rows_staged == second.rows_staged
    assert sorted(current(wh).tracs_field_report.record_id) == [
        "FR-26-0000001", "FR-26-0000002"]


def test_a_bad_header_fails_the_batch_and_loads_nothing(wh, tmp_path):
    bdir = write_batch(tmp_path, "b1", "tracs", tracs_form("FR-26-0000001", 1))
    path = bdir / "stg_tracs__individual.csv"
    text = path.read_text().replace("person_key", "first_name", 1)
    path.write_text(text)
    with pytest.raises(WarehouseError, match="first_name"):
        load_batch(wh, STAGING, bdir)
    assert sum(table_counts(wh, ("staging", "meta")).values()) == 0


def test_a_failure_midway_rolls_back_the_whole_batch(wh, tmp_path):
    rows = tracs_form("FR-26-0000001", 1)
    rows["stg_tracs__deflection"][0]["referral_date"] = "not-a-date"
    with pytest.raises(database_errors()):
        load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", rows))
    assert sum(table_counts(wh, ("staging", "meta")).values()) == 0
    # and the batch can be loaded once fixed
    assert load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs",
                                      tracs_form("FR-26-0000001", 1))).records_loaded == 1


def ledger_row(name, sha, status, run_id="run-1", size=100, mtime=1761300000):
    return dict(remote_name=name, size=size, mtime=mtime, sha256=sha, status=status,
                run_id=run_id, handled_at="2026-11-01T03:00:00+00:00")


def test_ledger_upsert_and_pending_placeholder(wh, tmp_path):
    name = "TRACS_IL0849800_20261025T013000_1.xml"
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs",
                               {"file_ledger": [ledger_row(name, None, "pending")]}))
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs",
                               {"file_ledger": [ledger_row(name, SHA_A, "quarantined", "run-2")]}))
    load_batch(wh, STAGING, write_batch(tmp_path, "b3", "tracs",
                               {"file_ledger": [ledger_row(name, SHA_A, "loaded", "run-3")]}))
    rows = wh.query("SELECT remote_name, sha256, status, run_id FROM quality.file_ledger")
    assert rows == [(name, SHA_A, "loaded", "run-3")]


def quarantine_row(qid, record_id, version, rsha, file_sha=SHA_A, file_name="f1.xml"):
    return dict(quarantine_id=qid, run_id="run-1", file_name=file_name, file_sha256=file_sha,
                level="record", record_id=record_id, record_version=version,
                record_sha256=rsha, codes="S01", line=12, raw_path="quarantine/x.xml")


def finding_row(record_id, rsha, file_sha=SHA_A, file_name="f1.xml", line=14, code="S01"):
    return dict(run_id="run-1", file_name=file_name, file_sha256=file_sha, record_id=record_id,
                record_sha256=rsha, code=code, level="record", line=line, column=7,
                path="/x:Case/x:OpenedDate", message="not a valid date")


def test_same_quarantined_record_again_adds_no_entry_nor_finding(wh, tmp_path):
    rid = "SIEG/SIEG-2026-0001"
    first = {"quarantine": [quarantine_row("q1", rid, "2026-10-22T10:00:00", "r" * 64)],
             "finding": [finding_row(rid, "r" * 64)]}
    res = load_batch(wh, STAGING, write_batch(tmp_path, "m1", "meg", first))
    assert (res.quarantine_added, res.findings_added) == (1, 1)
    # the cumulative file of the next day carries the same unchanged record on another line
    again = {"quarantine": [quarantine_row("q2", rid, "2026-10-22T10:00:00", "r" * 64,
                                           file_sha=SHA_B, file_name="f2.xml")],
             "finding": [finding_row(rid, "r" * 64, file_sha=SHA_B, file_name="f2.xml", line=90)]}
    res = load_batch(wh, STAGING, write_batch(tmp_path, "m2", "meg", again))
    assert (res.quarantine_added, res.findings_added) == (0, 0)
    assert wh.scalar("SELECT count(*) FROM quality.quarantine") == 1
    assert wh.scalar("SELECT count(*) FROM quality.finding") == 1


def test_file_level_findings_recorded_once_per_file(wh, tmp_path):
    row = dict(run_id="run-1", file_name="f.xml", file_sha256=SHA_A, code="F01", level="file",
               line=3, column=1, message="not well-formed")
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", {"finding": [row]}))
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", {"finding": [dict(row, run_id="run-2")]}))
    load_batch(wh, STAGING, write_batch(tmp_path, "b3", "tracs", {"finding": [dict(row, file_sha256=SHA_B)]}))
    assert wh.scalar("SELECT count(*) FROM quality.finding") == 2
    assert wh.query('SELECT "column" FROM quality.finding LIMIT 1') == [(1,)]


def test_quarantine_resolved_when_a_later_version_loads(wh, tmp_path):
    rid = "FR-26-0000001"
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", {
        "quarantine": [quarantine_row("q1", rid, "2", "r" * 64)]}))
    # an older valid version does not resolve it
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", tracs_form(rid, 1)))
    assert wh.query("SELECT status FROM quality.quarantine") == [("open",)]
    res = load_batch(wh, STAGING, write_batch(tmp_path, "b3", "tracs", tracs_form(rid, 3), run_id="run-3"))
    assert res.quarantine_resolved == 1
    assert wh.query("SELECT status, resolved_run_id FROM quality.quarantine") == [
        ("resolved", "run-3")]


def test_an_entry_older_than_a_version_already_staged_is_resolved_by_its_own_load(wh, tmp_path):
    # The load looks only at the versions it staged and the entries it added (both sides of
    # the rule): here the entry is the new side, its resolving version staged loads before.
    rid = "FR-26-0000001"
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", tracs_form(rid, 3)))
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", tracs_form("FR-26-0000002", 1)))
    res = load_batch(wh, STAGING, write_batch(tmp_path, "b3", "tracs", {
        "quarantine": [quarantine_row("q1", rid, "2", "r" * 64)]}, run_id="run-3"))
    assert res.quarantine_resolved == 1
    assert wh.query("SELECT status, resolved_run_id FROM quality.quarantine") == [
        ("resolved", "run-3")]
    # and a later load of another record resolves nothing else
    res = load_batch(wh, STAGING, write_batch(tmp_path, "b4", "tracs",
                                              tracs_form("FR-26-0000002", 2)))
    assert res.quarantine_resolved == 0


def test_quarantined_version_that_cannot_be_read_resolves_on_any_later_load(wh, tmp_path):
    rid = "SIEG/SIEG-2026-0001"
    load_batch(wh, STAGING, write_batch(tmp_path, "m1", "meg", {
        "quarantine": [quarantine_row("q1", rid, "2026-13-45T99:00", "r" * 64)]}))
    load_batch(wh, STAGING, write_batch(tmp_path, "m2", "meg",
                               meg_case(rid, "2026-10-22T10:00:00", file_sha=SHA_B)))
    assert wh.query("SELECT status FROM quality.quarantine") == [("resolved",)]


def test_audit_row_per_batch(wh, tmp_path):
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", tracs_form("FR-26-0000001", 1),
                               files_seen=3, files_loaded=1, records_extracted=1))
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", {}))
    rows = wh.query("SELECT batch_id, load_seq, files_seen, records_loaded, rows_staged "
                    "FROM meta.load_audit ORDER BY load_seq")
    assert rows == [("b1", 1, 3, 1, 3), ("b2", 2, None, 0, 0)]


def test_stray_table_of_the_other_source_is_refused(wh, tmp_path):
    bdir = write_batch(tmp_path, "b1", "tracs", meg_case("SIEG/SIEG-2026-0001", "2026-10-22T10:00:00"))
    with pytest.raises(WarehouseError, match="stg_meg"):
        load_batch(wh, STAGING, bdir)


def test_header_only_tables_of_the_other_source_are_accepted(wh, tmp_path):
    # Ingestion writes every canonical table, header-only where its kind has no rows.
    form = tracs_form("FR-26-0000001", 1)
    empty_meg = {name: [] for name in meg_case("SIEG/SIEG-2026-0001", "2026-10-22T10:00:00")}
    result = load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", merge(form, empty_meg)))
    assert result.records_loaded == 1
    assert table_counts(wh)["staging.stg_meg__case"] == 0


def test_insert_frame_coerces_pandas_types(wh):
    import datetime as dt

    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({
        "deflection_id": ["D1", "D2"],
        "referral_date": pd.to_datetime(["2026-10-24", None]),
        "age_at_referral": [34.0, np.nan],
        "evaluated_within_90_days": np.array([True, False]),
        "tracs_seq": pd.array([1, None], dtype="Int64"),
    })
    wh.insert_frame("marts.fct_deflection", frame, list(frame.columns))
    assert wh.query("SELECT deflection_id, referral_date, age_at_referral, "
                    "evaluated_within_90_days, tracs_seq FROM marts.fct_deflection "
                    "ORDER BY deflection_id") == [
        ("D1", dt.date(2026, 10, 24), 34, True, 1), ("D2", None, None, False, None)]


# -- several batches in one load -------------------------------------------------------------

def _cross_batch_sequence(root):
    """Batches whose outcome depends on the ones before them, for every rule of the load."""
    rid, rid2, late, meg = "FR-26-0000001", "FR-26-0000002", "FR-26-0000009", "SIEG/SIEG-26-1"
    name = "TRACS_IL0849800_20261025T013000_1.xml"
    fa = dict(file_sha=SHA_A, file_name="f1.xml")
    fb = dict(file_sha=SHA_B, file_name="f2.xml")
    return [
        write_batch(root, "b1", "tracs", merge(
            tracs_form(rid, 1), tracs_form(rid2, 2, line=40),
            {"quarantine": [quarantine_row("q1", rid, "3", "r" * 64)],
             "finding": [finding_row(rid, "r" * 64), finding_row(rid, "r" * 64, line=20)],
             "file_ledger": [ledger_row(name, None, "pending")]})),
        # a newer version, the same version again, an older one; the same record version's
        # findings from another file; the pending file downloaded
        write_batch(root, "b2", "tracs", merge(
            tracs_form(rid, 2, file_sha=SHA_B), tracs_form(rid, 1, file_sha=SHA_B, line=60),
            tracs_form(rid2, 1, file_sha=SHA_B, line=80),
            {"finding": [finding_row(rid, "r" * 64, **fb)],
             "file_ledger": [ledger_row(name, SHA_A, "loaded", "run-2")]}), run_id="run-2"),
        # listed as pending again after its download; a version that cannot be read
        write_batch(root, "b3", "tracs", {
            "file_ledger": [ledger_row(name, None, "pending", "run-3")],
            "quarantine": [quarantine_row("q2", late, "x", "s" * 64, file_sha=SHA_B)],
            "finding": [finding_row(late, "s" * 64, **fb), finding_row(late, "s" * 64, **fa)]},
            run_id="run-3"),
        # resolves q1 (a version after 3) and q2 (any version from another file)
        write_batch(root, "b4", "tracs", merge(tracs_form(rid, 4, line=90),
                                               tracs_form(late, 1, line=99)), run_id="run-4"),
        write_batch(root, "m1", "meg", meg_case(meg, "2026-10-22T10:00:00")),
        write_batch(root, "m2", "meg", merge(
            meg_case(meg, "2026-10-23T10:00:00", file_sha=SHA_B),
            {"quarantine": [quarantine_row("q3", meg, "2026-10-24T10:00:00", "t" * 64)]})),
        write_batch(root, "m3", "meg", meg_case(meg, "2026-10-25T10:00:00", file_sha=SHA_B)),
    ]


def _contents(wh):
    # load_run is written by the run's load (deflect.pipeline), not by load_batches
    return contents(wh, exclude=("load_run",))


def test_batches_loaded_together_equal_batches_loaded_one_after_another(wh, tmp_path):
    from tests.warehouse.conftest import reset
    from warehouse import load_batches

    dirs = _cross_batch_sequence(tmp_path)
    one_by_one = [load_batch(wh, STAGING, d) for d in dirs]
    expected = _contents(wh)
    assert expected["meta.quarantine"] and any(r.quarantine_resolved for r in one_by_one)
    reset(wh)
    together = load_batches(wh, STAGING, [*dirs, dirs[0]])  # the same batch twice: the second is skipped
    assert _contents(wh) == expected
    assert together[:-1] == one_by_one and together[-1].skipped
    statuses = dict(wh.query("SELECT quarantine_id, status FROM meta.quarantine"))
    assert statuses == {"q1": "resolved", "q2": "resolved", "q3": "resolved"}
    assert wh.query("SELECT status FROM meta.file_ledger WHERE sha256 IS NULL") == [("pending",)]


def test_a_bad_batch_fails_the_whole_load_before_anything_is_written(wh, tmp_path):
    from warehouse import load_batches

    good = write_batch(tmp_path, "b1", "tracs", tracs_form("FR-26-0000001", 1))
    bad = write_batch(tmp_path, "b2", "tracs", tracs_form("FR-26-0000002", 1))
    path = bad / "stg_tracs__individual.csv"
    path.write_text(path.read_text().replace("person_key", "first_name", 1))
    with pytest.raises(WarehouseError, match="b2/stg_tracs__individual.csv"):
        load_batches(wh, STAGING, [good, bad])
    assert sum(table_counts(wh, ("staging", "meta")).values()) == 0


def test_many_batches_go_in_statements_of_bounded_size(wh, tmp_path, monkeypatch):
    """PostgreSQL takes at most 65,535 parameters in a statement: rows are sent in parts."""
    from warehouse import load, load_batches

    monkeypatch.setattr(load, "ROWS_PER_STATEMENT", 2)
    dirs = _cross_batch_sequence(tmp_path / "parts")
    together = load_batches(wh, STAGING, [*dirs, dirs[0]])
    assert len(together) == 8 and together[-1].skipped
    assert [r.load_seq for r in together[:-1]] == list(range(1, 8))
    assert wh.scalar("SELECT count(*) FROM meta.load_audit") == 7
    assert dict(wh.query("SELECT quarantine_id, status FROM meta.quarantine")) == {
        "q1": "resolved", "q2": "resolved", "q3": "resolved"}


def test_loads_inside_a_callers_transaction_do_not_see_each_others_rows(wh, tmp_path):
    first = write_batch(tmp_path, "b1", "tracs", tracs_form("FR-26-0000001", 1))
    second = write_batch(tmp_path, "b2", "tracs", tracs_form("FR-26-0000002", 1))
    with wh.transaction():
        one = load_batch(wh, STAGING, first)
        two = load_batch(wh, STAGING, second)
    assert one.rows_staged == two.rows_staged
    assert sorted(current(wh).tracs_field_report.record_id) == [
        "FR-26-0000001", "FR-26-0000002"]


def test_a_miscounted_file_fails_the_copy_rather_than_mislabel_rows(wh, tmp_path, monkeypatch):
    from warehouse import backend

    if wh.dialect != "postgresql":
        pytest.skip("DuckDB reads the files one by one: nothing is counted")
    path = tmp_path / "f.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    monkeypatch.setattr(backend, "csv_records", lambda p: 1)
    wh.execute("CREATE TEMP TABLE copy_probe (a text, b text, n integer)")
    try:
        with pytest.raises(WarehouseError, match="COPY read 2 rows of files holding 1"), \
                wh.transaction():
            wh.copy_csv_files("copy_probe", [(path, 1)], ["a", "b"], "n")
    finally:
        wh.execute("DROP TABLE copy_probe")


def test_a_load_that_grows_a_table_a_lot_analyzes_it_first(wh, tmp_path, monkeypatch):
    """PostgreSQL plans the resolution and supersession joins from the tables' statistics: a
    load that grew a table by many rows (a year's backfill into an empty warehouse) analyzes
    it inside its transaction first; a night's load does not."""
    from warehouse import load as load_mod

    statements = []
    execute = wh.execute
    monkeypatch.setattr(wh, "execute", lambda sql, *a, **k: (
        statements.append(" ".join(sql.split())), execute(sql, *a, **k))[1])

    def analyzed():
        return sorted(s for s in statements if s.startswith("ANALYZE"))

    rows = merge(*(tracs_form(f"FR-26-000000{i}", 1, line=10 * i) for i in range(1, 4)),
                 {"quarantine": [quarantine_row(f"q{i}", f"FR-26-10000{i}", "1", str(i) * 64)
                                 for i in range(1, 4)]})
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", rows))
    assert analyzed() == []  # a few rows: the statistics PostgreSQL has will do
    monkeypatch.setattr(load_mod, "ANALYZE_MIN_ROWS", 3)
    rows2 = merge(*(tracs_form(f"FR-26-000001{i}", 1, line=10 * i) for i in range(1, 4)),
                  {"quarantine": [quarantine_row(f"q2{i}", f"FR-26-20000{i}", "1", str(i) * 64)
                                  for i in range(1, 4)]})
    res = load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs", rows2))
    assert res.rows_staged["stg_tracs__field_report"] == 3 and res.quarantine_added == 3
    if wh.dialect == "postgresql":
        assert [" ".join(s.split()[:2]) for s in analyzed()] == [
            "ANALYZE meta.quarantine", "ANALYZE staging.stg_tracs__field_report"]
        assert analyzed()[1].endswith('("record_id", "form_version", "load_seq", "file_sha256")')
    else:  # DuckDB plans without them
        assert analyzed() == []
