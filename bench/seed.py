"""Seeding a warehouse with more years of history than were loaded: copies of the loaded year,
made in SQL (PostgreSQL), each shifted back by whole years with its identifiers changed the way
the generator would have numbered that year; and the check that a copy holds the rows the
pipeline loads from the same files rewritten with the same shift.

Why whole years: the generator numbers per calendar year (FR-yy-n forms, ISPyy-n reports,
UNIT-yyyy-nnnn MEG cases), so a calendar year shifted back k years, with the year in every id
lowered by k, is numbered as that year would have been. One exception: a drop's first MEG
files carry cases opened before its first night (numbered in the year before); the copies'
cases of their own year are therefore numbered after those (sequence + P(prefix), P the largest
such number in the loaded year), so no copy's cases meet another copy's or the loaded year's.

Every transformation exists twice, as an SQL expression (`_SQL_FUNCTIONS`, inlined functions in
pg_temp) for the copy and as a Python function for the file rewrite (`rewrite_drop`); the check
(`compare_sample`) is what keeps the two equal.
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

# -- the transformations, in Python --------------------------------------------------------------

_YEAR4 = re.compile(r"\d{4}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRACS_ID = re.compile(r"([A-Z]{2}-)(\d{2})(-.*)", re.DOTALL)
_REPORT = re.compile(r"([A-Z]+)(\d{2})(-\d+)")
_CASE = re.compile(r"(.*)-(\d{4})-(\d+)", re.DOTALL)
_FNAME = re.compile(r"_(\d{4})(\d{4})")


def shift_prefix(s: str | None, k: int) -> str | None:
    """An instant, run id or batch id starting with its year: the year lowered by k, the rest
    (time, offset as written) kept."""
    if s is None or not _YEAR4.match(s):
        return s
    return f"{int(s[:4]) - k:04d}{s[4:]}"


def shift_date(d: dt.date | None, k: int) -> dt.date | None:
    if d is None:
        return None
    try:
        return d.replace(year=d.year - k)
    except ValueError:  # 29 February: PostgreSQL's date - interval gives the 28th
        return d.replace(year=d.year - k, day=28)


def shift_date_text(s: str | None, k: int) -> str | None:
    if s is None or not _DATE.fullmatch(s.strip()):
        return s
    try:
        return shift_date(dt.date.fromisoformat(s.strip()), k).isoformat()
    except ValueError:
        return s


def tracs_id(s: str | None, k: int) -> str | None:
    if s is None:
        return None
    m = _TRACS_ID.fullmatch(s)
    return f"{m[1]}{(int(m[2]) - k) % 100:02d}{m[3]}" if m else f"{s}~{k}"


def report_number(s: str | None, k: int) -> str | None:
    if s is None:
        return None
    m = _REPORT.fullmatch(s)
    return f"{m[1]}{(int(m[2]) - k) % 100:02d}{m[3]}" if m else f"{s}~{k}"


def case_number(s: str | None, k: int, first_year: int, pre: dict[str, int]) -> str | None:
    if s is None:
        return None
    m = _CASE.fullmatch(s)
    if not m:
        return f"{s}~{k}"
    year, seq = int(m[2]), int(m[3])
    new = seq + (pre.get(m[1], 0) if year >= first_year else 0)
    return f"{m[1]}-{year - k:04d}-{new:0{len(m[3])}d}"


def meg_record_id(s: str | None, k: int, first_year: int, pre: dict[str, int]) -> str | None:
    if s is None:
        return None
    if "/" not in s:
        return f"{s}~{k}"
    unit, number = s.split("/", 1)
    return f"{unit}/{case_number(number, k, first_year, pre)}"


def file_name(s: str | None, k: int) -> str | None:
    if s is None:
        return None
    if not _FNAME.search(s):
        return f"{s}~{k}"
    return _FNAME.sub(lambda m: f"_{int(m[1]) - k:04d}{m[2]}", s, count=1)


def sha(s: str | None, k: int) -> str | None:
    return None if s is None else hashlib.sha256(f"{s}:{k}".encode()).hexdigest()


def uid(s: str | None, k: int) -> str | None:
    if s is None:
        return None
    h = hashlib.md5(f"{s}:{k}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


# -- the same, in SQL ------------------------------------------------------------------------------

def _sql_functions(first_year: int, pre: dict[str, int]) -> list[str]:
    """pg_temp functions, LANGUAGE sql with a body that is one expression, so that PostgreSQL
    inlines them into the INSERT ... SELECT."""
    pre_case = "0" if not pre else (
        "CASE p " + " ".join(f"WHEN '{u}' THEN {n}" for u, n in sorted(pre.items())
                             if "'" not in u) + " ELSE 0 END")
    fn = "CREATE OR REPLACE FUNCTION pg_temp.{} RETURNS {} LANGUAGE sql IMMUTABLE AS $f$ {} $f$"
    # time zone dependent: STABLE, else PostgreSQL would not inline them
    stable = fn.replace("IMMUTABLE", "STABLE")
    return [
        fn.format("yr(s text, k int)", "text",
                  r"SELECT CASE WHEN s ~ '^\d{4}' THEN lpad((substr(s, 1, 4)::int - k)::text, 4, "
                  r"'0') || substr(s, 5) ELSE s END"),
        fn.format("d(x date, k int)", "date", "SELECT (x - make_interval(years => k))::date"),
        fn.format("ts(x timestamp, k int)", "timestamp",
                  "SELECT x - make_interval(years => k)"),
        stable.format("tz(x timestamptz, k int)", "timestamptz",
                  "SELECT x - make_interval(years => k)"),
        fn.format("tid(s text, k int)", "text",
                  r"SELECT CASE WHEN s ~ '^[A-Z]{2}-\d{2}-' THEN substr(s, 1, 3) || "
                  r"lpad(((substr(s, 4, 2)::int - k + 100) % 100)::text, 2, '0') || substr(s, 6) "
                  r"ELSE s || '~' || k END"),
        fn.format("rep(s text, k int)", "text",
                  r"SELECT CASE WHEN s ~ '^[A-Z]+\d{2}-\d+$' THEN "
                  r"substring(s from '^([A-Z]+)\d{2}-\d+$') || "
                  r"lpad(((substring(s from '(\d{2})-\d+$')::int - k + 100) % 100)::text, 2, '0')"
                  r" || substring(s from '(-\d+)$') ELSE s || '~' || k END"),
        fn.format("pre(p text)", "int", f"SELECT {pre_case}"),
        # a case's new sequence number: after the prefix's numbers from before first_year
        fn.format("cseq(s text)", "int",
                  r"SELECT substring(s from '-(\d+)$')::int + CASE WHEN "
                  rf"substring(s from '-(\d{{4}})-\d+$')::int >= {int(first_year)} "
                  r"THEN pg_temp.pre(substring(s from '^(.*)-\d{4}-\d+$')) ELSE 0 END"),
        # no FROM in any body: a function with one is not inlined, and runs as a query a row
        fn.format("cno(s text, k int)", "text",
                  r"SELECT CASE WHEN s ~ '^.*-\d{4}-\d+$' THEN "
                  r"substring(s from '^(.*)-\d{4}-\d+$') || '-' || "
                  r"lpad((substring(s from '-(\d{4})-\d+$')::int - k)::text, 4, '0') || '-' || "
                  r"lpad(pg_temp.cseq(s)::text, greatest(length(substring(s from '-(\d+)$')), "
                  r"length(pg_temp.cseq(s)::text)), '0') ELSE s || '~' || k END"),
        fn.format("mrid(s text, k int)", "text",
                  "SELECT CASE WHEN position('/' in s) > 0 THEN split_part(s, '/', 1) || '/' || "
                  "pg_temp.cno(substr(s, position('/' in s) + 1), k) ELSE s || '~' || k END"),
        fn.format("rid(s text, k int)", "text",  # a record id of either kind (MEG ids hold '/')
                  "SELECT CASE WHEN position('/' in s) > 0 THEN pg_temp.mrid(s, k) "
                  "ELSE pg_temp.tid(s, k) END"),
        fn.format("fname(s text, k int)", "text",
                  r"SELECT CASE WHEN s ~ '_\d{8}' THEN regexp_replace(s, '_\d{4}(\d{4})', '_' || "
                  r"lpad((substring(s from '_(\d{4})\d{4}')::int - k)::text, 4, '0') || '\1') "
                  r"ELSE s || '~' || k END"),
        fn.format("h(s text, k int)", "text",
                  "SELECT encode(sha256(convert_to(s || ':' || k, 'UTF8')), 'hex')"),
        fn.format("uid(s text, k int)", "text",
                  "SELECT regexp_replace(md5(s || ':' || k), "
                  "'^(.{8})(.{4})(.{4})(.{4})(.{12})$', '\\1-\\2-\\3-\\4-\\5')"),
        stable.format("chi(s text)", "date",  # deflect.core.dates.chicago_date of an instant
                  "SELECT (s::timestamptz AT TIME ZONE 'America/Chicago')::date"),
        stable.format("ep(x bigint, k int)", "bigint",  # an mtime (epoch seconds) k years earlier
                  "SELECT extract(epoch from (to_timestamp(x) - make_interval(years => k)))"
                  "::bigint"),
    ]


_LINEAGE = {"file_name": "pg_temp.fname(file_name, k)", "file_sha256": "pg_temp.h(file_sha256, k)",
            "batch_id": "pg_temp.yr(batch_id, k)", "load_seq": "load_seq + k * {seq}"}
_TRACS = {**_LINEAGE, "record_id": "pg_temp.tid(record_id, k)"}
_MEG = {**_LINEAGE, "record_id": "pg_temp.mrid(record_id, k)",
        "last_modified": "pg_temp.ts(last_modified, k)"}
_RUN = {"run_id": "pg_temp.yr(run_id, k)"}

# Columns changed in a copy; every other column is copied as it is (person keys, codes, counts,
# county, pathway: the same people and the same kind of events, years earlier).
STAGING = {
    "stg_tracs__field_report": {
        **_TRACS, "last_modified": "pg_temp.yr(last_modified, k)",
        "record_sha256": "pg_temp.h(record_sha256, k)", "export_id": "pg_temp.uid(export_id, k)",
        "export_created_at": "pg_temp.yr(export_created_at, k)",
        "export_date": ("CASE WHEN export_created_at IS NULL THEN pg_temp.d(export_date, k) "
                        "ELSE pg_temp.chi(pg_temp.yr(export_created_at, k)) END"),
        "report_number": "pg_temp.rep(report_number, k)",
        "date_occurred": "pg_temp.d(date_occurred, k)"},
    "stg_tracs__individual": _TRACS,
    "stg_tracs__deflection": {
        **_TRACS, "approved_at": "pg_temp.yr(approved_at, k)",
        "approval_date": "pg_temp.chi(pg_temp.yr(approved_at, k))",
        "referral_date": "pg_temp.d(referral_date, k)",
        "case_manager_contact_date": "pg_temp.d(case_manager_contact_date, k)",
        # the same person (birth date kept), k years younger at the referral
        "age_at_referral": "age_at_referral - k"},
    "stg_tracs__evidence_item": _TRACS,
    "stg_meg__case": {
        **_MEG, "case_number": "pg_temp.cno(case_number, k)",
        "record_sha256": "pg_temp.h(record_sha256, k)", "export_date": "pg_temp.d(export_date, k)",
        "opened_date": "pg_temp.d(opened_date, k)",
        "tracs_report_number": "pg_temp.rep(tracs_report_number, k)"},
    "stg_meg__subject": _MEG,
    "stg_meg__deflection": {
        **_MEG, "referral_date": "pg_temp.d(referral_date, k)",
        "approved_at": "pg_temp.yr(approved_at, k)", "approval_date": "pg_temp.d(approval_date, k)",
        "case_manager_contact_date": "pg_temp.d(case_manager_contact_date, k)",
        "prosecutor_submission_date": "pg_temp.d(prosecutor_submission_date, k)",
        "evidence_disposal_date": "pg_temp.d(evidence_disposal_date, k)",
        "age_at_referral": "age_at_referral - k"},
    "stg_meg__evaluation": {**_MEG, "evaluation_date": "pg_temp.d(evaluation_date, k)"},
}

_LEDGER = {
    **_RUN, "remote_name": "pg_temp.fname(remote_name, k)", "mtime": "pg_temp.ep(mtime, k)",
    "sha256": "pg_temp.h(sha256, k)",
    "landing_path": "replace(landing_path, remote_name, pg_temp.fname(remote_name, k))",
    "duplicate_of": "pg_temp.fname(duplicate_of, k)", "handled_at": "pg_temp.yr(handled_at, k)",
    "marker_mtime": "pg_temp.ep(marker_mtime, k)", "batch_id": "pg_temp.yr(batch_id, k)"}

# The bookkeeping a night reads that grows with history (WHERE: which rows are copied).
META = {
    "meta.file_ledger": (_LEDGER, None),
    "meta.file_ledger_history": ({**_LEDGER, "load_seq": "load_seq + k * {seq}"}, None),
    "meta.load_audit": ({**_RUN, "batch_id": "pg_temp.yr(batch_id, k)",
                         "load_seq": "load_seq + k * {seq}",
                         "started_at": "pg_temp.yr(started_at, k)",
                         "finished_at": "pg_temp.yr(finished_at, k)"}, None),
    "meta.quarantine": ({
        **_RUN, "quarantine_id": "pg_temp.h(quarantine_id, k)",
        "file_name": "pg_temp.fname(file_name, k)", "file_sha256": "pg_temp.h(file_sha256, k)",
        "record_id": ("CASE WHEN kind = 'meg' THEN pg_temp.mrid(record_id, k) "
                      "ELSE pg_temp.tid(record_id, k) END"),
        "record_version": "CASE WHEN kind = 'meg' THEN pg_temp.yr(record_version, k) "
                          "ELSE record_version END",
        "record_sha256": "pg_temp.h(record_sha256, k)",
        "raw_path": "replace(raw_path, file_name, pg_temp.fname(file_name, k))",
        "batch_id": "pg_temp.yr(batch_id, k)", "load_seq": "load_seq + k * {seq}",
        "resolved_run_id": "pg_temp.yr(resolved_run_id, k)",
        "resolved_load_seq": "resolved_load_seq + k * {seq}",
        "superseded_load_seq": "superseded_load_seq + k * {seq}",
        "superseded_run_id": "pg_temp.yr(superseded_run_id, k)"}, None),
    # file and record findings; deflection findings are the refresh's, written when the seeded
    # warehouse's marts are rebuilt
    "meta.finding": ({
        **_RUN, "file_name": "pg_temp.fname(file_name, k)",
        "file_sha256": "pg_temp.h(file_sha256, k)", "record_id": "pg_temp.rid(record_id, k)",
        "record_sha256": "pg_temp.h(record_sha256, k)", "batch_id": "pg_temp.yr(batch_id, k)"},
        "level <> 'deflection'"),
    "meta.load_run": ({**_RUN, "started_at": "pg_temp.tz(started_at, k)",
                       "finished_at": "pg_temp.tz(finished_at, k)",
                       "as_of": "pg_temp.d(as_of, k)"}, None),
}


@dataclass
class SeedResult:
    copies: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)  # rows added per table
    first_year: int = 0
    prehistory: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _prehistory(conn, first_year: int) -> dict[str, int]:
    """P(prefix): the largest sequence number of MEG cases numbered before `first_year`."""
    rows = conn.execute(
        r"""SELECT substring(case_number from '^(.*)-\d{4}-\d+$') AS p,
                   max(substring(case_number from '-(\d+)$')::int)
            FROM staging.stg_meg__case
            WHERE case_number ~ '^.*-\d{4}-\d+$'
              AND substring(case_number from '-(\d{4})-\d+$')::int < %s
            GROUP BY 1""", [first_year]).fetchall()
    return {p: int(n) for p, n in rows}


def _columns(conn, qualified: str) -> list[str]:
    schema, table = qualified.split(".")
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = %s ORDER BY ordinal_position", [schema, table]).fetchall()]


def seed(url: str, copies: int, first_year: int, log=print,
         prehistory: dict[str, int] | None = None) -> SeedResult:
    """Add `copies` years before the loaded one to the PostgreSQL warehouse at `url`: one
    INSERT ... SELECT per table for all copies (copy k = the loaded rows, k years earlier).

    Afterwards the marts still describe the loaded year only: the caller rebuilds them (a
    `deflect run` with nothing new; refresh_state.load_seq is cleared so that a refresh that
    reads only what changed since it rebuilds everything)."""
    import psycopg

    started = time.perf_counter()
    result = SeedResult(copies, 0.0, first_year=first_year)
    with psycopg.connect(url) as conn:
        conn.execute("SET TimeZone = 'America/Chicago'")
        seq = int(conn.execute("SELECT COALESCE(max(load_seq), 0) FROM meta.load_audit")
                  .fetchone()[0])
        # the numbers before first_year: those of this warehouse unless given (a sample
        # checked against the big warehouse's copy must be shifted as that one was)
        result.prehistory = pre = (_prehistory(conn, first_year) if prehistory is None
                                   else prehistory)
        _check_room(conn, pre, first_year)
        for stmt in _sql_functions(first_year, pre):
            conn.execute(stmt)
        plan = [(f"staging.{t}", cols, None) for t, cols in STAGING.items()]
        plan += [(t, cols, where) for t, (cols, where) in META.items()]
        # A MEG record id's new value once per case and copy (about ten regular expressions
        # each), joined by every MEG table, rather than computed for each of its rows
        conn.execute("CREATE TEMP TABLE seed_meg_id AS SELECT r.record_id AS old_id, k AS kk, "
                     "pg_temp.mrid(r.record_id, k) AS new_id FROM (SELECT DISTINCT record_id "
                     "FROM staging.stg_meg__case) r CROSS JOIN generate_series(1, %s) AS k",
                     [copies])
        conn.execute("CREATE INDEX ON seed_meg_id (old_id, kk)")
        conn.execute("ANALYZE seed_meg_id")
        for table, changed, where in plan:
            cols = _columns(conn, table)
            meg = table.startswith("staging.stg_meg__")
            if meg:
                changed = {**changed, "record_id": "COALESCE(m.new_id, "
                                                   "pg_temp.mrid(t.record_id, k))"}
            exprs = [changed[c].format(seq=seq) if c in changed else f't."{c}"' for c in cols]
            names = [f'"{c}"' for c in cols]
            join = (" LEFT JOIN seed_meg_id m ON m.old_id = t.record_id AND m.kk = k"
                    if meg else "")
            t0 = time.perf_counter()
            cur = conn.execute(
                f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)} "
                f"FROM {table} t CROSS JOIN generate_series(1, %s) AS k{join}"
                + (f" WHERE {where}" if where else ""), [copies])
            result.rows[table] = cur.rowcount
            log(f"  seeded {table}: {cur.rowcount:,} rows in {time.perf_counter() - t0:.1f} s")
        # the marts must be rebuilt over every year: no refresh may take them as up to date
        conn.execute("UPDATE meta.refresh_state SET load_seq = NULL")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in [f"staging.{t}" for t in STAGING] + list(META):
            conn.execute(f"ANALYZE {table}")  # as autovacuum would have, over five years
    result.seconds = time.perf_counter() - started
    return result


def _check_room(conn, pre: dict[str, int], first_year: int) -> None:
    """A case number has four digits a year: the shifted numbers must still fit."""
    if not pre:
        return
    row = conn.execute(
        r"""SELECT substring(case_number from '^(.*)-\d{4}-\d+$') AS p,
                   max(substring(case_number from '-(\d+)$')::int)
            FROM staging.stg_meg__case WHERE case_number ~ '^.*-\d{4}-\d+$'
              AND substring(case_number from '-(\d{4})-\d+$')::int >= %s GROUP BY 1""",
        [first_year]).fetchall()
    over = [p for p, n in row if n + pre.get(p, 0) > 9999]
    if over:
        raise ValueError(f"MEG case numbers of {over} would exceed four digits in a copy")


# -- the check: the same shift applied to files, loaded by the pipeline -----------------------------

def _rewrite_tracs(root, k: int) -> None:
    for name, f in (("createdAt", shift_prefix), ("exportId", uid)):
        if root.get(name) is not None:
            root.set(name, f(root.get(name), k))
    texts = {"summaryReportNumber": report_number, "summaryDateOccurred": shift_date_text,
             "deflectionApprovalDateTime": shift_prefix, "deflectionReferralDate": shift_date_text,
             "deflectionCaseManagerContactDate": shift_date_text}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = el.tag.rsplit("}", 1)[-1]
        if local == "FieldReport":
            if el.get("formNumber") is not None:
                el.set("formNumber", tracs_id(el.get("formNumber"), k))
            if el.get("lastModified") is not None:
                el.set("lastModified", shift_prefix(el.get("lastModified"), k))
        elif local in texts and el.text is not None:
            el.text = texts[local](el.text, k)


def _rewrite_meg(root, k: int, first_year: int, pre: dict[str, int]) -> None:
    for name in ("ExportDate", "WindowStart"):
        if root.get(name) is not None:
            root.set(name, shift_date_text(root.get(name), k))
    dates = {"Deflection": ("ReferralDate",), "Approval": (), "CaseManager": ("ContactedOn",),
             "ProsecutorSubmission": ("Date",), "EvidenceDisposal": ("Date",),
             "Evaluation": ("Date",)}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = el.tag.rsplit("}", 1)[-1]
        if local == "Case":
            if el.get("CaseNumber") is not None:
                el.set("CaseNumber", case_number(el.get("CaseNumber"), k, first_year, pre))
            if el.get("LastModified") is not None:
                el.set("LastModified", shift_prefix(el.get("LastModified"), k))
        elif local == "OpenedDate" and el.text is not None:
            el.text = shift_date_text(el.text, k)
        elif local == "TraCSReportNumber" and el.text is not None:
            el.text = report_number(el.text, k)
        elif local == "Approval" and el.get("ApprovedOn") is not None:
            el.set("ApprovedOn", shift_prefix(el.get("ApprovedOn"), k))
        for name in dates.get(local, ()):
            if el.get(name) is not None:
                el.set(name, shift_date_text(el.get(name), k))


def rewrite_drop(src: Path, dest: Path, k: int, first_year: int, pre: dict[str, int]) -> dict:
    """Every data file under `src` (generator layout: tracs/<ORI>/, meg/<UNIT>/) rewritten into
    `dest` as copy k would have it: ids, dates and names shifted by the functions above. A file
    lxml cannot parse (a generated defect) is left out; returns what was written and the names
    (as copy k has them) of the files skipped.
    Completion markers are written as the producer would (a TraCS sidecar with the new digest,
    unless the original's did not match its file: then the same mismatch)."""
    from lxml import etree

    parser = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True,
                             load_dtd=False, remove_blank_text=False)
    written, skipped = [], []
    if dest.exists():
        shutil.rmtree(dest)
    for kind in ("tracs", "meg"):
        for d in sorted((src / kind).iterdir()) if (src / kind).exists() else []:
            (dest / kind / d.name).mkdir(parents=True, exist_ok=True)
            for path in sorted(d.iterdir()):
                if path.name.endswith((".sha256", ".done", ".part")) or not path.is_file():
                    continue
                raw = path.read_bytes()
                try:
                    data = gzip.decompress(raw) if path.name.endswith(".gz") else raw
                    root = etree.fromstring(data, parser)
                except (etree.XMLSyntaxError, OSError, EOFError, ValueError):
                    skipped.append(file_name(path.name, k))
                    continue
                if kind == "tracs":
                    _rewrite_tracs(root, k)
                else:
                    _rewrite_meg(root, k, first_year, pre)
                out = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
                if not out.endswith(b"\n"):
                    out += b"\n"
                if path.name.endswith(".gz"):
                    out = gzip.compress(out, mtime=0)
                name = file_name(path.name, k)
                target = dest / kind / d.name / name
                target.write_bytes(out)
                written.append(f"{kind}/{d.name}/{name}")
                if kind == "tracs":
                    _sidecar(path, raw, target, out)
                elif (path.parent / f"{path.name}.done").exists():
                    (target.parent / f"{name}.done").touch()
    for extra in ("deflect.yaml",):
        if (src / extra).exists():
            shutil.copy2(src / extra, dest / extra)
    return {"written": written, "skipped": skipped}


def _sidecar(path: Path, raw: bytes, target: Path, out: bytes) -> None:
    from adapters.tracs.sidecar import parse_sidecar, sidecar_line

    side = path.parent / f"{path.name}.sha256"
    if not side.exists():
        return
    announced = parse_sidecar(side.read_bytes(), path.name)
    if announced == hashlib.sha256(raw).hexdigest():
        digest = hashlib.sha256(out).hexdigest()
    else:  # a generated F04 defect: keep the mismatch
        digest = "0" * 64
    (target.parent / f"{target.name}.sha256").write_bytes(sidecar_line(digest, target.name))


# Columns that necessarily differ between a copy and the rewritten files' load: digests of bytes
# that differ (the rewritten files, their records), and the load's own batch and sequence.
LINEAGE_EXCLUDED = ("file_sha256", "record_sha256", "batch_id", "load_seq")
META_COMPARED = {
    "meta.file_ledger": ("source", "remote_name", "status", "duplicate_of", "records_loaded",
                         "records_quarantined", "records_already_accepted"),
    "meta.quarantine": ("source", "kind", "level", "file_name", "record_id", "record_version",
                        "codes", "line", "status"),
    "meta.finding": ("source", "file_name", "record_id", "code", "level", "line", '"column"',
                     "path"),
}


def compare_sample(seeded_url: str, loaded_url: str, k: int = 1,
                   skipped: tuple[str, ...] = ()) -> dict:
    """Staging (and the ledger, quarantine and findings) of copy k in `seeded_url` against
    everything the pipeline loaded into `loaded_url` from the rewritten files. `skipped`: names
    (as copy k has them) of files the rewrite could not parse, whose ledger, quarantine and
    finding rows are left out. Returns the number of rows compared per table and the
    differences (empty when equal)."""
    import psycopg

    out: dict = {"rows": {}, "differences": {}}
    with psycopg.connect(seeded_url) as a, psycopg.connect(loaded_url) as b:
        # copy k's rows: those whose run id (and batch id) starts k years before the year of the
        # run that loaded the original files
        runs = [r[0] for r in a.execute("SELECT run_id FROM meta.load_audit").fetchall()]
        copy_year = max(int(x[:4]) for x in runs if x[:4].isdigit()) - k
        for t in STAGING:
            cols = [f'"{c}"' for c in _columns(a, f"staging.{t}") if c not in LINEAGE_EXCLUDED]
            sel = f"SELECT {', '.join(cols)} FROM staging.{t}"
            left = a.execute(sel + " WHERE substr(batch_id, 1, 4) = %s",
                             [f"{copy_year:04d}"]).fetchall()
            right = b.execute(sel).fetchall()
            _diff(out, f"staging.{t}", left, right)
        for t, cols in META_COMPARED.items():
            where = " WHERE level <> 'deflection'" if t == "meta.finding" else ""
            sel = f"SELECT {', '.join(cols)} FROM {t}"
            name = "remote_name" if t == "meta.file_ledger" else "file_name"
            left = a.execute(sel + (where or " WHERE true") + " AND substr(run_id, 1, 4) = %s"
                             f" AND NOT COALESCE({name} = ANY(%s), false)",
                             [f"{copy_year:04d}", list(skipped)]).fetchall()
            right = b.execute(sel + where).fetchall()
            _diff(out, t, left, right)
    return out


def _diff(out: dict, table: str, left: list, right: list) -> None:
    key = lambda r: tuple("" if v is None else str(v) for v in r)
    a, b = sorted(left, key=key), sorted(right, key=key)
    out["rows"][table] = len(b)
    if a != b:
        only_a = [r for r in a if r not in set(b)][:5]
        only_b = [r for r in b if r not in set(a)][:5]
        out["differences"][table] = {"copied": len(a), "loaded": len(b),
                                     "only_copied": [list(map(str, r)) for r in only_a],
                                     "only_loaded": [list(map(str, r)) for r in only_b]}


def local_config(drop: Path, warehouse: str, work: Path) -> Path:
    """A configuration over the drop's own (file:) sources writing into `warehouse`, its run
    directories under `work`; written beside the drop's deflect.yaml (whose paths are relative)."""
    import yaml

    data = yaml.safe_load((drop / "deflect.yaml").read_text())
    data |= {"warehouse": warehouse, "landing_dir": str(work / "landing"),
             "work_dir": str(work / "work"), "report_dir": str(work / "reports")}
    path = drop / f"deflect-{work.name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
