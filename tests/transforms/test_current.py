"""§1: what counts now; withdrawals; current-version guard; robustness to value types."""
import datetime as dt

import numpy as np
import pandas as pd

from tests.transforms.builders import (
    AS_OF,
    UNITS,
    D,
    current,
    marts,
    meg_case,
    meg_deflection,
    only,
    person,
    tracs_form,
)
from transforms import CurrentRows, build_marts
from transforms.values import ident, local_day


def test_empty_current_rows_give_empty_marts():
    m = build_marts(CurrentRows.empty(), UNITS, AS_OF)
    for frame in (m.deflection, m.deflection_flag, m.deflection_counts, m.followup_compliance):
        assert len(frame) == 0
    assert list(m.deflection.columns[:3]) == ["deflection_id", "person_key", "referral_date"]


def test_only_cd_individuals_count():
    m = marts(tracs_form(people=[person(seq=1), person(seq=2, disposition="AR")]))
    assert list(m.deflection["tracs_seq"]) == [1]


def test_voided_form_withdraws_its_deflections():
    assert len(marts(tracs_form(status="Voided")).deflection) == 0
    # a linked pair whose TraCS form is voided keeps counting from MEG alone, and says so
    row = only(tracs_form(status="Voided"), meg_case())
    assert row["sources"] == "MEG" and row["flags"] == "W11"


def test_void_case_withdraws_its_deflections():
    assert len(marts(meg_case(status="VOID")).deflection) == 0
    assert only(tracs_form(), meg_case(status="VOID"))["sources"] == "TRACS"


def test_deflection_missing_from_the_current_case_is_withdrawn():
    m = marts(meg_case(report=None, deflections=[]))
    assert len(m.deflection) == 0


def test_current_version_guard_picks_the_highest_and_first_on_ties():
    v1 = tracs_form(version=1, people=[person(referral=D(2026, 9, 1))])
    v2 = tracs_form(version=2, people=[person(referral=D(2026, 9, 5))])
    assert only(v2, v1)["referral_date"] == D(2026, 9, 5)
    # the current version withdraws the person: nothing counts
    v3 = tracs_form(version=3, people=[person(disposition="AR")])
    assert len(marts(v1, v2, v3).deflection) == 0
    # two copies of the same version from different files: the first one given wins
    copy = tracs_form(version=2, file_name="TRACS_IL0849800_20261031T013000_0001.xml",
                      people=[person(referral=D(2026, 9, 7))])
    copy = [(t, {**r, "file_sha256": "0" * 64}) for t, r in copy]
    assert only(v2, copy)["referral_date"] == D(2026, 9, 5)
    older = meg_case(last_modified="2026-09-02T10:00:00",
                     deflections=[meg_deflection(referral=D(2026, 8, 1))])
    newer = meg_case(last_modified="2026-09-10T08:00:00")
    assert only(newer, older)["referral_date"] == D(2026, 9, 1)


def test_value_types_nan_na_strings_and_datetimes():
    c = current(tracs_form(), meg_case(deflections=[meg_deflection(evaluations=[D(2026, 9, 20)])]))
    frames = {}
    for name in ("tracs_field_report", "tracs_deflection", "meg_case", "meg_deflection",
                 "meg_evaluation", "meg_subject"):
        f = getattr(c, name).copy()
        for col in f.columns:
            vals = f[col].tolist()
            if all(v is None or isinstance(v, dt.date) for v in vals):
                f[col] = [np.nan if v is None else v.isoformat() for v in vals]  # ISO text
            else:
                f[col] = [pd.NA if v is None else v for v in vals]
        frames[name] = f
    frames["meg_case"]["last_modified"] = [dt.datetime(2026, 10, 2, 10)]
    frames["meg_deflection"]["subject_id"] = [1]  # an int instead of text
    frames["meg_deflection"]["last_modified"] = [dt.datetime(2026, 10, 2, 10)]
    frames["meg_subject"]["last_modified"] = [pd.Timestamp("2026-10-02T10:00:00")]
    for name, f in frames.items():
        setattr(c, name, f)
    row = build_marts(c, UNITS, AS_OF).deflection.iloc[0]
    assert row["sources"] == "TRACS+MEG" and row["flags"] == ""
    assert row["referral_date"] == D(2026, 9, 1)
    assert row["first_evaluation_date"] == D(2026, 9, 20)
    assert row["approval_date"] == D(2026, 9, 1)


def test_local_day_of_instants():
    assert local_day("2026-11-25T01:30:04-06:00") == D(2026, 11, 25)
    assert local_day("2026-11-25T03:30:04Z") == D(2026, 11, 24)  # 21:30 in Chicago
    assert local_day("2026-11-24T22:02:00") == D(2026, 11, 24)  # naive: already local
    assert local_day(dt.datetime(2026, 7, 1, 2, 0, tzinfo=dt.UTC)) == D(2026, 6, 30)
    assert local_day(float("nan")) is None and local_day("") is None and local_day(pd.NaT) is None


def test_tracs_approval_date_derived_from_instant_when_missing():
    form = [(t, {**r, "approval_date": None, "approved_at": "2026-09-02T04:00:00Z"}
             if t == "stg_tracs__deflection" else r) for t, r in tracs_form()]
    assert only(form)["approval_date"] == D(2026, 9, 1)  # 23:00 on Sep 1 in Chicago


def test_ident_spelling():
    assert ident("01") == "1" and ident(3) == "3" and ident(2.0) == "2" and ident(None) is None
