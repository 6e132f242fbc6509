"""Hand-made canonical rows for transforms tests: every column present, defaults filled.

A TraCS form or MEG case is a list of (table, row) pairs; `current(...)` turns any number of them
into the CurrentRows the warehouse would pass (object columns, plain Python values)."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from adapters.registry import staging_columns

TABLES = staging_columns()
from deflect.core.units import load_units
from transforms import CurrentRows, build_marts

D = dt.date
AS_OF = D(2026, 11, 1)
SOON = D(2026, 9, 15)  # two weeks after the default referral: a TraCS-only deflection is not W20 yet
UNITS = load_units()
KEY_A = "a" * 64
KEY_B = "b" * 64
DAY = D(2026, 9, 1)  # default occurrence, referral and approval date
EXPORT = D(2026, 10, 30)  # default export date
# default approver role: a designee fits both unit types (W18); the default case-manager contact
# is on the referral date (no W19); pass role=None or cm_contact=None for a blank one
ROLE = "DESIGNEE"
REFERRAL = object()  # cm_contact default: the deflection's referral date


def _row(table: str, **values) -> tuple[str, dict]:
    unknown = set(values) - set(TABLES[table])
    assert not unknown, unknown
    return table, {c: values.get(c) for c in TABLES[table]}


def person(seq=1, key=KEY_A, disposition="CD", sex="M", race="W", ethnicity="N", **deflection):
    """A TraCS individual; keyword arguments are its deflection's (None: no deflection row)."""
    return {"seq": seq, "key": key, "disposition": disposition, "sex": sex, "race": race,
            "ethnicity": ethnicity, "deflection": deflection if disposition == "CD" else None}


def tracs_form(record_id="FR-26-0000001", version=1, status="Transmitted", report="ISP26-000001",
               occurred=DAY, county="17199", origin="ISP_DOP",
               export_date=EXPORT, people=None, items=(), file_name=None):
    file_name = file_name or f"TRACS_IL0849800_{export_date:%Y%m%d}T013000_0001.xml"
    lineage = {"source": "tracs-isp", "file_name": file_name, "file_sha256": "f" * 64, "line": 10}
    rows = [_row("stg_tracs__field_report", **lineage, record_id=record_id, form_version=version,
                 status=status, last_modified=f"{export_date.isoformat()}T00:00:00-05:00",
                 export_created_at=f"{export_date.isoformat()}T01:30:00-05:00",
                 export_date=export_date, report_number=report, date_occurred=occurred,
                 division=origin[4:] if origin.startswith("ISP_") else None,
                 originating_agency_type=origin, county_fips=county)]
    for p in people if people is not None else [person()]:
        rows.append(_row("stg_tracs__individual", **lineage, record_id=record_id,
                         form_version=version, seq=p["seq"], role="01", person_key=p["key"],
                         sex=p["sex"], race=p["race"], ethnicity=p["ethnicity"],
                         disposition=p["disposition"]))
        d = p["deflection"]
        if d is None:
            continue
        d = {"pathway": "SELF_REFERRAL", "unit": "SIEG", "role": ROLE,
             "approval_date": D(2026, 9, 1), "referral": D(2026, 9, 1), "abeyance": "N",
             "age": 30, **d}
        d.setdefault("cm_contact", d["referral"])
        approved = d["approval_date"]
        rows.append(_row("stg_tracs__deflection", **{**lineage, "line": 20}, record_id=record_id,
                         form_version=version, seq=p["seq"], pathway=d["pathway"],
                         approving_unit=d["unit"], approver_role=d["role"],
                         approved_at=f"{approved.isoformat()}T12:00:00-05:00" if approved else None,
                         approval_date=approved, referral_date=d["referral"],
                         case_manager_contact_date=d["cm_contact"],
                         charges_held_in_abeyance=d["abeyance"], age_at_referral=d["age"]))
    for i, (seized, status_) in enumerate(items, start=1):
        rows.append(_row("stg_tracs__evidence_item", **lineage, record_id=record_id,
                         form_version=version, seq=i, seized=seized, item_status=status_))
    return rows


def meg_deflection(subject=1, referral=DAY, pathway="SELF_REFERRAL",
                   unit="SIEG", approval_date=DAY, evaluations=(), outcome="PENDING",
                   prosecutor=None, disposal=None, age=30, cm_contact=REFERRAL, role=ROLE,
                   disposal_method="DESTROYED"):
    """A MEG deflection; `disposal` is the EvidenceDisposal date (None: no element), with
    `disposal_method`; `role` is the Approval's (there is none when `unit` is None)."""
    return {"subject": subject, "referral": referral, "pathway": pathway, "unit": unit,
                "approval_date": approval_date, "evaluations": evaluations, "outcome": outcome,
                "prosecutor": prosecutor, "disposal": disposal, "age": age,
                "cm_contact": referral if cm_contact is REFERRAL else cm_contact, "role": role,
                "disposal_method": disposal_method}


def meg_case(case="SIEG-2026-0001", unit="SIEG", last_modified="2026-10-02T10:00:00",
             status="OPEN", report="ISP26-000001", origin="ISP_DOP", county="17199",
             export_date=EXPORT, subjects=None, deflections=None):
    """A MEG case; `subjects` maps SubjectId -> (person key, sex, race)."""
    record_id = f"{unit}/{case}"
    lineage = {"source": f"meg-{unit.lower()}", "file_sha256": "e" * 64,
                   "file_name": f"CaseActivity_{unit}_{export_date:%Y%m%d}.xml"}
    rows = [_row("stg_meg__case", **lineage, line=5, record_id=record_id, unit=unit,
                 case_number=case, last_modified=last_modified, status=status,
                 export_date=export_date, opened_date=D(2026, 9, 1),
                 originating_agency_type=origin, tracs_report_number=report, county_fips=county)]
    deflections = [meg_deflection()] if deflections is None else deflections
    subjects = subjects or {d["subject"]: (KEY_A, "F", "B") for d in deflections}
    for sid, (key, sex, race) in subjects.items():
        rows.append(_row("stg_meg__subject", **lineage, line=8, record_id=record_id,
                         last_modified=last_modified, subject_id=str(sid), person_key=key,
                         sex=sex, race=race))
    for d in deflections:
        approved = d["approval_date"] if d["unit"] else None
        rows.append(_row("stg_meg__deflection", **lineage, line=30, record_id=record_id,
                         last_modified=last_modified, subject_id=str(d["subject"]),
                         referral_date=d["referral"], pathway=d["pathway"],
                         approved_at=f"{approved.isoformat()}T09:00:00" if approved else None,
                         approval_date=approved, approving_unit=d["unit"],
                         approver_role=d["role"] if d["unit"] else None,
                         case_manager_contact_date=d["cm_contact"],
                         prosecutor_submission_date=d["prosecutor"],
                         evidence_disposal_date=d["disposal"],
                         evidence_disposal_method=d["disposal_method"] if d["disposal"] else None,
                         outcome=d["outcome"], age_at_referral=d["age"]))
        for e in d["evaluations"]:
            rows.append(_row("stg_meg__evaluation", **lineage, line=31, record_id=record_id,
                             last_modified=last_modified, subject_id=str(d["subject"]),
                             evaluation_date=e, result="ENG"))
    return rows


_ATTR = {
    "stg_tracs__field_report": "tracs_field_report",
    "stg_tracs__individual": "tracs_individual",
    "stg_tracs__deflection": "tracs_deflection",
    "stg_tracs__evidence_item": "tracs_evidence_item",
    "stg_meg__case": "meg_case",
    "stg_meg__subject": "meg_subject",
    "stg_meg__deflection": "meg_deflection",
    "stg_meg__evaluation": "meg_evaluation",
}


def current(*records) -> CurrentRows:
    rows = {t: [] for t in TABLES}
    for record in records:
        for table, row in record:
            rows[table].append(row)
    return CurrentRows(**{
        attr: pd.DataFrame(rows[t], columns=list(TABLES[t]), dtype=object)
        for t, attr in _ATTR.items()
    })


def marts(*records, as_of=AS_OF, units=None):
    return build_marts(current(*records), UNITS if units is None else units, as_of)


def only(*records, as_of=AS_OF) -> dict:
    """The single deflection row the records give, as a dict."""
    frame = marts(*records, as_of=as_of).deflection
    assert len(frame) == 1, frame
    return frame.iloc[0].to_dict()


def flags(*records, as_of=AS_OF) -> set[str]:
    value = only(*records, as_of=as_of)["flags"]
    return set(value.split(",")) if value else set()
