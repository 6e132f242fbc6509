"""What happens in the field: incidents with their TraCS forms, MEG/TF cases and their follow-up.
All randomness comes from one seeded `random.Random`; the call order is fixed, so a seed gives the
same world every time."""
from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections import defaultdict, deque
from dataclasses import replace

from deflect.core.units import UnitReference, load_units, unit_codes
from generator import names as N
from generator.anomalies import AnomalyPlanner
from generator.config import GeneratorConfig
from generator.model import (
    CHICAGO,
    ISP_ORI,
    Attachment,
    Case,
    Event,
    Form,
    FormVersion,
    Individual,
    Item,
    MDeflection,
    Subject,
    TDeflection,
)
from generator.xmlout import MEG_PATHWAY, MEG_ROLE

DAY = dt.timedelta(days=1)
LARGE_ATTACHMENT = 16 * 1024 * 1024


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


class World:
    def __init__(self, cfg: GeneratorConfig, people_sink):
        self.cfg = cfg
        self.rng = random.Random(f"{cfg.seed}:world")
        self.periods = load_units()
        self.reference = UnitReference(self.periods)
        self.units = unit_codes(self.periods)
        self.unit_type = {p.unit_code: p.unit_type for p in self.periods}
        self.people = people_sink
        self.planner = AnomalyPlanner(random.Random(f"{cfg.seed}:anomaly"), cfg.anomaly_share)
        self.counters: dict[tuple, int] = defaultdict(int)
        self.schedule: dict[dt.date, list[tuple[Form, int]]] = defaultdict(list)
        self.cases: dict[str, list[Case]] = {u: [] for u in self.units}
        self.tracked_forms: dict[str, Form] = {}
        self.tracked_cases: dict[str, Case] = {}
        self.recent_reports: deque[str] = deque(maxlen=500)
        self.form_count = 0
        # some units' programs write ISO-8859-1 (names with accented letters)
        self.latin1_units = set(random.Random(f"{cfg.seed}:latin1").sample(self.units, 5))

    # --- building blocks -------------------------------------------------------------------
    def next(self, *key) -> int:
        self.counters[key] += 1
        return self.counters[key]

    def counties_of(self, unit: str, day: dt.date) -> tuple[str, ...]:
        p = self.reference.period_on(unit, day)
        return p.counties if p else ()

    def person(self, ref: dt.date, anomaly_age: bool = False):
        r = self.rng
        last, first = r.choice(N.LAST_NAMES), r.choice(N.FIRST_NAMES)
        middle = r.choice(N.MIDDLE_INITIALS) if r.random() < 0.5 else None
        if anomaly_age:
            years = r.choice((7, 8, 9, 101, 102, 104))
        else:
            years = r.randint(18, 66)
        dob = ref - dt.timedelta(days=int(years * 365.25) + r.randint(1, 360))
        self.people(last, first, middle, dob)
        return last, first, middle, dob

    def chicago_at(self, day: dt.date, lo_min: int, hi_min: int) -> dt.datetime:
        m = self.rng.randint(lo_min, hi_min)
        return dt.datetime(day.year, day.month, day.day, m // 60, m % 60, self.rng.randint(0, 59),
                           tzinfo=CHICAGO)

    def naive_at(self, day: dt.date, lo_min: int = 8 * 60, hi_min: int = 21 * 60) -> dt.datetime:
        m = self.rng.randint(lo_min, hi_min)
        return dt.datetime(day.year, day.month, day.day, m // 60, m % 60, self.rng.randint(0, 59))

    def attachments(self, form_number: str) -> list[Attachment]:
        r = self.rng
        n = r.choices((0, 1, 2), (10, 75, 15))[0]
        out = []
        for i in range(n):
            mean = max(1, self.cfg.attachment_kb) * 1024
            size = int(min(max(1024, r.expovariate(1 / mean)), 3 * 1024 * 1024))
            mime = "application/pdf" if i == 0 or r.random() < 0.7 else "image/jpeg"
            ext = "pdf" if mime == "application/pdf" else "jpg"
            name = f"{form_number}.{ext}" if i == 0 else f"{form_number}-{i}.{ext}"
            out.append(Attachment(name, mime, size, f"{self.cfg.seed}:att:{form_number}:{i}"))
        return out

    def make_large(self, form: Form) -> None:
        size = LARGE_ATTACHMENT - self.rng.randint(2_000, 300_000)
        form.attachments.append(Attachment(f"{form.form_number}-scan.pdf", "application/pdf", size,
                                           f"{self.cfg.seed}:att:{form.form_number}:large"))

    # --- TraCS ---------------------------------------------------------------------------
    def new_incident(self, day: dt.date, deflect: bool) -> tuple[str, list[Form], list]:
        """One incident (a Contact): 1-2 FieldReports sharing a report number, maybe OtherForms.
        Returns (contactId, forms whose version 1 goes out tonight, other forms)."""
        r = self.rng
        yy = day.year % 100
        contact_id = f"C-{yy:02d}-{self.next('contact', day.year):08d}"
        n = self.next("report", day.year)
        if n > 999999:  # six digits a year in the interface
            raise ValueError("more than 999,999 incidents in a year: lower --forms-per-day")
        report = f"ISP{yy:02d}-{n:06d}"
        self.recent_reports.append(report)
        anomaly = self.planner.pick("tracs") if deflect else None
        unit = county = None
        if deflect:
            unit, county = self.pick_unit_county(day, anomaly == "county_outside")
        else:
            county = r.choice(N.IL_COUNTIES)
        occ_min = r.randint(0, 21 * 60)
        occ_time = None if r.random() < 0.04 else f"{occ_min // 60:02d}:{occ_min % 60:02d}"
        first_div = "DOP" if r.random() < 0.75 else "DCI"
        n_forms = 2 if r.random() < 0.12 else 1
        tonight, forms = [], []
        for i in range(n_forms):
            division = first_div if i == 0 else ("DCI" if first_div == "DOP" else "DOP")
            form = self.new_form(day, report, contact_id, division, county, occ_time, occ_min,
                                 deflect and i == 0, anomaly, unit)
            forms.append(form)
        for form in forms:
            first_night = self.plan_exports(form, day, anomaly)
            if first_night == day:
                tonight.append(form)
            if form.tracked:
                self.tracked_forms[form.form_number] = form
                self.case_for_tracs(form)
        other = []
        if r.random() < 0.3:
            ftype = r.choice(N.OTHER_FORM_TYPES)
            other.append((ftype, f"{ftype[:2].upper()}-{yy:02d}-{self.next('other', day.year):07d}",
                          f"Report {report}"))
        return contact_id, tonight, other

    def pick_unit_county(self, day: dt.date, outside: bool) -> tuple[str, str]:
        r = self.rng
        if outside:
            unit = r.choice([u for u in self.units if self.counties_of(u, day)])
            own = {c[2:] for c in self.counties_of(unit, day)}
            county = r.choice([c for c in N.IL_COUNTIES if c not in own])
            return unit, county
        unit = r.choice(self.units)
        counties = [c[2:] for c in self.counties_of(unit, day) if c.startswith("17")]
        return unit, (r.choice(counties) if counties else r.choice(N.IL_COUNTIES))

    def new_form(self, day, report, contact_id, division, county, occ_time, occ_min, deflect,
                 anomaly, unit) -> Form:
        r = self.rng
        yy = day.year % 100
        self.form_count += 1
        number = f"FR-{yy:02d}-{self.next('form', day.year):07d}"
        occurred_at = dt.datetime(day.year, day.month, day.day, occ_min // 60, occ_min % 60,
                                  tzinfo=CHICAGO)
        n_ind = r.choices((1, 2, 3), (60, 30, 10))[0]
        cd_seq = r.randint(1, n_ind) if deflect else None
        individuals = []
        deflection = None
        for seq in range(1, n_ind + 1):
            is_cd = seq == cd_seq
            last, first, middle, dob = self.person(day, is_cd and anomaly == "age")
            if r.random() < 0.03 and not is_cd:
                dob = None
            if is_cd:
                deflection = self.tracs_deflection(day, occurred_at, unit, anomaly)
                disposition = "CD"
            else:
                disposition = r.choices(("AR", "CI", "WA", "RL", "RF", "OT", None),
                                        (35, 25, 15, 10, 5, 5, 5))[0]
            individuals.append(Individual(
                seq=seq, role="01" if is_cd or r.random() < 0.6 else r.choice(("02", "03", "04", "05")),
                last=last, first=first, middle=middle, dob=dob,
                sex=r.choices(("M", "F", "X", "U", None), (60, 35, 1, 2, 2))[0],
                race=r.choices(("W", "B", "A", "I", "P", "M", "U", None), (55, 25, 4, 1, 1, 4, 7, 3))[0],
                ethnicity=r.choices(("H", "N", "U", None), (15, 70, 10, 5))[0],
                disposition=disposition, deflection=deflection if is_cd else None))
        items = []
        evidence_anomaly = anomaly in ("evidence_held", "evidence_retained")
        if r.random() < (0.75 if deflect else 0.4) or evidence_anomaly:
            for seq in range(1, r.randint(1, 2) + 1):
                status = r.choices(("HELD", "LAB", "DESTROYED", "RETURNED", None), (40, 20, 15, 10, 15))[0]
                seized = "Y" if r.random() < 0.8 else "N"
                if evidence_anomaly and seq == 1:
                    status, seized = "HELD", "Y"
                items.append(Item(seq, r.choice(N.EVIDENCE), seized, status))
        offenses = tuple(r.choice(N.OFFENSES) for _ in range(r.randint(0, 2)))
        offenses = tuple((s, d if r.random() < 0.9 else None, c) for s, d, c in offenses)
        last_mod = occurred_at + dt.timedelta(minutes=r.randint(30, 240))
        if deflection and deflection.approved_at and deflection.approved_at > last_mod:
            last_mod = deflection.approved_at + dt.timedelta(minutes=r.randint(5, 60))
        end_of_day = dt.datetime(day.year, day.month, day.day, 23, 59, 0, tzinfo=CHICAGO)
        if last_mod > end_of_day and not (deflection and anomaly == "late_approval"):
            last_mod = end_of_day
        named = individuals[0]
        narrative = None if r.random() < 0.05 else (
            f"Trooper contacted {named.first or ''} {named.last or ''} "
            f"(DOB {named.dob.isoformat() if named.dob else 'unknown'}) near county {county}. "
            "Details & observations recorded <in full> on scene.")
        v1 = FormVersion(1, r.choices(("Transmitted", "Exported", "Accepted"), (50, 30, 20))[0],
                         last_mod, tuple(individuals), tuple(items), narrative)
        form = Form(
            form_number=number, report_number=report, contact_id=contact_id, division=division,
            unit=r.choice(N.TROOPS if division == "DOP" else N.ZONES), badge=str(r.randint(100, 99999)),
            county=county, incident_type="DRUG" if deflect else r.choice(N.INCIDENT_TYPES),
            occurred_date=day, occurred_time=occ_time, offenses=offenses,
            attachments=self.attachments(number), versions=[v1], seed=f"{self.cfg.seed}:{number}",
            tracked=deflect)
        form.anomaly = anomaly  # type: ignore[attr-defined]
        form.unit_code = unit  # type: ignore[attr-defined]
        return form

    def fitting_role(self, unit: str | None) -> str:
        """A TraCS role code that fits the unit (III.D): its director (MEG) or commander (task
        force), or a designee; any role for a unit not in the reference."""
        kind = self.unit_type.get(unit)
        if kind is None:
            return self.rng.choice(("DIR", "CMDR", "DSGN"))
        return self.rng.choice(("DIR" if kind == "MEG" else "CMDR", "DSGN"))

    def misfit_role(self, unit: str | None) -> str:
        """A TraCS role code that does not fit the unit: a MEG's commander, a task force's
        director."""
        return "DIR" if self.unit_type.get(unit) == "TASK_FORCE" else "CMDR"

    def tracs_role(self, unit: str | None, anomaly) -> str | None:
        if anomaly == "blank_role":
            return None
        if anomaly == "role_misfit":
            return self.misfit_role(unit)
        if self.rng.random() < 0.02:  # the field is blankable, and sometimes left blank
            return None
        return self.fitting_role(unit)

    def tracs_deflection(self, day, occurred_at, unit, anomaly) -> TDeflection:
        r = self.rng
        pathway = r.choices(("SR", "AO", "NP", "OP", "OI"), (8, 12, 15, 25, 40))[0]
        if anomaly == "op_abeyance":
            pathway, abeyance = "OP", "Y"
        elif anomaly == "oi_blank":
            pathway, abeyance = "OI", None
        elif pathway == "OP":
            abeyance = r.choices(("N", None), (80, 20))[0]
        elif pathway == "OI":
            abeyance = r.choices(("Y", "N"), (85, 15))[0]
        else:
            abeyance = r.choice(("Y", "N", None))
        referral = day
        approved_at = occurred_at + dt.timedelta(minutes=r.randint(15, 120))
        end_of_day = dt.datetime(day.year, day.month, day.day, 23, 58, tzinfo=CHICAGO)
        approved_at = min(approved_at, end_of_day)
        if anomaly == "late_approval":
            approved_at = self.chicago_at(day + r.randint(1, 3) * DAY, 9 * 60, 17 * 60)
        elif anomaly == "referral_before":
            referral = day - r.randint(1, 3) * DAY
            approved_at = self.chicago_at(referral, 9 * 60, 20 * 60)
        approval_unit = unit
        if anomaly == "unknown_unit":
            approval_unit = r.choice(N.UNKNOWN_UNITS)
        role = self.tracs_role(approval_unit, anomaly)
        approver = f"{(approval_unit or 'X')[0]}{r.randint(1000, 99999)}"
        if anomaly == "no_approval":
            approval_unit = role = approver = approved_at = None
        cm_agency = r.choice(N.CASE_MANAGERS) if r.random() < 0.85 else None
        # the form goes out the night after: a contact it records is the referral day's
        cm_date = referral if cm_agency and r.random() < 0.7 else None
        if anomaly in ("late_contact", "no_contact"):
            cm_date = None
        return TDeflection(
            pathway=pathway, approval_unit=approval_unit, approver_role=role,
            approver_id=approver if r.random() < 0.95 else None, approved_at=approved_at,
            approved_in_utc=r.random() < 0.15, referral_date=referral, cm_agency=cm_agency,
            cm_contact_date=cm_date, abeyance=abeyance,
            co_responder=r.choice(("CLINICIAN", "PEER", "SOCIAL_WORKER", "NONE", None)))

    def plan_exports(self, form: Form, day: dt.date, anomaly) -> dt.date:
        """Schedule the nights on which each version goes out; returns the first night."""
        r = self.rng
        v1 = form.versions[0]
        first = max(day, v1.last_modified.date())
        if form.tracked and r.random() < 0.15 and anomaly not in ("future_contact",):
            first = day + r.randint(4, 12) * DAY  # the report is completed days later
        if form.tracked and anomaly == "future_contact":
            d = form.versions[0].individuals
            form.versions[0] = replace(v1, individuals=tuple(
                replace(i, deflection=replace(i.deflection, cm_agency=i.deflection.cm_agency or "Rosecrance",
                                              cm_contact_date=first + r.randint(3, 10) * DAY))
                if i.deflection else i for i in d))
        if first != day:
            self.schedule[first].append((form, 1))
        if r.random() < 0.03:
            self.schedule[first + r.randint(1, 10) * DAY].append((form, 1))  # re-sent unchanged
        amend_p = 0.12 if form.tracked else 0.04
        night = first
        for _ in range(2):
            if r.random() >= amend_p:
                break
            night = night + r.randint(1, 20) * DAY
            self.amend(form, night, anomaly)
            self.schedule[night].append((form, len(form.versions)))
            amend_p = 0.3
        return first

    def amend(self, form: Form, night: dt.date, anomaly) -> None:
        r = self.rng
        prev = form.versions[-1]
        kinds = ["lifecycle", "narrative"]
        weights = [40, 15]
        if not anomaly:
            kinds += ["item", "withdraw", "void"]
            weights += [30, 8 if form.tracked else 0, 7]
        kind = r.choices(kinds, weights)[0]
        lm = self.chicago_at(night, 8 * 60, 23 * 60)
        status = "Transmitted" if prev.status != "Voided" else "Voided"
        individuals, items, narrative = prev.individuals, prev.items, prev.narrative
        if kind == "narrative":
            narrative = (narrative or "") + " Supplement added."
        elif kind == "item" and items:
            items = tuple(replace(i, status=r.choice(("DESTROYED", "RETURNED"))) for i in items)
        elif kind == "withdraw":
            individuals = tuple(replace(i, disposition="AR", deflection=None)
                                if i.disposition == "CD" else i for i in individuals)
        elif kind == "void":
            status = "Voided"
        form.versions.append(FormVersion(prev.version + 1, status, lm, individuals, items, narrative))

    # --- MEG -----------------------------------------------------------------------------
    def case_number(self, unit: str, day: dt.date) -> str:
        n = self.next("case", unit, day.year)
        if n > 9999:  # the interface allows four digits a year; keep the rates below that
            raise ValueError(f"more than 9999 cases a year for {unit}: lower --forms-per-day")
        return f"{unit}-{day.year}-{n:04d}"

    def case_for_tracs(self, form: Form) -> None:
        """The approving unit's own record of a deflection first reported in TraCS."""
        r = self.rng
        anomaly = form.anomaly  # type: ignore[attr-defined]
        ind = next(i for i in form.versions[0].individuals if i.disposition == "CD")
        d = ind.deflection
        if anomaly in ("unknown_unit", "future_contact", "never_reported"):
            return
        needs_case = anomaly in ("eval_before", "unit_differs", "key_differs", "report_typo",
                                 "evidence_held", "slow_followup", "unsuccessful_no_prosecutor",
                                 "future_eval", "late_approval", "referral_before", "op_abeyance",
                                 "oi_blank", "late_report", "evidence_retained", "late_contact",
                                 "no_contact")
        if not needs_case and anomaly != "no_approval" and r.random() >= 0.8:
            return
        unit = form.unit_code  # type: ignore[attr-defined]
        if anomaly == "unit_differs":
            no_county = [u for u in self.units if not self.counties_of(u, d.referral_date) and u != unit]
            unit = r.choice(no_county)
        # a late contact is a case entered late, with the contact recorded when it was entered
        delay = r.randint(8, 12) if anomaly == "late_contact" else r.randint(0, 5)
        opened = max(d.referral_date, form.occurred_date) + delay * DAY
        if d.approved_at:
            opened = max(opened, d.approved_at.date())
        created = self.naive_at(opened)
        if d.approved_at:
            created = max(created, d.approved_at.astimezone(CHICAGO).replace(tzinfo=None)
                          + dt.timedelta(minutes=5))
        last, first, middle, dob = ind.last or "Unknown", ind.first or "Unknown", ind.middle, ind.dob
        if r.random() < 0.3:
            last, first = strip_accents(last), strip_accents(first)
        if anomaly == "key_differs":
            if first in N.NICKNAMES and r.random() < 0.5:
                first = N.NICKNAMES[first]
            elif dob and r.random() < 0.5:
                dob = dob + DAY
            else:
                dob = None
        subjects = [Subject(1, last, first, middle, dob, ind.sex or "U", ind.race or "U")]
        if r.random() < 0.2:
            l2, f2, m2, b2 = self.person(opened)
            subjects.append(Subject(2, l2, f2, m2, b2, r.choice("MF"), r.choice("WBU")))
        approval = None
        if anomaly not in ("no_approval", "blank_role") and d.approved_at:
            # the MEG records the approver TraCS names (a designee when TraCS left it blank);
            # for another unit (W09), someone of that unit
            role = d.approver_role or "DSGN"
            if unit != form.unit_code:  # type: ignore[attr-defined]
                role = self.fitting_role(unit)
            approval = {"role": MEG_ROLE[role],
                        "approver_id": d.approver_id or f"{unit[0]}1000",
                        "approved_on": d.approved_at.astimezone(CHICAGO).replace(tzinfo=None),
                        "unit": unit}
        mdef = MDeflection(1, d.referral_date, MEG_PATHWAY[d.pathway], approval,
                           self.case_manager_for_tracs(d, opened, anomaly))
        report = form.report_number
        if anomaly == "report_typo":
            report = f"ISP{(form.occurred_date.year - 5) % 100:02d}-{r.randint(0, 999999):06d}"
        origin = "ISP-DOP" if form.division == "DOP" else "ISP-DCI"
        case = Case(unit, self.case_number(unit, opened), opened, origin, ISP_ORI, report,
                    "17" + form.county, tuple(subjects), [], f"{self.cfg.seed}:{unit}:{report}",
                    tracked=True)
        case.events = [Event(created, "open"), Event(created, "deflect", (mdef,))]
        self.followup(case, mdef, created, anomaly)
        self.add_case(case)

    def case_manager_for_tracs(self, d: TDeflection, opened: dt.date, anomaly) -> dict | None:
        """The MEG's CaseManager for a deflection TraCS reported: the TraCS contact, or the one the
        unit made itself in the first days (never after the case was entered: no W14)."""
        r = self.rng
        if anomaly == "no_contact":
            return {"agency": d.cm_agency, "contacted_on": None} if d.cm_agency else None
        agency = d.cm_agency or r.choice(N.CASE_MANAGERS)
        if anomaly == "late_contact":
            late = max(8, (opened - d.referral_date).days)
            return {"agency": agency, "contacted_on": d.referral_date + r.randint(8, late) * DAY}
        if d.cm_contact_date:
            return {"agency": agency, "contacted_on": d.cm_contact_date}
        if r.random() < 0.9:
            return {"agency": agency,
                    "contacted_on": min(d.referral_date + r.randint(0, 3) * DAY, opened)}
        return None

    def meg_originated(self, unit: str, day: dt.date, plan: bool) -> None:
        """A deflection the unit itself (or a local agency it works with) originated."""
        r = self.rng
        anomaly = self.planner.pick("meg") if plan else None
        own = self.counties_of(unit, day)
        origin = "MEG" if self.unit_type[unit] == "MEG" else "TF"
        if anomaly == "no_approval_local" or (anomaly != "no_approval_megtf" and r.random() < 0.35):
            origin = "LOCAL"
        if anomaly == "county_outside" and own:
            county = "17" + r.choice([c for c in N.IL_COUNTIES if "17" + c not in own])
        elif own:
            county = r.choice(own)
            if unit == "QCMEG" and r.random() < 0.15 and anomaly != "no_approval_megtf":
                county = "19163"  # Scott County, IA: worked by the Quad City MEG
        else:
            county = "17" + r.choice(N.IL_COUNTIES)
        referral = day - r.randint(0, 3) * DAY
        if anomaly == "slow_followup":
            referral = day - r.randint(95, 140) * DAY  # a backlog entered months late
        elif anomaly == "late_contact":
            referral = day - r.randint(10, 20) * DAY  # entered weeks late, contact late too
        created = self.naive_at(day)
        subjects = []
        for sid in range(1, r.choices((1, 2), (80, 20))[0] + 1):
            last, first, middle, dob = self.person(referral, anomaly == "age" and sid == 1)
            if r.random() < 0.03:
                dob = None
            subjects.append(Subject(sid, last, first, middle, dob, r.choice("MFMFU"), r.choice("WWBBAMU")))
        approval_unit = r.choice(N.UNKNOWN_UNITS) if anomaly == "unknown_unit" else unit
        case = Case(unit, self.case_number(unit, day), day, origin,
                    f"IL{r.randint(0, 9999999):07d}", None, county, tuple(subjects), [],
                    f"{self.cfg.seed}:{unit}:{day}", tracked=True)
        case.events = [Event(created, "open")]
        n_defl = len(subjects) if len(subjects) > 1 and r.random() < 0.5 else 1
        for sid in range(1, n_defl + 1):
            approval = None
            if anomaly not in ("no_approval_megtf", "no_approval_local"):
                role = (self.misfit_role(unit) if anomaly == "role_misfit" and sid == 1
                        else self.fitting_role(unit))
                approval = {"role": MEG_ROLE[role],
                            "approver_id": f"{unit[0]}{r.randint(1000, 99999)}",
                            "approved_on": self.naive_at(referral, 9 * 60, 18 * 60),
                            "unit": approval_unit}
            cm = {"agency": r.choice(N.CASE_MANAGERS),
                  "contacted_on": referral + r.randint(0, 2) * DAY} if r.random() < 0.85 else None
            if anomaly == "late_contact" and sid == 1:
                cm = {"agency": r.choice(N.CASE_MANAGERS),
                      "contacted_on": referral + r.randint(8, (day - referral).days) * DAY}
            if cm and cm["contacted_on"] > day:
                cm["contacted_on"] = day
            mdef = MDeflection(sid, referral, r.choices("12345", (25, 30, 25, 10, 10))[0], approval, cm)
            case.events.append(Event(created, "deflect", (mdef,)))
            self.followup(case, mdef, created, anomaly if sid == 1 else None)
        self.add_case(case)

    def plain_case(self, unit: str, day: dt.date) -> None:
        """An investigation without deflection: most of a unit's cases."""
        r = self.rng
        report = r.choice(self.recent_reports) if self.recent_reports and r.random() < 0.2 else None
        own = self.counties_of(unit, day)
        county = r.choice(own) if own else "17" + r.choice(N.IL_COUNTIES)
        subjects = []
        for sid in range(1, r.randint(1, 3) + 1):
            last, first, middle, dob = self.person(day)
            subjects.append(Subject(sid, last, first, middle, dob if r.random() < 0.9 else None,
                                    r.choice("MFU"), r.choice("WBAMU")))
        origin = "ISP-DOP" if report else r.choice(("MEG" if self.unit_type[unit] == "MEG" else "TF", "LOCAL"))
        case = Case(unit, self.case_number(unit, day), day, origin,
                    ISP_ORI if report else f"IL{r.randint(0, 9999999):07d}", report, county,
                    tuple(subjects), [], f"{self.cfg.seed}:{unit}:plain", tracked=False)
        created = self.naive_at(day)
        case.events = [Event(created, "open")]
        t = created
        for _ in range(r.randint(0, 3)):
            t = self.naive_at(t.date() + r.randint(1, 12) * DAY)
            case.events.append(Event(t, "touch"))
        if r.random() < 0.3:
            case.events.append(Event(self.naive_at(t.date() + r.randint(1, 10) * DAY), "status", ("CLOSED",)))
        self.add_case(case)

    def followup(self, case: Case, d: MDeflection, created: dt.datetime, anomaly) -> None:
        """Evaluations, outcome, prosecutor submission and evidence disposal, as recorded over time."""
        r = self.rng
        sid, ref = d.subject_id, d.referral_date
        ev = case.events

        def rec(day: dt.date) -> dt.datetime:
            t = self.naive_at(day + r.choice((0, 0, 1, 2, 3)) * DAY)
            return max(t, created + dt.timedelta(minutes=1))

        if anomaly == "eval_before":
            ev.append(Event(created + dt.timedelta(minutes=2), "eval",
                            (sid, ref - r.randint(1, 5) * DAY, "ENG")))
        if anomaly == "future_eval":
            t = rec(ref + r.randint(8, 25) * DAY)
            ev.append(Event(t, "eval", (sid, t.date() + r.randint(5, 20) * DAY, "ENG")))
            return
        if anomaly == "unsuccessful_no_prosecutor":
            gaps, final = [r.randint(5, 12), r.randint(5, 12)], "UNSUCCESSFUL"
        elif anomaly in ("evidence_held", "evidence_retained"):
            gaps, final = [r.randint(7, 15), r.randint(7, 15)], "SUCCESSFUL"
        elif anomaly == "slow_followup":
            gaps, final = [r.randint(95, 120)], None
        else:
            first = r.choices((r.randint(7, 75), r.randint(76, 90), r.randint(91, 130), None),
                              (70, 15, 10, 5))[0]
            gaps = [] if first is None else [first]
            final = None
            if gaps:
                for _ in range(r.randint(1, 4)):
                    gaps.append(r.randint(93, 120) if r.random() < 0.06 else r.randint(20, 80))
                final = r.choices(("SUCCESSFUL", "UNSUCCESSFUL", None), (55, 30, 15))[0]
        day = ref
        last_t = created
        for i, g in enumerate(gaps):
            day = day + g * DAY
            last = i == len(gaps) - 1
            result = ("CMP" if final == "SUCCESSFUL" else "UNS" if final == "UNSUCCESSFUL"
                      else r.choice(("ENG", "TRT", "NOC"))) if last else r.choice(("ENG", "TRT", "TRT", "NOC"))
            last_t = rec(day)
            ev.append(Event(last_t, "eval", (sid, day, result)))
        if final:
            ev.append(Event(last_t + dt.timedelta(minutes=1), "outcome", (sid, final)))
            if final == "UNSUCCESSFUL" and anomaly != "unsuccessful_no_prosecutor" and r.random() < 0.75:
                sub = day + r.randint(3, 25) * DAY
                ev.append(Event(rec(sub), "prosecutor", (sid, sub, r.choice(N.PROSECUTORS))))
            if anomaly == "evidence_retained":  # recorded, but the evidence is still held
                disp = day + r.randint(0, 20) * DAY
                ev.append(Event(rec(disp), "disposal", (sid, disp, "RETAINED")))
            elif anomaly != "evidence_held" and r.random() < 0.65:
                disp = day + r.randint(0, 20) * DAY
                ev.append(Event(rec(disp), "disposal", (sid, disp, r.choice(("DESTROYED", "RETURNED", "RETAINED")))))
            if r.random() < 0.5:
                ev.append(Event(self.naive_at(day + r.randint(5, 30) * DAY), "status", ("CLOSED",)))
        if not anomaly:
            x = r.random()
            if x < 0.02:
                ev.append(Event(self.naive_at(ref + r.randint(5, 40) * DAY), "status", ("VOID",)))
            elif x < 0.04:
                ev.append(Event(self.naive_at(ref + r.randint(5, 40) * DAY), "withdraw", (sid,)))

    def add_case(self, case: Case) -> None:
        case.events.sort(key=lambda e: e.at)
        case.times = [e.at for e in case.events]  # type: ignore[attr-defined]
        self.cases[case.unit].append(case)
        if case.tracked:
            self.tracked_cases[case.record_id] = case
