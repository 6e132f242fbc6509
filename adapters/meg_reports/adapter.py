"""MEG / task force: drop protocol (.done marker), document layout, F05, extraction."""
from __future__ import annotations

import re

from adapters.meg_reports import codes
from adapters.meg_reports.expectations import SUITES
from adapters.meg_reports.fields import FIELDS
from adapters.meg_reports.rules import NS, record_rules
from adapters.meg_reports.tables import TABLES
from deflect.core import vocab
from deflect.core.person_key import age_in_years, person_key
from ingestion.adapter import Adapter, FileContext, iso, text, to_date
from ingestion.findings import F05, Finding
from schemas.registry import SCHEMA_DIR, SchemaSet

SCHEMAS = SchemaSet("meg", "MEG case activity export", NS, "Version", (
    ("2.0", SCHEMA_DIR / "meg-case-activity-export-2.0.xsd"),
))

NAME = re.compile(r"CaseActivity_([A-Z][A-Z0-9_]{1,19})_(\d{8})\.xml")


class MegAdapter(Adapter):
    kind = "meg"
    schemas = SCHEMAS
    root = "CaseActivityExport"
    containers = ()
    record = "Case"
    name_pattern = NAME
    tables = TABLES
    suites = SUITES
    pathway_codes = codes.PATHWAY
    fields = FIELDS

    def check_source(self, source) -> list[tuple[str, str]]:
        # F05 compares each file's Unit with the unit the source is configured for
        return [] if source.unit else [("unit", "a meg source needs 'unit'")]

    def mark_complete(self, directory, name) -> None:
        # an empty <name>.done written after the data file: not older than it
        (directory / f"{name}.done").touch()

    def completion_marker(self, name: str) -> str:
        return name + ".done"

    def is_complete(self, entry, listing) -> bool:
        # written in place, then an empty <name>.done; the marker is deleted before a rewrite,
        # so a marker older than the data belongs to an earlier content
        marker = listing.get(self.completion_marker(entry.name))
        return marker is not None and marker.mtime >= entry.mtime

    def file_context_extra(self, root_attrib):
        return {"unit": root_attrib.get("Unit"), "export_date": root_attrib.get("ExportDate")}

    def check_file_name(self, file_name, root_attrib, source) -> list[Finding]:
        """F05: name unit/date against Unit/ExportDate, and Unit against the configured unit."""
        m = NAME.fullmatch(file_name)
        if not m:
            return [F05.finding(f"{file_name} is not a MEG data file name")]
        unit, export_date = root_attrib.get("Unit"), root_attrib.get("ExportDate") or ""
        out = []
        if m.group(1) != unit:
            out.append(F05.finding(f"name unit {m.group(1)} but Unit {unit}",
                                   path="/CaseActivityExport/@Unit"))
        if m.group(2) != export_date.replace("-", "")[:8]:
            out.append(F05.finding(f"name date {m.group(2)} but ExportDate {export_date}",
                                   path="/CaseActivityExport/@ExportDate"))
        if source.unit and unit != source.unit:
            out.append(F05.finding(f"Unit {unit} but the source {source.name} is unit {source.unit}",
                                   path="/CaseActivityExport/@Unit"))
        return out

    def record_id(self, attrib, root_attrib):
        number = attrib.get("CaseNumber")
        return f"{root_attrib.get('Unit')}/{number}" if number else None

    def record_version(self, record):
        return record.get("LastModified")

    def record_rules(self, record, ctx) -> list[Finding]:
        return record_rules(record, ctx.extra.get("unit"))

    def extract(self, case, ctx: FileContext, record_id: str, record_sha256: str):
        q = self.qname
        modified = case.get("LastModified")
        origin = case.find(q("OriginatingAgency"))
        yield "stg_meg__case", {
            **ctx.lineage(case.sourceline),
            "record_id": record_id, "unit": ctx.extra.get("unit"),
            "case_number": case.get("CaseNumber"), "last_modified": modified,
            "status": case.get("Status"), "record_sha256": record_sha256,
            "export_date": ctx.extra.get("export_date"),
            "opened_date": text(case, "OpenedDate", NS),
            "originating_agency_type": vocab.map_code(codes.AGENCY_TYPE, origin.get("Type")),
            "originating_ori": vocab.blank_to_none(origin.get("ORI")),
            "tracs_report_number": text(case, "TraCSReportNumber", NS),
            "county_fips": text(case, "CountyFIPS", NS),
        }
        birth_dates = {}
        for subj in case.iterfind(f"{q('Subjects')}/{q('Subject')}"):
            sid = subj.get("SubjectId")
            name = subj.find(q("Name"))
            dob = to_date(text(subj, "BirthDate", NS))
            birth_dates[sid] = dob
            yield "stg_meg__subject", {
                **ctx.lineage(subj.sourceline),
                "record_id": record_id, "last_modified": modified, "subject_id": sid,
                "person_key": person_key(ctx.secret, name.get("Last"), name.get("First"), iso(dob)),
                "sex": text(subj, "Sex", NS), "race": text(subj, "Race", NS),
            }
        for defl in case.iterfind(f"{q('Deflections')}/{q('Deflection')}"):
            sid = defl.get("SubjectId")
            referral = to_date(defl.get("ReferralDate"))
            approval = defl.find(q("Approval"))
            manager = defl.find(q("CaseManager"))
            prosecutor = defl.find(q("ProsecutorSubmission"))
            disposal = defl.find(q("EvidenceDisposal"))
            approved_on = approval.get("ApprovedOn") if approval is not None else None

            def attr(el, name):
                return None if el is None else vocab.blank_to_none(el.get(name))

            yield "stg_meg__deflection", {
                **ctx.lineage(defl.sourceline),
                "record_id": record_id, "last_modified": modified, "subject_id": sid,
                "referral_date": iso(referral),
                "pathway": vocab.map_code(codes.PATHWAY, defl.get("Pathway")),
                "approver_role": vocab.map_code(codes.APPROVER_ROLE, attr(approval, "Role")),
                "approver_id": attr(approval, "ApproverId"),
                "approved_at": approved_on,
                "approval_date": approved_on[:10] if approved_on else None,
                "approving_unit": attr(approval, "ApprovingUnit"),
                "case_manager_agency": attr(manager, "Agency"),
                "case_manager_contact_date": attr(manager, "ContactedOn"),
                "prosecutor_submission_date": attr(prosecutor, "Date"),
                "prosecutor_office": attr(prosecutor, "Office"),
                "evidence_disposal_date": attr(disposal, "Date"),
                "evidence_disposal_method": attr(disposal, "Method"),
                "outcome": text(defl, "Outcome", NS),
                "age_at_referral": age_in_years(birth_dates.get(sid), referral),
            }
            for ev in defl.iterfind(f"{q('Evaluations')}/{q('Evaluation')}"):
                yield "stg_meg__evaluation", {
                    **ctx.lineage(ev.sourceline),
                    "record_id": record_id, "last_modified": modified, "subject_id": sid,
                    "evaluation_date": ev.get("Date"), "result": ev.get("Result"),
                }
