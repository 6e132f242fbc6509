"""Large synthetic CurrentRows built column-wise (for timing build_marts), seeded."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from adapters.registry import staging_columns

TABLES = staging_columns()
from deflect.core.units import load_units
from transforms import CurrentRows

UNITS = [u.unit_code for u in load_units()]
PATHWAYS = ["SELF_REFERRAL", "ACTIVE_OUTREACH", "NALOXONE_PLUS", "OFFICER_PREVENTION",
            "OFFICER_INTERVENTION"]


def _frame(table: str, n: int, **cols) -> pd.DataFrame:
    data = {c: cols.get(c, [None] * n) for c in TABLES[table]}
    return pd.DataFrame({c: list(v) for c, v in data.items()}, dtype=object)


def synthetic_current(n: int, seed: int = 1, other_forms: int = 0) -> CurrentRows:
    """`n` TraCS CD individuals (one form each), `n` MEG deflections (one case each), 80 % of
    them naming a TraCS report with the same person key, two evaluations each, one evidence
    item per form, plus `other_forms` forms without deflection."""
    rng = np.random.default_rng(seed)
    base = dt.date(2026, 1, 1)
    days = [base + dt.timedelta(days=int(x)) for x in rng.integers(0, 300, n)]
    forms = [f"FR-26-{i:07d}" for i in range(n)]
    reports = [f"ISP26-{i:06d}" for i in range(n)]
    keys = [f"{i:064x}" for i in range(n)]
    units = [UNITS[i] for i in rng.integers(0, len(UNITS), n)]
    paths = [PATHWAYS[i] for i in rng.integers(0, 5, n)]
    export = [d + dt.timedelta(days=1) for d in days]
    lineage = {"source": ["tracs-isp"] * n, "file_name": ["TRACS_x.xml"] * n,
                   "file_sha256": ["f" * 64] * n, "line": list(range(n))}
    all_forms = forms + [f"FR-25-{i:07d}" for i in range(other_forms)]
    m_all = n + other_forms
    field_report = _frame(
        "stg_tracs__field_report", m_all, source=["tracs-isp"] * m_all,
        file_sha256=["f" * 64] * m_all, record_id=all_forms, form_version=[1] * m_all,
        status=["Transmitted"] * m_all, export_date=export + [base] * other_forms,
        report_number=reports + [f"ISP25-{i:06d}" for i in range(other_forms)],
        date_occurred=days + [base] * other_forms, originating_agency_type=["ISP_DOP"] * m_all,
        county_fips=["17199"] * m_all)
    individual = _frame("stg_tracs__individual", n, **lineage, record_id=forms,
                        form_version=[1] * n, seq=[1] * n, person_key=keys, sex=["M"] * n,
                        race=["W"] * n, ethnicity=["N"] * n, disposition=["CD"] * n)
    deflection = _frame("stg_tracs__deflection", n, **lineage, record_id=forms,
                        form_version=[1] * n, seq=[1] * n, pathway=paths, approving_unit=units,
                        approval_date=days, referral_date=days,
                        charges_held_in_abeyance=["Y"] * n, age_at_referral=[30] * n)
    items = _frame("stg_tracs__evidence_item", n, **lineage, record_id=forms,
                   form_version=[1] * n, seq=[1] * n, seized=["Y"] * n, item_status=["HELD"] * n)

    cases = [f"{u}/{u}-2026-{i:06d}" for i, u in enumerate(units)]
    named = rng.random(n) < 0.8
    lm = ["2026-11-01T10:00:00"] * n
    mlin = {"source": ["meg"] * n, "file_name": ["CaseActivity_x.xml"] * n,
                "file_sha256": ["e" * 64] * n, "line": list(range(n))}
    case = _frame("stg_meg__case", n, **mlin, record_id=cases, unit=units,
                  case_number=[c.split("/")[1] for c in cases], last_modified=lm,
                  status=["OPEN"] * n, export_date=[dt.date(2026, 11, 1)] * n,
                  originating_agency_type=["ISP_DOP"] * n,
                  tracs_report_number=[r if k else None for r, k in zip(reports, named)],
                  county_fips=["17199"] * n)
    subject = _frame("stg_meg__subject", n, **mlin, record_id=cases, last_modified=lm,
                     subject_id=["1"] * n, person_key=keys, sex=["M"] * n, race=["W"] * n)
    outcomes = [("PENDING", "SUCCESSFUL", "UNSUCCESSFUL")[i] for i in rng.integers(0, 3, n)]
    meg_defl = _frame("stg_meg__deflection", n, **mlin, record_id=cases, last_modified=lm,
                      subject_id=["1"] * n, referral_date=days, pathway=paths,
                      approval_date=days, approving_unit=units, outcome=outcomes,
                      age_at_referral=[30] * n)
    offsets = rng.integers(-5, 200, 2 * n)
    evaluation = _frame(
        "stg_meg__evaluation", 2 * n, source=["meg"] * 2 * n, file_sha256=["e" * 64] * 2 * n,
        record_id=cases * 2, last_modified=lm * 2, subject_id=["1"] * 2 * n,
        evaluation_date=[d + dt.timedelta(days=int(o)) for d, o in zip(days * 2, offsets)],
        result=["ENG"] * 2 * n)
    return CurrentRows(field_report, individual, deflection, items, case, subject, meg_defl,
                       evaluation)
