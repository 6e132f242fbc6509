"""§2: person key, linking passes, identity, late arrival, authority."""
import hashlib

import pandas as pd

from deflect.core.person_key import person_key
from tests.transforms.builders import (
    KEY_A,
    KEY_B,
    D,
    flags,
    marts,
    meg_case,
    meg_deflection,
    only,
    person,
    tracs_form,
)
from transforms.linking import deflection_id, link


def test_spec_person_key_vectors():
    secret = b"example-secret"
    assert person_key(secret, "Núñez", "José", "1982-08-08") == (
        "477d973dab14ba41452cb3258f9c951e2f2ff4d4dc7a244ce482fee479a7c60a")
    assert person_key(secret, "Strauß", "Anna-Lena", "1990-01-02") == (
        "a0115195174a116f3c873e0a748bc56656b838e92850f81fe4a8b3408c55d1f4")
    # the same person written without accents in the other system gets the same key, and links
    key_t = person_key(secret, "Núñez", "José", "1982-08-08")
    key_m = person_key(secret, "NUNEZ", "jose", "1982-08-08")
    row = only(tracs_form(people=[person(key=key_t)]),
               meg_case(subjects={1: (key_m, "M", "W")}))
    assert row["sources"] == "TRACS+MEG" and "W10" not in row["flags"]


def frame(*pairs):
    return pd.DataFrame(pairs, columns=["report", "key"], dtype=object)


def pairs_of(links):
    return {(int(t), int(m), bool(w)) for t, m, w in links[["t_i", "m_i", "by_report"]].to_numpy()}


def test_link_by_key_one_to_one():
    links = link(frame(("R1", "k1"), ("R1", "k2")), frame(("R1", "k2"), ("R1", "k1")))
    assert pairs_of(links) == {(0, 1, False), (1, 0, False)}


def test_multiple_match_links_none():
    # two MEG deflections with the same report and key: pass 1 links none of the three, and
    # pass 2 sees one TraCS individual against two MEG deflections: no link either
    links = link(frame(("R1", "k1")), frame(("R1", "k1"), ("R1", "k1")))
    assert pairs_of(links) == {(0, -1, False), (-1, 0, False), (-1, 1, False)}
    # two TraCS individuals (two forms with the same report) with the same key: same
    links = link(frame(("R1", "k1"), ("R1", "k1")), frame(("R1", "k1")))
    assert pairs_of(links) == {(0, -1, False), (1, -1, False), (-1, 0, False)}


def test_null_keys_never_match_by_key_but_link_by_report():
    links = link(frame(("R1", None)), frame(("R1", None)))
    assert pairs_of(links) == {(0, 0, True)}


def test_pass_two_counts_only_what_pass_one_left():
    # report R1: two TraCS CD individuals, two MEG deflections; one pair shares a key, the others
    # differ: pass 1 links the first pair, pass 2 sees one leftover on each side and links them
    links = link(frame(("R1", "k1"), ("R1", "k2")), frame(("R1", "k1"), ("R1", "k9")))
    assert pairs_of(links) == {(0, 0, False), (1, 1, True)}
    # with two leftovers on the MEG side pass 2 links nothing
    links = link(frame(("R1", "k1"), ("R1", "k2")),
                 frame(("R1", "k1"), ("R1", "k8"), ("R1", "k9")))
    assert pairs_of(links) == {(0, 0, False), (1, -1, False), (-1, 1, False), (-1, 2, False)}


def test_meg_without_report_never_links():
    links = link(frame(("R1", "k1")), frame((None, "k1")))
    assert pairs_of(links) == {(0, -1, False), (-1, 0, False)}


def test_deflection_id_formula():
    members = ["TRACS:FR-26-0000001:1", "MEG:SIEG/SIEG-2026-0001:1"]
    expected = "D" + hashlib.sha256(
        b"MEG:SIEG/SIEG-2026-0001:1\nTRACS:FR-26-0000001:1").hexdigest()[:24]
    assert deflection_id(members) == expected == deflection_id(list(reversed(members)))
    row = only(tracs_form(), meg_case())
    assert row["deflection_id"] == expected


def test_w10_and_w11_through_build():
    assert "W10" in flags(tracs_form(people=[person(key=KEY_A)]),
                          meg_case(subjects={1: (KEY_B, "F", "W")}))
    assert "W10" not in flags(tracs_form(), meg_case())
    # the MEG case names a report TraCS has not delivered: W11 on the MEG deflection
    assert flags(meg_case(report="ISP26-999999")) == {"W11"}
    # no report named: no W11
    assert flags(meg_case(report=None)) == set()
    # a TraCS deflection alone is never W11
    assert "W11" not in flags(tracs_form())


def test_w11_for_every_unlinked_meg_deflection_of_a_multiple_match():
    m = marts(tracs_form(),
              meg_case(case="SIEG-2026-0001"), meg_case(case="SIEG-2026-0002"))
    by_source = dict(zip(m.deflection["meg_record_id"].fillna("-"), m.deflection["flags"]))
    # the TraCS deflection stays TraCS-only: 61 days after the referral it is W20
    assert by_source == {"SIEG/SIEG-2026-0001": "W11", "SIEG/SIEG-2026-0002": "W11", "-": "W20"}
    assert len(m.deflection) == 3


def test_late_arrival_links_and_changes_the_id():
    alone = only(meg_case())
    assert alone["sources"] == "MEG" and alone["flags"] == "W11"
    assert alone["deflection_id"] == deflection_id(["MEG:SIEG/SIEG-2026-0001:1"])
    both = only(meg_case(), tracs_form())
    assert both["sources"] == "TRACS+MEG" and both["flags"] == ""
    assert both["deflection_id"] != alone["deflection_id"]
    # the reverse order of arrival gives the same result
    assert only(tracs_form())["sources"] == "TRACS"


def test_id_stable_while_links_unchanged():
    first = only(tracs_form(), meg_case())
    later = only(tracs_form(version=2, export_date=D(2026, 10, 31)),
                 meg_case(last_modified="2026-10-20T08:00:00",
                          deflections=[meg_deflection(evaluations=[D(2026, 10, 1)])]))
    assert first["deflection_id"] == later["deflection_id"]


def test_authority_for_a_linked_pair():
    row = only(
        tracs_form(occurred=D(2026, 8, 30), county="17077", origin="ISP_DCI",
                   people=[person(sex="M", race="W", ethnicity="H", pathway="OFFICER_PREVENTION",
                                  referral=D(2026, 8, 31), unit="SIEG", age=40)]),
        meg_case(county="17199", origin="LOCAL", subjects={1: (KEY_A, "F", "B")},
                 deflections=[meg_deflection(pathway="ACTIVE_OUTREACH", referral=D(2026, 9, 2),
                                             age=41, outcome="SUCCESSFUL",
                                             prosecutor=D(2026, 10, 1))]),
    )
    # MEG: referral, pathway, outcome, prosecutor submission
    assert row["referral_date"] == D(2026, 9, 2) and row["pathway"] == "ACTIVE_OUTREACH"
    assert row["outcome"] == "SUCCESSFUL" and row["prosecutor_submission_date"] == D(2026, 10, 1)
    # TraCS: origin, county, sex, race, ethnicity, age, person key
    assert (row["originating_agency_type"], row["county_fips"]) == ("ISP_DCI", "17077")
    assert (row["sex"], row["race"], row["ethnicity"], row["age_at_referral"]) == ("M", "W", "H", 40)
    assert row["person_key"] == KEY_A


def test_blank_authoritative_value_falls_back_to_the_other_side():
    row = only(
        tracs_form(people=[person(key=None, sex=None, race=None, age=None)]),
        meg_case(subjects={1: (KEY_B, "F", "B")},
                 deflections=[meg_deflection(age=52)]),
    )
    assert row["flags"] == "W10"
    assert (row["person_key"], row["sex"], row["race"], row["age_at_referral"]) == (
        KEY_B, "F", "B", 52)
    assert row["ethnicity"] == "N"


def test_meg_only_has_no_ethnicity_and_tracs_only_is_pending():
    meg = only(meg_case(report=None))
    assert meg["ethnicity"] is None and meg["sources"] == "MEG"
    tracs = only(tracs_form())
    assert tracs["outcome"] == "PENDING" and tracs["first_evaluation_date"] is None
