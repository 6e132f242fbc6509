"""quality.followup_worklist (migration 0013): the approving units' follow-up list (directive
III.E.1-2), on both backends, with the real rules; no personal data; documented."""
import datetime as dt

import pandas as pd

from deflect.pipeline import build_marts
from tests.warehouse.helpers import (
    STAGING,
    assert_columns_documented,
    assert_view_written_once_with_grants,
    meg_case,
    merge,
    tracs_form,
    write_batch,
)
from tests.warehouse.test_migrate import columns_of
from warehouse import load_batch, refresh

AS_OF = dt.date(2027, 3, 1)

COLUMNS = [
    ("approving_unit_code", "text"), ("deflection_id", "text"), ("tracs_report_number", "text"),
    ("tracs_record_id", "text"), ("meg_record_id", "text"), ("meg_subject_id", "text"),
    ("sources", "text"), ("originating_agency_type", "text"), ("pathway", "text"),
    ("referral_date", "date"), ("referral_quarter", "text"), ("due_date", "date"),
    ("due", "boolean"), ("first_evaluation_date", "date"),
    ("evaluated_within_90_days", "boolean"), ("overdue", "boolean"), ("outcome", "text"),
    ("prosecutor_submission_date", "date"), ("w15_followup_gap", "boolean"),
    ("w16_not_submitted_to_prosecutor", "boolean"),
    ("w19_case_manager_not_contacted", "boolean"), ("as_of", "date"),
]
# the personal columns of reporting.deflection; names and birth dates are nowhere in the warehouse
# (the end-to-end test scans every table and view for the generator's names and birth dates)
PERSONAL = {"person_key", "sex", "race", "ethnicity", "age_at_referral"}


def test_columns_and_no_personal_data(wh):
    assert columns_of(wh, "quality.followup_worklist") == COLUMNS
    for column, _ in COLUMNS:
        assert column not in PERSONAL and "name" not in column and "birth" not in column, column


def _load(wh, tmp_path):
    """A TraCS-only deflection (no case-manager contact) and a MEG-only one that ended
    unsuccessful, not submitted to the prosecutor."""
    case = meg_case("SIEG/SIEG-2026-0001", "2026-11-02T10:00:00",
                    evaluations=(("1", "2026-11-02", "UNS"),))
    case["stg_meg__deflection"][0]["outcome"] = "UNSUCCESSFUL"
    case["stg_meg__deflection"][0]["case_manager_contact_date"] = "2026-10-22"
    case["stg_meg__deflection"][0]["approver_role"] = "DIRECTOR"
    load_batch(wh, STAGING, write_batch(tmp_path, "b1", "tracs", merge(
        tracs_form("FR-26-0000001", 1, report="ISP26-000123"))))
    load_batch(wh, STAGING, write_batch(tmp_path, "b2", "meg", case))
    refresh(wh, kinds=STAGING, run_id="run-1", as_of=AS_OF, build=build_marts)


def _rows(wh) -> dict[str, dict]:
    frame = wh.read_frame("SELECT * FROM quality.followup_worklist ORDER BY deflection_id")
    return {r["sources"]: r for r in frame.to_dict(orient="records")}


def test_one_row_per_counted_deflection_with_its_follow_up(wh, tmp_path):
    _load(wh, tmp_path)
    assert wh.scalar("SELECT count(*) FROM quality.followup_worklist") == \
        wh.scalar("SELECT count(*) FROM reporting.deflection") == 2
    rows = _rows(wh)
    t, m = rows["TRACS"], rows["MEG"]
    assert (t["approving_unit_code"], t["tracs_report_number"], t["tracs_record_id"],
            t["meg_record_id"]) == ("SIEG", "ISP26-000123", "FR-26-0000001", None)
    assert (m["approving_unit_code"], m["tracs_report_number"], m["meg_record_id"],
            m["meg_subject_id"]) == ("SIEG", None, "SIEG/SIEG-2026-0001", "1")
    assert _date(t["referral_date"]) == dt.date(2026, 10, 24)
    assert _date(t["due_date"]) == dt.date(2026, 10, 24) + dt.timedelta(days=90)
    assert _date(t["as_of"]) == AS_OF and bool(t["due"]) and bool(t["overdue"])
    assert pd.isna(t["first_evaluation_date"])
    # TraCS only, no contact, more than 92 days with no evaluation: W15 and W19
    assert (bool(t["w15_followup_gap"]), bool(t["w16_not_submitted_to_prosecutor"]),
            bool(t["w19_case_manager_not_contacted"])) == (True, False, True)
    # MEG: evaluated, unsuccessful, not submitted (W16); contacted the day after the referral
    assert _date(m["first_evaluation_date"]) == dt.date(2026, 11, 2)
    assert not bool(m["overdue"]) and m["outcome"] == "UNSUCCESSFUL"
    assert (bool(m["w15_followup_gap"]), bool(m["w16_not_submitted_to_prosecutor"]),
            bool(m["w19_case_manager_not_contacted"])) == (False, True, False)
    # the flags agree with reporting.deflection's
    flags = dict(wh.query("SELECT deflection_id, flags FROM reporting.deflection"))
    for r in rows.values():
        codes = set(flags[r["deflection_id"]].split(","))
        assert bool(r["w15_followup_gap"]) == ("W15" in codes)
        assert bool(r["w16_not_submitted_to_prosecutor"]) == ("W16" in codes)
        assert bool(r["w19_case_manager_not_contacted"]) == ("W19" in codes)


def test_due_follows_the_as_of_date(wh, tmp_path):
    _load(wh, tmp_path)
    wh.execute("UPDATE meta.refresh_state SET as_of = ?", [dt.date(2027, 1, 21)])
    assert not bool(_rows(wh)["TRACS"]["due"])  # due 2027-01-22
    wh.execute("UPDATE meta.refresh_state SET as_of = ?", [dt.date(2027, 1, 22)])
    assert bool(_rows(wh)["TRACS"]["due"])


def _date(value):
    return value.date() if isinstance(value, dt.datetime) else value


def test_the_view_is_written_once_and_postgresql_adds_only_grants():
    assert_view_written_once_with_grants(13, "quality.followup_worklist")


def test_every_column_is_documented():
    assert_columns_documented("quality.followup_worklist", COLUMNS)
