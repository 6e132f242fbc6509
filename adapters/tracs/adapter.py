"""TraCS: drop protocol (sidecar), document layout, F05, extraction to canonical rows."""
from __future__ import annotations

import hashlib
import re

from adapters.tracs import codes
from adapters.tracs.expectations import SUITES
from adapters.tracs.fields import FIELDS
from adapters.tracs.rules import DEFLECTION, INDIVIDUALS, NS, record_rules
from adapters.tracs.sidecar import parse_sidecar, sidecar_line
from adapters.tracs.tables import TABLES
from deflect.core import vocab
from deflect.core.dates import chicago_date
from deflect.core.person_key import age_in_years, person_key
from ingestion.adapter import Adapter, FileContext, child_texts, iso, to_date
from ingestion.findings import F05, Finding
from schemas.registry import SCHEMA_DIR, SchemaSet

# the paths extraction looks up, spelled once (every record of a night is extracted); those
# the rules share come from rules.py
_SUMMARY = f"{{{NS}}}summary"
_ITEMS = f"{{{NS}}}evidence/{{{NS}}}item"

SCHEMAS = SchemaSet("tracs", "TraCS export", NS, "schemaVersion", (
    ("1.0", SCHEMA_DIR / "tracs-incident-export-1.0.xsd"),
    ("1.1", SCHEMA_DIR / "tracs-incident-export-1.1.xsd"),
))

NAME = re.compile(r"TRACS_([A-Z]{2}[0-9A-Z]{7})_(\d{8})T(\d{6})_(\d{4})\.xml(\.gz)?")


class TracsAdapter(Adapter):
    kind = "tracs"
    schemas = SCHEMAS
    root = "TraCSExport"
    containers = ("Contact",)
    record = "FieldReport"
    name_pattern = NAME
    tables = TABLES
    suites = SUITES
    pathway_codes = codes.PATHWAY
    fields = FIELDS

    def sidecar_name(self, name: str) -> str:
        return name + ".sha256"

    def completion_marker(self, name: str) -> str:
        return self.sidecar_name(name)

    def announced_sha256(self, name, read_small) -> str | None:
        return parse_sidecar(read_small(self.sidecar_name(name)), name)

    def is_complete(self, entry, listing) -> bool:
        # written as <name>.part, renamed, then the sidecar: complete once the sidecar exists
        return self.sidecar_name(entry.name) in listing

    def mark_complete(self, directory, name) -> None:
        h = hashlib.sha256()
        with open(directory / name, "rb") as fh:
            for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                h.update(chunk)
        (directory / self.sidecar_name(name)).write_bytes(sidecar_line(h.hexdigest(), name))

    def file_context_extra(self, root_attrib):
        created = root_attrib.get("createdAt")
        return {"export_date": chicago_date(created) if created else None}

    def check_file_name(self, file_name, root_attrib, source) -> list[Finding]:
        """F05: the ORI and date of the name against agencyORI and createdAt (Chicago date)."""
        m = NAME.fullmatch(file_name)
        if not m:
            return [F05.finding(f"{file_name} is not a TraCS data file name")]
        out = []
        ori = root_attrib.get("agencyORI")
        if m.group(1) != ori:
            out.append(F05.finding(f"name ORI {m.group(1)} but agencyORI {ori}", path="/TraCSExport/@agencyORI"))
        created = chicago_date(root_attrib["createdAt"])
        if m.group(2) != created.strftime("%Y%m%d"):
            out.append(F05.finding(f"name date {m.group(2)} but createdAt is {created} in Chicago",
                                   path="/TraCSExport/@createdAt"))
        return out

    def record_id(self, attrib, root_attrib):
        return attrib.get("formNumber")

    def record_version(self, record):
        return record.get("formVersion")

    def record_rules(self, record, ctx) -> list[Finding]:
        return record_rules(record)

    def extract(self, form, ctx: FileContext, record_id: str, record_sha256: str):
        version = form.get("formVersion")
        s = child_texts(form.find(_SUMMARY), NS)
        division = s.get("summaryDivision")
        yield "stg_tracs__field_report", {
            **ctx.lineage(form.sourceline),
            "record_id": record_id, "form_version": version, "status": form.get("status"),
            "last_modified": form.get("lastModified"), "record_sha256": record_sha256,
            "schema_version": ctx.root_attrib.get("schemaVersion"),
            "export_id": ctx.root_attrib.get("exportId"),
            "export_created_at": ctx.root_attrib.get("createdAt"),
            "export_date": iso(ctx.extra.get("export_date")),
            "report_number": s.get("summaryReportNumber"),
            "date_occurred": s.get("summaryDateOccurred"),
            "time_occurred": s.get("summaryTimeOccurred"),
            "division": division,
            "originating_agency_type": vocab.map_code(codes.DIVISION_AGENCY_TYPE, division),
            "unit": s.get("summaryUnit"),
            "officer_badge": s.get("summaryOfficerBadge"),
            "county_fips": codes.county_fips(s.get("summaryCountyCode")),
            "incident_type": s.get("summaryIncidentType"),
        }
        for ind in form.iterfind(INDIVIDUALS):
            seq = ind.get("seq")
            i = child_texts(ind, NS)
            dob = to_date(i.get("individualDOB"))
            yield "stg_tracs__individual", {
                **ctx.lineage(ind.sourceline),
                "record_id": record_id, "form_version": version, "seq": seq,
                "role": i.get("individualRole"),
                # names and birth date end here: only the key (and the age below) go on
                "person_key": person_key(ctx.secret, i.get("individualLastName"),
                                         i.get("individualFirstName"), iso(dob)),
                "sex": i.get("individualSex"), "race": i.get("individualRace"),
                "ethnicity": i.get("individualEthnicity"),
                "disposition": i.get("individualDisposition"),
            }
            defl = ind.find(DEFLECTION)
            if defl is None:
                continue
            d = child_texts(defl, NS)
            approved_at = d.get("deflectionApprovalDateTime")
            referral = to_date(d.get("deflectionReferralDate"))
            yield "stg_tracs__deflection", {
                **ctx.lineage(defl.sourceline),
                "record_id": record_id, "form_version": version, "seq": seq,
                "pathway": vocab.map_code(codes.PATHWAY, d.get("deflectionPathway")),
                "approving_unit": d.get("deflectionApprovalUnit"),
                "approver_role": vocab.map_code(codes.APPROVER_ROLE,
                                                d.get("deflectionApproverRole")),
                "approver_id": d.get("deflectionApproverId"),
                "approved_at": approved_at,
                "approval_date": iso(chicago_date(approved_at)) if approved_at else None,
                "referral_date": iso(referral),
                "case_manager_agency": d.get("deflectionCaseManagerAgency"),
                "case_manager_contact_date": d.get("deflectionCaseManagerContactDate"),
                "charges_held_in_abeyance": d.get("deflectionChargesHeldInAbeyance"),
                "co_responder_type": d.get("deflectionCoResponderType"),
                "age_at_referral": age_in_years(dob, referral),
            }
        for item in form.iterfind(_ITEMS):
            it = child_texts(item, NS)
            yield "stg_tracs__evidence_item", {
                **ctx.lineage(item.sourceline),
                "record_id": record_id, "form_version": version, "seq": item.get("seq"),
                "seized": it.get("itemSeized"), "item_status": it.get("itemStatus"),
            }
