import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from deflect.core.units import default_reference_path
from tests.warehouse.helpers import STAGING, merge, table_counts, tracs_form, write_batch
from transforms import CurrentRows
from warehouse import last_as_of, load_batch, refresh
from warehouse.backend import database_errors
from warehouse.refresh import REPORTING_DEFLECTION

AS_OF = dt.date(2026, 11, 1)


def fake_build(current, units, as_of):
    """A stand-in for transforms.build_marts: one deflection per current TraCS deflection row,
    W01 when it names no approving unit. Enough to exercise the warehouse's side."""
    current = CurrentRows.from_tables(current)
    forms = current.tracs_field_report.set_index("record_id")
    rows, flags = [], []
    for d in current.tracs_deflection.itertuples():
        did = f"D{d.record_id}-{d.seq}"
        unit = d.approving_unit or "UNATTRIBUTED"
        codes = [] if d.approving_unit else ["W01"]
        due = d.referral_date + dt.timedelta(days=90)
        rows.append(dict(
            deflection_id=did, person_key=None, referral_date=d.referral_date,
            referral_quarter=f"{d.referral_date.year}-Q{(d.referral_date.month - 1) // 3 + 1}",
            pathway=d.pathway, approving_unit_code=unit,
            originating_agency_type=forms.loc[d.record_id, "originating_agency_type"],
            county_fips=forms.loc[d.record_id, "county_fips"], sources="TRACS", sex="M",
            race="W", ethnicity="N", age_at_referral=d.age_at_referral,
            first_evaluation_date=None, evaluated_within_90_days=False, outcome="PENDING",
            prosecutor_submission_date=None, flags=",".join(codes), tracs_record_id=d.record_id,
            tracs_seq=d.seq, meg_record_id=None, meg_subject_id=None, first_due_date=due,
            overdue=as_of > due, approval_date=d.approval_date,
        ))
        flags += [dict(deflection_id=did, code=c, source=d.source, file_name=d.file_name,
                       record_id=d.record_id, line=d.line, message="no approval recorded")
                  for c in codes]
    defl = pd.DataFrame(rows, columns=[*REPORTING_DEFLECTION, "tracs_record_id", "tracs_seq",
                                       "meg_record_id", "meg_subject_id", "first_due_date",
                                       "overdue", "approval_date"])
    counts = (defl.groupby(["approving_unit_code", "referral_quarter", "pathway"]).size()
              .rename("deflections").reset_index()) if len(defl) else pd.DataFrame(
        columns=["approving_unit_code", "referral_quarter", "pathway", "deflections"])
    compliance = pd.DataFrame([
        dict(approving_unit_code=u, referral_quarter=q, referrals=len(g),
             due=int((g.first_due_date <= as_of).sum()), evaluated_within_90_days=0,
             overdue=int(g.overdue.sum()), pct_evaluated_within_90_days=None)
        for (u, q), g in defl.groupby(["approving_unit_code", "referral_quarter"])
    ], columns=["approving_unit_code", "referral_quarter", "referrals", "due",
                "evaluated_within_90_days", "overdue", "pct_evaluated_within_90_days"])
    return SimpleNamespace(deflection=defl, deflection_flag=pd.DataFrame(flags),
                           deflection_counts=counts, followup_compliance=compliance)


def load_two_forms(wh, tmp_path):
    rows = merge(tracs_form("FR-26-0000001", 1),
                 tracs_form("FR-26-0000002", 1, line=40, deflections=(("1", "OFFICER_PREVENTION", None),)))
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", rows))


def test_refresh_fills_reporting(wh, tmp_path):
    load_two_forms(wh, tmp_path)
    result = refresh(wh, kinds=STAGING, run_id="run-1", as_of=AS_OF, build=fake_build)
    assert result.deflections == 2 and result.flags_added == 1
    rows = wh.query("SELECT deflection_id, approving_unit_code, pathway, flags, "
                    "referral_date FROM reporting.deflection ORDER BY deflection_id")
    assert rows == [
        ("DFR-26-0000001-1", "SIEG", "SELF_REFERRAL", "", dt.date(2026, 10, 24)),
        ("DFR-26-0000002-1", "UNATTRIBUTED", "OFFICER_PREVENTION", "W01", dt.date(2026, 10, 24)),
    ]
    assert wh.query("SELECT sum(deflections) FROM reporting.deflection_counts") == [(2,)]
    assert wh.query("SELECT referrals, due, overdue FROM reporting.followup_compliance "
                    "WHERE approving_unit_code = 'SIEG'") == [(1, 0, 0)]
    assert wh.query("SELECT code, level, deflection_id, record_id, run_id FROM quality.finding") == [
        ("W01", "deflection", "DFR-26-0000002-1", "FR-26-0000002", "run-1")]
    assert last_as_of(wh) == AS_OF
    assert wh.scalar("SELECT count(*) FROM marts.dim_pathway") == 5
    assert wh.query("SELECT min(date_day), max(date_day) FROM marts.dim_date") == [
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31))]


def test_second_refresh_with_same_inputs_changes_nothing(wh, tmp_path):
    load_two_forms(wh, tmp_path)
    refresh(wh, kinds=STAGING, run_id="run-1", as_of=AS_OF, build=fake_build)
    before = table_counts(wh)
    snapshot = wh.query("SELECT * FROM reporting.deflection ORDER BY deflection_id")
    again = refresh(wh, kinds=STAGING, run_id="run-2", as_of=AS_OF, build=fake_build)
    assert again.flags_added == 0
    assert table_counts(wh) == before
    assert wh.query("SELECT * FROM reporting.deflection ORDER BY deflection_id") == snapshot
    assert wh.query("SELECT DISTINCT run_id FROM quality.finding") == [("run-1",)]


def test_as_of_of_the_last_run_is_what_followup_reflects(wh, tmp_path):
    load_two_forms(wh, tmp_path)
    refresh(wh, kinds=STAGING, run_id="run-1", as_of=AS_OF, build=fake_build)
    refresh(wh, kinds=STAGING, run_id="run-2", as_of=dt.date(2027, 2, 1), build=fake_build)
    assert last_as_of(wh) == dt.date(2027, 2, 1)
    assert wh.query("SELECT sum(due), sum(overdue) FROM reporting.followup_compliance") == [(2, 2)]


def test_withdrawn_deflection_leaves_reporting_and_flag_history_stays(wh, tmp_path):
    load_two_forms(wh, tmp_path)
    refresh(wh, kinds=STAGING, run_id="run-1", as_of=AS_OF, build=fake_build)
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "tracs",
                               tracs_form("FR-26-0000002", 2, status="Voided")))
    refresh(wh, kinds=STAGING, run_id="run-2", as_of=AS_OF, build=fake_build)
    assert wh.query("SELECT deflection_id FROM reporting.deflection") == [("DFR-26-0000001-1",)]
    assert wh.scalar("SELECT count(*) FROM quality.finding WHERE code = 'W01'") == 1


def test_unit_reference_history_and_a_stewards_edit(wh, tmp_path):
    refresh(wh, kinds=STAGING, run_id="run-1", as_of=AS_OF, build=fake_build)
    batf = wh.query("SELECT valid_from, valid_to, county_fips FROM reporting.unit "
                    "WHERE unit_code = 'BATF' ORDER BY valid_from")
    assert [r[:2] for r in batf] == [(dt.date(2000, 1, 1), dt.date(2019, 12, 31)),
                                     (dt.date(2020, 1, 1), None)]
    assert batf[1][2] == "17195;17073;17175;17015;17103"
    assert wh.scalar("SELECT count(*) FROM marts.dim_unit_county WHERE unit_code = 'BATF'") == 10
    # the steward closes SIEG's row and adds a new one with another county, then re-runs
    edited = tmp_path / "units.csv"
    text = default_reference_path().read_text(encoding="utf-8")
    text = text.replace("SIEG,Southern Illinois Enforcement Group,MEG,17077;17087;17199,2000-01-01,,",
                        "SIEG,Southern Illinois Enforcement Group,MEG,17077;17087;17199,2000-01-01,2026-06-30,\n"
                        "SIEG,Southern Illinois Enforcement Group,MEG,17077;17087;17199;17181,2026-07-01,,")
    edited.write_text(text, encoding="utf-8")
    refresh(wh, kinds=STAGING, run_id="run-2", as_of=AS_OF, units_path=edited, build=fake_build)
    assert wh.query("SELECT valid_from, valid_to FROM marts.dim_unit WHERE unit_code = 'SIEG' "
                    "ORDER BY valid_from") == [(dt.date(2000, 1, 1), dt.date(2026, 6, 30)),
                                               (dt.date(2026, 7, 1), None)]


def test_refresh_is_all_or_nothing(wh, tmp_path):
    load_two_forms(wh, tmp_path)
    refresh(wh, kinds=STAGING, run_id="run-1", as_of=AS_OF, build=fake_build)
    before = wh.query("SELECT * FROM reporting.deflection ORDER BY deflection_id")

    def broken(current, units, as_of):
        marts = fake_build(current, units, as_of)
        marts.deflection_counts = pd.DataFrame({"approving_unit_code": [None], "referral_quarter": [None],
                                                "pathway": ["SELF_REFERRAL"], "deflections": [1]})
        return marts

    with pytest.raises(database_errors()):  # NOT NULL violation
        refresh(wh, kinds=STAGING, run_id="run-2", as_of=dt.date(2027, 1, 1), build=broken)
    assert wh.query("SELECT * FROM reporting.deflection ORDER BY deflection_id") == before
    assert last_as_of(wh) == AS_OF


def test_evaluations_of_meg_deflections_land_in_fct_evaluation(wh, tmp_path):
    from tests.warehouse.helpers import meg_case

    rid = "SIEG/SIEG-2026-0001"
    load_batch(wh, STAGING, write_batch(tmp_path, "m1", "meg", meg_case(
        rid, "2026-10-22T10:00:00", evaluations=(("1", "2026-10-01", "NOC"),
                                                 ("1", "2026-11-02", "ENG")))))

    def build(tables, units, as_of):
        from transforms.marts import evaluation_frame

        marts = fake_build(tables, units, as_of)
        current = CurrentRows.from_tables(tables)
        d = current.meg_deflection.iloc[0]
        marts.deflection = pd.DataFrame([dict(
            {c: None for c in marts.deflection.columns}, deflection_id="DM1",
            referral_date=d.referral_date, referral_quarter="2026-Q4", approving_unit_code="SIEG",
            sources="MEG", flags="W07", outcome="PENDING", evaluated_within_90_days=True,
            meg_record_id=rid, meg_subject_id="1")])
        marts.evaluation = evaluation_frame(current, marts.deflection)
        return marts

    refresh(wh, kinds=STAGING, run_id="run-1", as_of=AS_OF, build=build)
    assert wh.query("SELECT evaluation_date, result, before_referral FROM marts.fct_evaluation "
                    "ORDER BY evaluation_date") == [(dt.date(2026, 10, 1), "NOC", True),
                                                    (dt.date(2026, 11, 2), "ENG", False)]
