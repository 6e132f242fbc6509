"""The generator's own model of what the producers hold: TraCS forms with their versions, MEG cases
as a timeline of recorded events. Files are snapshots of this model; the ground truth is computed
from it and from the record of which snapshot reached which file (truth.py)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from deflect.core.dates import CHICAGO

ISP_ORI = "IL0849800"


# --- TraCS -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TDeflection:
    pathway: str  # SR AO NP OP OI
    approval_unit: str | None
    approver_role: str | None
    approver_id: str | None
    approved_at: dt.datetime | None  # aware, America/Chicago
    approved_in_utc: bool  # written with a Z offset (readers must convert to Chicago)
    referral_date: dt.date
    cm_agency: str | None
    cm_contact_date: dt.date | None
    abeyance: str | None  # Y / N / None
    co_responder: str | None


@dataclass(frozen=True, slots=True)
class Individual:
    seq: int
    role: str
    last: str | None
    first: str | None
    middle: str | None
    dob: dt.date | None
    sex: str | None
    race: str | None
    ethnicity: str | None
    disposition: str | None
    deflection: TDeflection | None = None


@dataclass(frozen=True, slots=True)
class Item:
    seq: int
    description: str
    seized: str
    status: str | None


@dataclass(frozen=True, slots=True)
class FormVersion:
    version: int
    status: str  # Accepted Exported Transmitted Voided
    last_modified: dt.datetime  # aware
    individuals: tuple[Individual, ...]
    items: tuple[Item, ...]
    narrative: str | None


@dataclass
class Attachment:
    name: str
    mime: str
    size: int  # decoded bytes
    seed: str  # content is regenerated from this on every write


@dataclass
class Form:
    form_number: str
    report_number: str
    contact_id: str
    division: str  # DOP / DCI
    unit: str
    badge: str
    county: str  # 3 digits
    incident_type: str
    occurred_date: dt.date
    occurred_time: str | None
    offenses: tuple[tuple[str, str | None, str], ...]
    attachments: list[Attachment]
    versions: list[FormVersion]
    seed: str
    tracked: bool = False  # some version holds a CD disposition: the ground truth follows it

    def version(self, n: int) -> FormVersion:
        return self.versions[n - 1]


def has_cd(version: FormVersion) -> bool:
    return any(i.disposition == "CD" for i in version.individuals)


# --- MEG ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Subject:
    subject_id: int
    last: str
    first: str
    middle: str | None
    dob: dt.date | None
    sex: str
    race: str


@dataclass(slots=True)
class MDeflection:
    subject_id: int
    referral_date: dt.date
    pathway: str  # 1..5
    approval: dict | None  # role, approver_id, approved_on (naive), unit
    case_manager: dict | None  # agency, contacted_on
    evaluations: list = field(default_factory=list)  # (date, result)
    prosecutor: dict | None = None  # date, office
    disposal: dict | None = None  # date, method
    outcome: str = "PENDING"

    def copy(self) -> MDeflection:
        return replace(self, evaluations=list(self.evaluations))


@dataclass(frozen=True, slots=True)
class Event:
    at: dt.datetime  # naive local record time (what LastModified shows)
    kind: str
    data: tuple = ()


@dataclass
class CaseState:
    last_modified: dt.datetime
    status: str
    county_fips: str
    deflections: list[MDeflection]


@dataclass
class Case:
    unit: str
    case_number: str
    opened: dt.date
    origin_type: str  # ISP-DOP ISP-DCI MEG TF LOCAL
    origin_ori: str
    report_number: str | None
    county_fips: str
    subjects: tuple[Subject, ...]
    events: list[Event]
    seed: str
    tracked: bool = False  # has a deflection in some version

    @property
    def record_id(self) -> str:
        return f"{self.unit}/{self.case_number}"

    def created_at(self) -> dt.datetime:
        return self.events[0].at

    def last_event_at(self) -> dt.datetime:
        return max(e.at for e in self.events)

    def state(self, until: dt.datetime) -> CaseState | None:
        """The case as the producer's program held it at `until` (None before it was entered)."""
        status, county, lm = "OPEN", self.county_fips, None
        defl: dict[int, MDeflection] = {}
        for e in sorted(self.events, key=lambda e: e.at):
            if e.at > until:
                break
            lm = e.at
            k, d = e.kind, e.data
            if k == "deflect":
                defl[d[0].subject_id] = d[0].copy()
            elif k in ("eval", "outcome", "prosecutor", "disposal", "pathway") and d[0] not in defl:
                continue  # activity recorded on a deflection withdrawn earlier: not shown
            elif k == "eval":
                defl[d[0]].evaluations.append((d[1], d[2]))
            elif k == "outcome":
                defl[d[0]].outcome = d[1]
            elif k == "prosecutor":
                defl[d[0]].prosecutor = {"date": d[1], "office": d[2]}
            elif k == "disposal":
                defl[d[0]].disposal = {"date": d[1], "method": d[2]}
            elif k == "withdraw":
                defl.pop(d[0], None)
            elif k == "pathway":
                defl[d[0]].pathway = d[1]
            elif k == "status":
                status = d[0]
            elif k == "county":
                county = d[0]
            # "open" and "touch" only move LastModified
        if lm is None:
            return None
        return CaseState(lm, status, county, [defl[s] for s in sorted(defl)])


def chicago(d: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, hour, minute, second, tzinfo=CHICAGO)


def epoch(local_naive_or_aware: dt.datetime) -> float:
    t = local_naive_or_aware
    if t.tzinfo is None:
        t = t.replace(tzinfo=CHICAGO)
    return t.timestamp()
