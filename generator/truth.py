"""The ground truth: what deflection-rules.md §1–§5 conclude for a pipeline that ingested every
complete file of the drop. Computed from the generator's own model and the record of deliveries
(which version of which record reached a valid copy in which file), never from pipeline code."""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from adapters.meg_reports import codes as meg_codes
from adapters.tracs import codes as tracs_codes
from deflect.core.dates import CHICAGO, quarter_of
from deflect.core.person_key import age_in_years, person_key
from deflect.core.units import UnitReference
from deflect.core.vocab import UNATTRIBUTED

FINAL = ("SUCCESSFUL", "UNSUCCESSFUL")
# III.D: who approves for each unit type (a designee for either)
ROLE_FITS_UNIT = {("MEG", "DIRECTOR"), ("MEG", "DESIGNEE"),
                  ("TASK_FORCE", "COMMANDER"), ("TASK_FORCE", "DESIGNEE")}


class Deliveries:
    """First valid copy of each version of each followed record, with its file's export date.
    Files are written in the order a pipeline reading the drop by name would load them."""

    def __init__(self):
        self.tracs: dict[str, dict[int, dt.date]] = {}
        self.meg: dict[str, dict[dt.datetime, dt.date]] = {}

    def tracs_delivery(self, form_number: str, version: int, valid: bool,
                       export_date: dt.date) -> None:
        if valid:
            self.tracs.setdefault(form_number, {}).setdefault(version, export_date)

    def meg_delivery(self, record_id: str, last_modified: dt.datetime, valid: bool,
                     export_date: dt.date) -> None:
        if valid:
            self.meg.setdefault(record_id, {}).setdefault(last_modified, export_date)


@dataclass
class TSide:
    member: str
    report: str
    key: str | None
    occurred: dt.date
    origin: str
    county: str
    sex: str | None
    race: str | None
    ethnicity: str | None
    dob: dt.date | None
    referral: dt.date
    pathway: str
    unit: str | None
    approval_date: dt.date | None
    cm_contact: dt.date | None
    abeyance: str | None
    items: tuple
    export_date: dt.date
    role: str | None = None  # approver role, vocabulary of rules §1


@dataclass
class MSide:
    member: str
    report: str | None
    key: str | None
    exporting_unit: str
    origin: str
    county: str
    sex: str | None
    race: str | None
    dob: dt.date | None
    referral: dt.date
    pathway: str
    unit: str | None
    approval_date: dt.date | None
    cm_contact: dt.date | None
    evaluations: list = field(default_factory=list)
    outcome: str = "PENDING"
    prosecutor: dt.date | None = None
    disposal: dt.date | None = None
    export_date: dt.date | None = None
    role: str | None = None  # approver role, vocabulary of rules §1
    disposal_method: str | None = None  # DESTROYED RETURNED RETAINED


def current_tracs(world, deliveries: Deliveries, secret: bytes) -> list[TSide]:
    out = []
    for number, form in world.tracked_forms.items():
        got = deliveries.tracs.get(number)
        if not got:
            continue
        v = max(got)
        ver = form.version(v)
        if ver.status == "Voided":
            continue
        for ind in ver.individuals:
            if ind.disposition != "CD" or ind.deflection is None:
                continue
            d = ind.deflection
            out.append(TSide(
                member=f"TRACS:{number}:{ind.seq}", report=form.report_number,
                key=person_key(secret, ind.last, ind.first, ind.dob.isoformat() if ind.dob else None),
                occurred=form.occurred_date, origin=tracs_codes.DIVISION_AGENCY_TYPE[form.division],
                county="17" + form.county, sex=ind.sex, race=ind.race, ethnicity=ind.ethnicity,
                dob=ind.dob, referral=d.referral_date, pathway=tracs_codes.PATHWAY[d.pathway],
                unit=d.approval_unit,
                approval_date=d.approved_at.astimezone(CHICAGO).date() if d.approved_at else None,
                cm_contact=d.cm_contact_date, abeyance=d.abeyance, items=ver.items,
                export_date=got[v],
                role=tracs_codes.APPROVER_ROLE[d.approver_role] if d.approver_role else None))
    return out


def current_meg(world, deliveries: Deliveries, secret: bytes) -> list[MSide]:
    out = []
    for rid, case in world.tracked_cases.items():
        got = deliveries.meg.get(rid)
        if not got:
            continue
        lm = max(got)
        st = case.state(lm)
        if st.status == "VOID":
            continue
        subjects = {s.subject_id: s for s in case.subjects}
        for d in st.deflections:
            s = subjects[d.subject_id]
            a = d.approval
            out.append(MSide(
                member=f"MEG:{rid}:{d.subject_id}", report=case.report_number,
                key=person_key(secret, s.last, s.first, s.dob.isoformat() if s.dob else None),
                exporting_unit=case.unit, origin=meg_codes.AGENCY_TYPE[case.origin_type],
                county=st.county_fips, sex=s.sex, race=s.race, dob=s.dob,
                referral=d.referral_date, pathway=meg_codes.PATHWAY[d.pathway],
                unit=a["unit"] if a else None, approval_date=a["approved_on"].date() if a else None,
                cm_contact=(d.case_manager or {}).get("contacted_on"),
                evaluations=list(d.evaluations), outcome=d.outcome,
                prosecutor=d.prosecutor["date"] if d.prosecutor else None,
                disposal=d.disposal["date"] if d.disposal else None, export_date=got[lm],
                role=meg_codes.APPROVER_ROLE[a["role"]] if a else None,
                disposal_method=d.disposal["method"] if d.disposal else None))
    return out


def link(tracs: list[TSide], meg: list[MSide]) -> list[tuple[TSide | None, MSide | None, bool]]:
    """§2: pass 1 by (report, person key), one to one; pass 2 by report only (W10)."""
    t_by, m_by = defaultdict(list), defaultdict(list)
    for t in tracs:
        if t.key:
            t_by[(t.report, t.key)].append(t)
    for m in meg:
        if m.report and m.key:
            m_by[(m.report, m.key)].append(m)
    pairs, linked_t, linked_m = [], set(), set()
    for k, ms in m_by.items():
        ts = t_by.get(k, [])
        if len(ms) == 1 and len(ts) == 1:
            pairs.append((ts[0], ms[0], False))
            linked_t.add(ts[0].member)
            linked_m.add(ms[0].member)
    t_rep, m_rep = defaultdict(list), defaultdict(list)
    for t in tracs:
        if t.member not in linked_t:
            t_rep[t.report].append(t)
    for m in meg:
        if m.report and m.member not in linked_m:
            m_rep[m.report].append(m)
    for r, ms in m_rep.items():
        ts = t_rep.get(r, [])
        if len(ms) == 1 and len(ts) == 1:
            pairs.append((ts[0], ms[0], True))
            linked_t.add(ts[0].member)
            linked_m.add(ms[0].member)
    pairs += [(t, None, False) for t in tracs if t.member not in linked_t]
    pairs += [(None, m, False) for m in meg if m.member not in linked_m]
    return pairs


def deflection_id(members: list[str]) -> str:
    return "D" + hashlib.sha256("\n".join(sorted(members)).encode("utf-8")).hexdigest()[:24]


def row(t: TSide | None, m: MSide | None, by_report_only: bool, reference: UnitReference,
        as_of: dt.date) -> dict:
    flags = set()
    if by_report_only:
        flags.add("W10")
    if m is not None and m.report and t is None:
        flags.add("W11")
    referral = m.referral if m else t.referral
    pathway = m.pathway if m else t.pathway
    # approval: the MEG record's when it has one, else TraCS's (no fallback on unknown codes)
    if m is not None and m.unit:
        unit, approval_date, role = m.unit, m.approval_date, m.role
    elif t is not None and t.unit:
        unit, approval_date, role = t.unit, t.approval_date, t.role
    else:
        unit, approval_date, role = None, None, None
    origin = t.origin if t else m.origin
    county = t.county if t else m.county
    if unit:
        period = reference.period_on(unit, approval_date or referral)
        if period is None:
            code = UNATTRIBUTED
            flags.add("W02")
        else:
            code = unit
            # W18: the approver's role must fit the approving unit's type (a blank role fits none)
            if (period.unit_type in ("MEG", "TASK_FORCE")
                    and (period.unit_type, role) not in ROLE_FITS_UNIT):
                flags.add("W18")
    elif origin in ("MEG", "TASK_FORCE"):
        code = m.exporting_unit
        flags.add("W12")
    else:
        code = UNATTRIBUTED
        flags.add("W01")
    if t is not None and m is not None and t.unit and m.unit and t.unit != m.unit:
        flags.add("W09")
    if approval_date and approval_date > referral:
        flags.add("W03")
    if t is not None:
        if referral < t.occurred:
            flags.add("W04")
        if pathway == "OFFICER_PREVENTION" and t.abeyance == "Y":
            flags.add("W05")
        if pathway == "OFFICER_INTERVENTION" and t.abeyance is None:
            flags.add("W06")
    evaluations = m.evaluations if m else []
    if any(d < referral for d, _ in evaluations):
        flags.add("W07")
    if code != UNATTRIBUTED:
        p = reference.period_on(code, approval_date or referral)
        if p is not None and p.counties and county not in p.counties:
            flags.add("W08")
    if t is not None and t.dob:
        age = age_in_years(t.dob, t.referral)
    elif m is not None and m.dob:
        age = age_in_years(m.dob, m.referral)
    else:
        age = None
    if age is not None and (age < 10 or age > 100):
        flags.add("W13")
    if t is not None and any(x and x > t.export_date for x in
                             (t.occurred, t.approval_date, t.referral, t.cm_contact)):
        flags.add("W14")
    if m is not None and any(x and x > m.export_date for x in (
            m.approval_date, m.referral, m.cm_contact, m.prosecutor, m.disposal,
            *(d for d, _ in m.evaluations))):
        flags.add("W14")
    outcome = m.outcome if m else "PENDING"
    prosecutor = m.prosecutor if m else None
    evals = sorted(d for d, _ in evaluations if referral <= d <= as_of)
    first = evals[0] if evals else None
    due_date = referral + dt.timedelta(days=90)
    if outcome == "PENDING":
        points = [referral] + evals + [as_of]
        if any((b - a).days > 92 for a, b in itertools.pairwise(points)):
            flags.add("W15")
    last_contact = evals[-1] if evals else referral
    if outcome == "UNSUCCESSFUL" and prosecutor is None and (as_of - last_contact).days > 30:
        flags.add("W16")
    evidence_disposed = m is not None and m.disposal_method in ("DESTROYED", "RETURNED")
    if (outcome in FINAL and t is not None and not evidence_disposed
            and any(i.seized == "Y" and i.status not in ("DESTROYED", "RETURNED") for i in t.items)):
        flags.add("W17")
    # W19: the earliest case-manager contact either source records, within 7 days of the referral
    contacts = [c for c in ((t.cm_contact if t else None), (m.cm_contact if m else None)) if c]
    if contacts:
        if (min(contacts) - referral).days > 7:
            flags.add("W19")
    elif (as_of - referral).days > 7:
        flags.add("W19")
    # W20: ISP-originated, still only in TraCS 30 days or more after the referral
    if t is not None and m is None and origin in ("ISP_DOP", "ISP_DCI") \
            and (as_of - referral).days >= 30:
        flags.add("W20")
    members = [x.member for x in (t, m) if x is not None]
    return {
        "deflection_id": deflection_id(members),
        "person_key": (t.key if t and t.key else None) or (m.key if m else None),
        "referral_date": referral.isoformat(),
        "referral_quarter": quarter_of(referral),
        "pathway": pathway,
        "approving_unit_code": code,
        "originating_agency_type": origin,
        "county_fips": county,
        "sources": "+".join(s for s, x in (("TRACS", t), ("MEG", m)) if x is not None),
        "sex": (t.sex if t else None) or (m.sex if m else None),
        "race": (t.race if t else None) or (m.race if m else None),
        "ethnicity": t.ethnicity if t else None,
        "age_at_referral": age,
        "first_evaluation_date": first.isoformat() if first else None,
        "evaluated_within_90_days": first is not None and first <= due_date,
        "outcome": outcome,
        "prosecutor_submission_date": prosecutor.isoformat() if prosecutor else None,
        "flags": ",".join(sorted(flags)),
        # not columns of reporting.deflection; removed before the rows are published
        "_members": members,
        "_encounter": (t.occurred if t is not None and t.occurred else None) or referral,
        "_evaluations": list(evaluations),
        "_due": due_date <= as_of,
        "_overdue": outcome == "PENDING" and not evals and as_of > due_date,
    }


def pct_half_up(num: int, den: int) -> float | None:
    if den == 0:
        return None
    value = (Decimal(100) * num / Decimal(den)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(value)


def reporting(world, deliveries: Deliveries, secret: bytes, as_of: dt.date) -> tuple[dict, list]:
    tracs = current_tracs(world, deliveries, secret)
    meg = current_meg(world, deliveries, secret)
    reference = UnitReference(world.periods)
    rows = [row(t, m, w10, reference, as_of) for t, m, w10 in link(tracs, meg)]
    rows.sort(key=lambda r: r["deflection_id"])
    counts = defaultdict(int)
    follow = defaultdict(lambda: {"referrals": 0, "due": 0, "evaluated_within_90_days": 0, "overdue": 0})
    for r in rows:
        counts[(r["approving_unit_code"], r["referral_quarter"], r["pathway"])] += 1
        f = follow[(r["approving_unit_code"], r["referral_quarter"])]
        f["referrals"] += 1
        if r["_due"]:
            f["due"] += 1
            f["evaluated_within_90_days"] += int(r["evaluated_within_90_days"])
        f["overdue"] += int(r["_overdue"])
    detail = [{"deflection_id": r["deflection_id"], "members": r["_members"]} for r in rows]
    measures = statutory(rows, as_of)
    for r in rows:
        for k in ("_members", "_due", "_overdue", "_encounter", "_evaluations"):
            del r[k]
    return {
        "deflection": rows,
        "deflection_counts": [
            {"approving_unit_code": u, "referral_quarter": q, "pathway": p, "deflections": n}
            for (u, q, p), n in sorted(counts.items())],
        "followup_compliance": [
            {"approving_unit_code": u, "referral_quarter": q, **f,
             "pct_evaluated_within_90_days": pct_half_up(f["evaluated_within_90_days"], f["due"])}
            for (u, q), f in sorted(follow.items())],
        "statutory": measures,
    }, detail


# publication.md §1, from the model's own rows (never from the pipeline's code)
ENGAGEMENT_RESULTS = ("ENG", "TRT", "CMP")
BUCKET_EDGES = ((7, "0-7"), (14, "8-14"), (30, "15-30"), (60, "31-60"), (90, "61-90"))


def band_of(age: int | None) -> str:
    if age is None:
        return "unknown"
    if age < 18:
        return "<18"
    if age <= 24:
        return "18-24"
    if age >= 65:
        return "65+"
    low = (age - 25) // 10 * 10 + 25
    return f"{low}-{low + 9}"


def bucket_of(days: int | None) -> str:
    if days is None:
        return "not engaged"
    return next((label for edge, label in BUCKET_EDGES if days <= edge), ">90")


def statutory(rows: list[dict], as_of: dt.date) -> list[dict]:
    """Per (approving unit, referral quarter): the statutory measures and the counts by each
    published category, as of `as_of`."""
    groups = defaultdict(list)
    for r in rows:
        groups[(r["approving_unit_code"], r["referral_quarter"])].append(r)
    out = []
    for (unit, quarter), members in sorted(groups.items()):
        keys = {r["person_key"] for r in members if r["person_key"]}
        participants = len(keys) + sum(1 for r in members if not r["person_key"])
        days, matured, engaged_30 = [], 0, 0
        cats = {k: defaultdict(int) for k in ("pathway", "sex", "race", "ethnicity", "age_band",
                                              "engagement_bucket")}
        for r in members:
            referral = dt.date.fromisoformat(r["referral_date"])
            encounter = r["_encounter"]
            engaged = sorted(d for d, result in r["_evaluations"]
                             if result in ENGAGEMENT_RESULTS and referral <= d <= as_of
                             and d >= encounter)
            n = (engaged[0] - encounter).days if engaged else None
            if n is not None:
                days.append(n)
            ripe = encounter + dt.timedelta(days=30) <= as_of
            matured += ripe
            engaged_30 += ripe and n is not None and n <= 30
            for k, v in (("pathway", r["pathway"]), ("sex", r["sex"]), ("race", r["race"]),
                         ("ethnicity", r["ethnicity"]),
                         ("age_band", band_of(r["age_at_referral"])),
                         ("engagement_bucket", bucket_of(n))):
                cats[k][v or "unknown"] += 1
        days.sort()
        mid = len(days) // 2
        med = None if not days else float(days[mid]) if len(days) % 2 else (days[mid - 1] + days[mid]) / 2
        out.append({
            "approving_unit_code": unit, "referral_quarter": quarter,
            "participants": participants, "encounters": len(members), "matured_30": matured,
            "engaged_30": engaged_30, "engagement_rate_30": pct_half_up(engaged_30, matured),
            "engaged": len(days), "median_days_to_engagement": med,
            **{f"by_{k}": dict(sorted(v.items())) for k, v in cats.items()},
        })
    return out
