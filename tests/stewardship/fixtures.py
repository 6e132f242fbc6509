"""A small warehouse with the contract's `reporting` and `quality` names and columns, filled by
hand: two runs, a finding for every §5 code, quarantined files and records whose raw XML (kept
in the landing area) holds names and birth dates that must never reach a report."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from deflect.core.config import Config, parse_config
from deflect.core.rules import CODES
from warehouse import connect, migrate

# The migrated warehouse's own quarantine, review trail and entry states (migration 0014); the
# other public names are replaced by tables filled by hand.
HAND_FILLED = (
    "reporting.load_run",
    "quality.finding",
    "quality.file_ledger",
    "reporting.deflection",
    "reporting.deflection_counts",
    "reporting.followup_compliance",
)
DDL = """
create table reporting.load_run (run_id text, source text, started_at timestamptz,
  finished_at timestamptz, as_of date, files_seen bigint, files_loaded bigint, files_pending bigint,
  files_quarantined bigint, files_duplicate bigint, records_loaded bigint,
  records_quarantined bigint, status text);
create table quality.finding (run_id text, source text, file_name text, record_id text,
  deflection_id text, code text, level text, line integer, "column" integer, path text,
  message text);
create table quality.file_ledger (source text, remote_name text, size bigint, mtime bigint,
  sha256 text, status text, run_id text, landing_path text, duplicate_of text,
  records_loaded bigint, records_quarantined bigint, handled_at timestamptz);
create table reporting.deflection (deflection_id text, person_key text, referral_date date,
  referral_quarter text, pathway text, approving_unit_code text, originating_agency_type text,
  county_fips text, sources text, sex text, race text, ethnicity text, age_at_referral integer,
  first_evaluation_date date, evaluated_within_90_days boolean, outcome text,
  prosecutor_submission_date date, flags text);
create table reporting.deflection_counts (approving_unit_code text, referral_quarter text,
  pathway text, deflections bigint);
create table reporting.followup_compliance (approving_unit_code text, referral_quarter text,
  referrals bigint, due bigint, evaluated_within_90_days bigint, overdue bigint,
  pct_evaluated_within_90_days numeric(5,1));
"""

QUARANTINE = (
    "quarantine_id, run_id, source, file_name, file_sha256, level, record_id, record_version, "
    "record_sha256, codes, line, raw_path"
)
RUN1 = "20261101T073000Z-aaaa0001"
RUN2 = "20261102T073000Z-bbbb0002"
BAD_DEFLECTION = "D00000000000000000000003b"

# Personal data that appears in the raw XML only.
PEOPLE = [
    {"last": "Kowalczykowa", "first": "Bronislawa", "middle": "Teofila", "dob": "1971-03-09"},
    {"last": "Quennell", "first": "Ottoline", "middle": "", "dob": "1984-11-23"},
    {"last": "Featherstonehaugh", "first": "Peregrine", "middle": "J", "dob": "1990-06-17"},
]

TRACS_BROKEN = """<?xml version="1.0" encoding="UTF-8"?>
<TraCSExport xmlns="urn:il:isp:tracs:export" schemaVersion="1.1"
             exportId="5b0c2f7e-3c1a-4f43-9a51-0d6f1f3e2a10"
             createdAt="2026-11-01T01:30:04-06:00" agencyORI="IL0849800">
  <Contact contactId="C-26-00012345">
    <FieldReport formNumber="FR-26-0001234" formVersion="1" status="Transmitted"
                 lastModified="2026-10-31T22:14:03-05:00">
      <individuals>
        <individual seq="1">
          <individualRole>01</individualRole>
          <individualLastName>Kowalczykowa</individualLastName>
          <individualFirstName>Bronislawa</individualFirstName>
          <individualMiddleName>Teofila</individualMiddleName>
          <individualDOB>1971-03-09</individualDOB>
          <individualSex>F</individualSex>
        </individual>
      <narrative>Spoke with Kowalczykowa, Bronislawa (DOB 1971-03-09) at the scene
"""

MEG_CASE = """<Case xmlns="urn:il:meg:rms:case-activity" CaseNumber="SIEG-2026-0412" LastModified="2026-10-30T16:02:11" Status="OPEN">
    <OpenedDate>2026-10-25</OpenedDate>
    <OriginatingAgency Type="ISP-DOP" ORI="IL0849800"/>
    <CountyFIPS>17199</CountyFIPS>
    <Subjects>
      <Subject SubjectId="1">
        <Name First="Ottoline"
              Last="Quennell"/>
        <BirthDate>1984-11-23</BirthDate>
        <Sex>F</Sex>
        <Race>W</Race>
      </Subject>
    </Subjects>
    <Deflections>
      <Deflection SubjectId="2" ReferralDate="2026-10-24" Pathway="9">
        <Evaluations/>
        <Outcome>PENDING</Outcome>
      </Deflection>
    </Deflections>
  </Case>"""

TRACS_RECORD = """<FieldReport xmlns="urn:il:isp:tracs:export" formNumber="FR-26-0009999" formVersion="2" status="Accepted" lastModified="2026-10-31T10:00:00-05:00">
      <individuals>
        <individual seq="1">
          <individualRole>01</individualRole>
          <individualLastName>Featherstonehaugh</individualLastName>
          <individualFirstName>Peregrine</individualFirstName>
          <individualMiddleName>J</individualMiddleName>
          <individualDOB>1990-06-17</individualDOB>
          <individualDisposition>CD</individualDisposition>
        </individual>
      </individuals>
      <narrative><![CDATA[Peregrine Featherstonehaugh was referred]]></narrative>
    </FieldReport>"""


@dataclass
class Env:
    config: Config
    db_path: Path
    landing: Path
    report_dir: Path


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_config(tmp: Path, db_path: Path | None = None, warehouse: str | None = None) -> Config:
    """The configuration, also written to tmp/deflect.yaml for the command-line tests; the
    warehouse is the DuckDB file `db_path`, or any warehouse URL."""
    if warehouse is None:
        warehouse = f"duckdb:///{db_path}"  # four slashes: an absolute path
    elif warehouse.startswith("duckdb://"):  # the configuration's form of an absolute path
        warehouse = "duckdb:///" + warehouse[len("duckdb://"):]
    raw = {
        "warehouse": warehouse,
        "landing_dir": str(tmp / "landing"),
        "person_key_secret_env": "DEFLECT_PERSON_KEY",
        "work_dir": str(tmp / "work"),
        "report_dir": str(tmp / "reports"),
        "sources": [
            {"name": "tracs-isp", "kind": "tracs", "url": f"file://{tmp}/drop/tracs"},
            {"name": "meg-sieg", "kind": "meg", "unit": "SIEG", "url": f"file://{tmp}/drop/meg"},
        ],
    }
    (tmp / "deflect.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    return parse_config(raw, tmp / "deflect.yaml")


def build(tmp: Path) -> Env:
    tmp = Path(tmp)
    db_path = tmp / "wh.duckdb"
    config = make_config(tmp, db_path)
    landing = config.landing_dir
    (landing / "quarantine").mkdir(parents=True)
    broken_sha, meg_sha, tracs_sha = _sha(TRACS_BROKEN), _sha(MEG_CASE), _sha(TRACS_RECORD)
    (landing / "quarantine" / f"{broken_sha}.xml").write_text(TRACS_BROKEN, encoding="utf-8")
    (landing / "quarantine" / f"{meg_sha}.xml").write_text(MEG_CASE, encoding="utf-8")
    # the third one is found by its digest, with no raw_path recorded
    (landing / "quarantine" / f"{tracs_sha}.xml").write_text(TRACS_RECORD, encoding="utf-8")

    with connect(config.warehouse) as wh:
        migrate(wh)
    con = duckdb.connect(str(db_path))
    for view in HAND_FILLED:
        con.execute(f"drop view {view}")
    con.execute(DDL)
    t0 = dt.datetime(2026, 11, 2, 7, 30, tzinfo=dt.UTC)
    for run, day, loaded, quar in ((RUN1, 1, 40, 1), (RUN2, 2, 55, 2)):
        for source, seen in (("tracs-isp", 3), ("meg-sieg", 2)):
            con.execute(
                "insert into reporting.load_run values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    run,
                    source,
                    t0,
                    t0,
                    dt.date(2026, 11, day),
                    seen,
                    seen - 1,
                    0,
                    1,
                    0,
                    loaded,
                    quar,
                    "ok" if source == "tracs-isp" or run == RUN1 else "failed",
                ],
            )
    tracs_file, meg_file = (
        "TRACS_IL0849800_20261101T013004_0001.xml",
        "CaseActivity_SIEG_20261101.xml",
    )
    rows = []
    for code in CODES:  # one finding of every code in RUN2
        if code.startswith("F"):
            rows.append(
                [
                    RUN2,
                    "tracs-isp",
                    tracs_file,
                    None,
                    None,
                    code,
                    "file",
                    17,
                    1,
                    "/TraCSExport",
                    f"file rule {code}",
                ]
            )
        elif code.startswith(("S", "B")):
            rows.append(
                [
                    RUN2,
                    "meg-sieg",
                    meg_file,
                    "SIEG/SIEG-2026-0412",
                    None,
                    code,
                    "record",
                    119,
                    9,
                    "/CaseActivityExport/Case/Deflections/Deflection",
                    f"record rule {code}",
                ]
            )
        else:
            rows.append(
                [
                    RUN2,
                    "meg-sieg",
                    meg_file,
                    "SIEG/SIEG-2026-0001",
                    "D0123456789abcdef01234567",
                    code,
                    "deflection",
                    None,
                    None,
                    None,
                    f"flag {code}",
                ]
            )
    # a schema message quoting a birth date: must be masked in every output
    rows.append(
        [
            RUN2,
            "tracs-isp",
            "TRACS_IL0849800_20261101T090000_0002.xml",
            "FR-26-0009999",
            None,
            "B01",
            "record",
            108,
            11,
            "/TraCSExport/Contact/FieldReport/individuals/individual/individualDOB",
            "Element '{urn:il:isp:tracs:export}individualDOB': '1990-06-17' is not valid",
        ]
    )
    rows.append(
        [RUN1, "tracs-isp", tracs_file, None, None, "F04", "file", None, None, None, "checksum"]
    )
    rows.append(
        [
            RUN1,
            "meg-sieg",
            meg_file,
            "SIEG/SIEG-2026-0001",
            "D0123456789abcdef01234567",
            "W01",
            "deflection",
            None,
            None,
            None,
            "no approval",
        ]
    )
    con.executemany("insert into quality.finding values (?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.executemany(
        f"insert into meta.quarantine ({QUARANTINE}, status) "
        "values (?,?,?,?,?,?,?,?,?,?,?,?,'open')",
        [
            [
                "q-0001",
                RUN1,
                "tracs-isp",
                tracs_file,
                "f" * 64,
                "file",
                None,
                None,
                None,
                "F04",
                None,
                None,
            ],
            [
                "q-0002",
                RUN2,
                "tracs-isp",
                tracs_file,
                broken_sha,
                "file",
                None,
                None,
                None,
                "F01,F02,F03,F04,F05,F06,F07,F08",
                None,
                f"quarantine/{broken_sha}.xml",
            ],
            [
                "q-0003",
                RUN2,
                "meg-sieg",
                meg_file,
                "e" * 64,
                "record",
                "SIEG/SIEG-2026-0412",
                "2026-10-30T16:02:11",
                meg_sha,
                "S01,B03",
                105,
                str(landing / "quarantine" / f"{meg_sha}.xml"),
            ],
            [
                "q-0004",
                RUN2,
                "tracs-isp",
                "TRACS_IL0849800_20261101T090000_0002.xml",
                "d" * 64,
                "record",
                "FR-26-0009999",
                "2",
                tracs_sha,
                "B01",
                100,
                None,
            ],
        ],
    )
    # a record quarantined in RUN1 whose later version loaded in RUN2: resolved by the warehouse
    con.execute(
        f"insert into meta.quarantine ({QUARANTINE}, status, resolved_run_id) "
        "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            "q-0005",
            RUN1,
            "meg-sieg",
            meg_file,
            "9" * 64,
            "record",
            "SIEG/SIEG-2026-0007",
            "2026-10-01T08:00:00",
            "8" * 64,
            "B05",
            40,
            None,
            "resolved",
            RUN2,
        ],
    )
    con.executemany(
        "insert into reporting.deflection values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            [
                "D0123456789abcdef01234567",
                "a" * 64,
                dt.date(2026, 8, 3),
                "2026-Q3",
                "OFFICER_INTERVENTION",
                "UNATTRIBUTED",
                "ISP_DOP",
                "17199",
                "TRACS",
                "F",
                "W",
                "N",
                34,
                None,
                False,
                "PENDING",
                None,
                "W01,W15",
            ],
            [
                "D00000000000000000000002a",
                "b" * 64,
                dt.date(2026, 8, 5),
                "2026-Q3",
                "SELF_REFERRAL",
                "SIEG",
                "MEG",
                "17199",
                "TRACS+MEG",
                "M",
                "B",
                None,
                41,
                dt.date(2026, 9, 1),
                True,
                "SUCCESSFUL",
                None,
                "W10",
            ],
            # deliberately wrong for the expectation suites: unit outside the reference, age 130
            [
                BAD_DEFLECTION,
                None,
                dt.date(2026, 9, 5),
                "2026-Q3",
                "NALOXONE_PLUS",
                "NOPE",
                "MEG",
                "17199",
                "MEG",
                "U",
                "U",
                None,
                130,
                None,
                False,
                "PENDING",
                None,
                "",
            ],
        ],
    )
    # tonight's refresh (RUN2's) changed every deflection: the row-level suite checks them all
    con.execute("insert into marts.fct_deflection (deflection_id, changed_run_id) "
                "select deflection_id, ? from reporting.deflection", [RUN2])
    con.executemany(
        "insert into reporting.deflection_counts values (?,?,?,?)",
        [
            ["UNATTRIBUTED", "2026-Q3", "OFFICER_INTERVENTION", 1],
            ["SIEG", "2026-Q3", "SELF_REFERRAL", 1],
            ["SIEG", "2026-Q3", "NALOXONE_PLUS", 1],
        ],
    )
    con.executemany(
        "insert into reporting.followup_compliance values (?,?,?,?,?,?,?)",
        [["UNATTRIBUTED", "2026-Q3", 1, 1, 0, 1, 0.0], ["SIEG", "2026-Q3", 2, 2, 1, 1, 50.0]],
    )
    con.close()
    return Env(config=config, db_path=db_path, landing=landing, report_dir=config.report_dir)


def write_run2_individuals(env: Env, second_person_key: str) -> None:
    """RUN2's canonical TraCS individuals as its batch wrote them: one clean row, and one with a
    bad sex code and `second_person_key` where the person key goes."""
    batch = env.config.work_dir / "runs" / RUN2 / "batches" / "b0000"
    batch.mkdir(parents=True)
    (batch / "stg_tracs__individual.csv").write_text(
        "source,file_name,file_sha256,line,record_id,form_version,seq,role,person_key,sex,race,"
        "ethnicity,disposition\n"
        f"tracs-isp,T1.xml,{'1' * 64},10,FR-26-0000001,1,1,01,{'c' * 64},M,W,N,CD\n"
        f"tracs-isp,T1.xml,{'1' * 64},30,FR-26-0000001,1,2,02,{second_person_key},Z,W,N,AR\n",
        encoding="utf-8",
    )


def personal_values() -> list[str]:
    values = []
    for p in PEOPLE:
        values += [p["last"], p["first"], p["dob"]] + (
            [p["middle"]] if len(p["middle"]) > 1 else []
        )
    return values
