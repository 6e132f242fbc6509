"""Streaming XML text for both exports. Elements are written as text with proper escaping, one
record at a time; attachments are written in Base64 chunks so a 16 MB PDF never sits in memory
as one string."""
from __future__ import annotations

import base64
import datetime as dt
import random
from typing import IO

from generator.model import CHICAGO, Attachment, Case, CaseState, Form, FormVersion, Individual

TRACS_NS = "urn:il:isp:tracs:export"
MEG_NS = "urn:il:meg:rms:case-activity"
PDF_HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
JPEG_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
CHUNK = 57 * 4096  # a multiple of 57 bytes: every Base64 line but the last has 76 characters
MEG_PATHWAY = {"SR": "1", "AO": "2", "NP": "3", "OP": "4", "OI": "5"}
MEG_ROLE = {"DIR": "D", "CMDR": "C", "DSGN": "DS"}


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def qattr(text: str) -> str:
    return '"' + esc(text).replace('"', "&quot;") + '"'


def leaf(name: str, value, empty_style: bool = True) -> str:
    """A blankable element: `<x/>` or `<x></x>` when blank (both forms occur in real files)."""
    if value is None or value == "":
        return f"<{name}/>" if empty_style else f"<{name}></{name}>"
    return f"<{name}>{esc(str(value))}</{name}>"


def tracs_datetime(t: dt.datetime, utc: bool = False) -> str:
    """xs:dateTime with offset; `utc` writes the same instant as `Z`."""
    if utc:
        return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    local = t.astimezone(CHICAGO)
    return local.isoformat(timespec="seconds")


def meg_datetime(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S")


# --- TraCS -------------------------------------------------------------------------------------

def tracs_header(schema_version: str, export_id: str, created_at: str, ori: str,
                 ns: str = TRACS_NS, root: str = "TraCSExport", encoding: str = "UTF-8",
                 doctype: str = "") -> str:
    decl = f'<?xml version="1.0" encoding="{encoding}"?>\n'
    attrs = []
    if schema_version is not None:
        attrs.append(f"schemaVersion={qattr(schema_version)}")
    attrs += [f"exportId={qattr(export_id)}", f"createdAt={qattr(created_at)}",
              f"agencyORI={qattr(ori)}"]
    return decl + doctype + f'<{root} xmlns="{ns}" ' + " ".join(attrs) + ">\n"


def write_individual(out: IO[str], ind: Individual, v11: bool, style: bool) -> None:
    p = [f'<individual seq="{ind.seq}">',
         leaf("individualRole", ind.role, style),
         leaf("individualLastName", ind.last, style),
         leaf("individualFirstName", ind.first, style),
         leaf("individualMiddleName", ind.middle, style),
         leaf("individualDOB", ind.dob.isoformat() if ind.dob else None, style),
         leaf("individualSex", ind.sex, style),
         leaf("individualRace", ind.race, style),
         leaf("individualEthnicity", ind.ethnicity, style),
         leaf("individualDisposition", ind.disposition, style)]
    d = ind.deflection
    if d is not None:
        p += ["<deflection>",
              leaf("deflectionPathway", d.pathway, style),
              leaf("deflectionApprovalUnit", d.approval_unit, style),
              leaf("deflectionApproverRole", d.approver_role, style),
              leaf("deflectionApproverId", d.approver_id, style),
              leaf("deflectionApprovalDateTime",
                   tracs_datetime(d.approved_at, d.approved_in_utc) if d.approved_at else None, style),
              leaf("deflectionReferralDate", d.referral_date.isoformat(), style),
              leaf("deflectionCaseManagerAgency", d.cm_agency, style),
              leaf("deflectionCaseManagerContactDate",
                   d.cm_contact_date.isoformat() if d.cm_contact_date else None, style),
              leaf("deflectionChargesHeldInAbeyance", d.abeyance, style)]
        if v11 and d.co_responder:
            p.append(leaf("deflectionCoResponderType", d.co_responder, style))
        p.append("</deflection>")
    p.append("</individual>")
    out.write("".join(p))


def write_field_report(out: IO[str], form: Form, ver: FormVersion, v11: bool,
                       summary_override: dict | None = None) -> None:
    style = int(form.form_number[-1]) % 2 == 0  # `<x/>` or `<x></x>`, stable per form
    s = {"report": form.report_number, "date": form.occurred_date.isoformat(),
         "time": form.occurred_time, "division": form.division, "unit": form.unit,
         "badge": form.badge, "county": form.county, "type": form.incident_type}
    s.update(summary_override or {})
    out.write(
        f"<FieldReport formNumber={qattr(form.form_number)} formVersion=\"{ver.version}\" "
        f"status={qattr(ver.status)} lastModified={qattr(tracs_datetime(ver.last_modified))}>"
        "<summary>"
        + leaf("summaryReportNumber", s["report"], style)
        + leaf("summaryDateOccurred", s["date"], style)
        + leaf("summaryTimeOccurred", s["time"], style)
        + leaf("summaryDivision", s["division"], style)
        + leaf("summaryUnit", s["unit"], style)
        + leaf("summaryOfficerBadge", s["badge"], style)
        + leaf("summaryCountyCode", s["county"], style)
        + leaf("summaryIncidentType", s["type"], style)
        + "</summary>\n<individuals>"
    )
    for ind in ver.individuals:
        write_individual(out, ind, v11, style)
    out.write("</individuals><offenses>")
    for i, (statute, desc, klass) in enumerate(form.offenses, 1):
        out.write(f'<offense seq="{i}">' + leaf("offenseStatute", statute, style)
                  + leaf("offenseDescription", desc, style) + leaf("offenseClass", klass, style)
                  + "</offense>")
    out.write("</offenses><evidence>")
    for it in ver.items:
        out.write(f'<item seq="{it.seq}">' + leaf("itemDescription", it.description, style)
                  + leaf("itemSeized", it.seized, style) + leaf("itemStatus", it.status, style)
                  + "</item>")
    out.write("</evidence>" + leaf("narrative", ver.narrative, style) + "\n<attachments>")
    for att in form.attachments:
        write_attachment(out, att)
    out.write("</attachments></FieldReport>\n")


def write_attachment(out: IO[str], att: Attachment) -> None:
    out.write(f"<attachment name={qattr(att.name)} mimeType={qattr(att.mime)}>\n")
    rng = random.Random(att.seed)
    header = PDF_HEADER if att.mime == "application/pdf" else JPEG_HEADER
    left, first = att.size, True
    while left > 0:
        n = min(CHUNK, left)
        data = rng.randbytes(n)
        if first:
            data = header[:n] + data[len(header):]
            first = False
        encoded = base64.b64encode(data)
        out.write(b"\n".join([encoded[i:i + 76] for i in range(0, len(encoded), 76)]).decode("ascii"))
        out.write("\n")
        left -= n
    out.write("</attachment>")


def write_other_form(out: IO[str], form_type: str, number: str, note: str) -> None:
    out.write(f"<OtherForm formType={qattr(form_type)} formNumber={qattr(number)}>"
              f'<vendorData xmlns="urn:example:tracs:{form_type.lower()}">'
              f"<status>complete</status><note>{esc(note)}</note></vendorData></OtherForm>\n")


# --- MEG ---------------------------------------------------------------------------------------

def meg_header(unit: str, export_date: str, window_start: str | None, version: str = "2.0",
               ns: str = MEG_NS, root: str = "CaseActivityExport", encoding: str = "UTF-8",
               doctype: str = "") -> str:
    attrs = [f"Version={qattr(version)}", f"Unit={qattr(unit)}", f"ExportDate={qattr(export_date)}"]
    if window_start is not None:
        attrs.append(f"WindowStart={qattr(window_start)}")
    return (f'<?xml version="1.0" encoding="{encoding}"?>\n' + doctype
            + f'<{root} xmlns="{ns}" ' + " ".join(attrs) + ">\n")


def render_case(case: Case, st: CaseState, case_number: str | None = None,
                subjects=None, override: dict | None = None) -> str:
    o = override or {}
    subjects = case.subjects if subjects is None else subjects
    p = [(f"<Case CaseNumber={qattr(case_number or case.case_number)} "
         f"LastModified={qattr(meg_datetime(st.last_modified))} Status={qattr(st.status)}>"),
         f"<OpenedDate>{case.opened.isoformat()}</OpenedDate>",
         f"<OriginatingAgency Type={qattr(case.origin_type)} ORI={qattr(case.origin_ori)}/>"]
    if case.report_number:
        p.append(f"<TraCSReportNumber>{case.report_number}</TraCSReportNumber>")
    p.append(f"<CountyFIPS>{o.get('county', st.county_fips)}</CountyFIPS><Subjects>")
    for s in subjects:
        middle = f" Middle={qattr(s.middle)}" if s.middle else ""
        p.append(f'<Subject SubjectId="{s.subject_id}"><Name Last={qattr(s.last)} '
                 f"First={qattr(s.first)}{middle}/>")
        if s.dob:
            p.append(f"<BirthDate>{s.dob.isoformat()}</BirthDate>")
        p.append(f"<Sex>{s.sex}</Sex><Race>{s.race}</Race></Subject>")
    p.append("</Subjects><Deflections>")
    for d in o.get("deflections", st.deflections):
        pathway = o.get("pathway", d.pathway)
        p.append(f'<Deflection SubjectId="{d.subject_id}" '
                 f'ReferralDate="{d.referral_date.isoformat()}" Pathway="{pathway}">')
        if d.approval:
            a = d.approval
            p.append(f"<Approval Role={qattr(a['role'])} ApproverId={qattr(a['approver_id'])} "
                     f"ApprovedOn={qattr(meg_datetime(a['approved_on']))} "
                     f"ApprovingUnit={qattr(a['unit'])}/>")
        if d.case_manager:
            cm = d.case_manager
            on = f' ContactedOn="{cm["contacted_on"].isoformat()}"' if cm.get("contacted_on") else ""
            p.append(f"<CaseManager Agency={qattr(cm['agency'])}{on}/>")
        p.append("<Evaluations>")
        for day, result in d.evaluations:
            p.append(f'<Evaluation Date="{day.isoformat()}" Result="{result}"/>')
        p.append("</Evaluations>")
        if d.prosecutor:
            p.append(f'<ProsecutorSubmission Date="{d.prosecutor["date"].isoformat()}" '
                     f"Office={qattr(d.prosecutor['office'])}/>")
        if d.disposal:
            p.append(f'<EvidenceDisposal Date="{d.disposal["date"].isoformat()}" '
                     f'Method="{d.disposal["method"]}"/>')
        p.append(f"<Outcome>{d.outcome}</Outcome></Deflection>")
    p.append("</Deflections></Case>\n")
    return "".join(p)
