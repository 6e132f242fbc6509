"""Hand-made batch directories with the canonical columns, and the PII scan assertion."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from adapters.registry import staging_columns, staging_tables
from deflect.core.canonical import BATCH_KEYS, BOOKKEEPING

TABLES = staging_columns()
STAGING = staging_tables()  # every kind's staging tables, as the pipeline hands them over


def current(wh, **kwargs) -> CurrentRows:
    """The warehouse's current rows, as the rules get them."""
    return CurrentRows.from_tables(current_rows(wh, STAGING, **kwargs))
from deflect.core.person_key import normalise_name
from devtools.scan import find_strings
from transforms import CurrentRows
from warehouse import current_rows

SHA_A = "a" * 64
SHA_B = "b" * 64


def write_batch(root: Path, batch_id: str, kind: str, rows: dict[str, list[dict]],
                run_id: str = "run-1", source: str | None = None, **meta) -> Path:
    """A batch directory: batch.json plus one CSV per table given (and empty bookkeeping CSVs).

    Each row is a dict of some canonical columns; the others are written empty (NULL)."""
    source = source or ("tracs-isp" if kind == "tracs" else "meg-sieg")
    bdir = root / batch_id
    bdir.mkdir(parents=True)
    spec = {**TABLES, **BOOKKEEPING}
    for name in [*BOOKKEEPING, *rows]:
        columns = spec[name]
        with open(bdir / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for row in rows.get(name, []):
                unknown = set(row) - set(columns)
                assert not unknown, f"{name}: not canonical columns {unknown}"
                full = {"source": source, **row} if "source" in columns else row
                writer.writerow(["" if full.get(c) is None else full.get(c) for c in columns])
    info = {k: None for k in BATCH_KEYS}
    info.update(batch_id=batch_id, run_id=run_id, source=source, kind=kind, status="ok",
                started_at="2026-11-01T03:00:00+00:00", finished_at="2026-11-01T03:01:00+00:00")
    info.update(meta)
    (bdir / "batch.json").write_text(json.dumps(info), encoding="utf-8")
    return bdir


def tracs_form(record_id: str, version: int, *, status: str = "Transmitted", file_sha=SHA_A,
               file_name="TRACS_IL0849800_20261025T013000_1.xml", line=10, report="ISP26-000001",
               people=(("1", "CD", "k" * 64),), deflections=(("1", "SELF_REFERRAL", "SIEG"),),
               items=()) -> dict[str, list[dict]]:
    """Rows of one TraCS FieldReport version: the form, its individuals, deflections, items."""
    lineage = dict(file_name=file_name, file_sha256=file_sha, record_id=record_id,
                   form_version=version)
    return {
        "stg_tracs__field_report": [dict(
            lineage, line=line, status=status, last_modified="2026-10-24T22:14:03-05:00",
            record_sha256=f"{record_id}-{version}-{file_sha[:4]}", schema_version="3.2",
            export_date="2026-10-25", report_number=report, date_occurred="2026-10-24",
            division="DOP", originating_agency_type="ISP_DOP", county_fips="17199",
        )],
        "stg_tracs__individual": [
            dict(lineage, line=line + 1 + i, seq=seq, role="SUSPECT", person_key=key, sex="M",
                 race="W", ethnicity="N", disposition=disp)
            for i, (seq, disp, key) in enumerate(people)
        ],
        "stg_tracs__deflection": [
            dict(lineage, line=line + 5 + i, seq=seq, pathway=pathway, approving_unit=unit,
                 approver_role="COMMANDER", approval_date="2026-10-24",
                 referral_date="2026-10-24", age_at_referral=34)
            for i, (seq, pathway, unit) in enumerate(deflections)
        ],
        "stg_tracs__evidence_item": [
            dict(lineage, line=line + 9 + i, seq=seq, seized=seized, item_status=st)
            for i, (seq, seized, st) in enumerate(items)
        ],
    }


def meg_case(record_id: str, last_modified: str, *, status: str = "OPEN", file_sha=SHA_A,
             file_name="CaseActivity_SIEG_20261025.xml", line=5, subjects=("1",),
             evaluations=(("1", "2026-11-02", "ENG"),)) -> dict[str, list[dict]]:
    lineage = dict(file_name=file_name, file_sha256=file_sha, record_id=record_id,
                   last_modified=last_modified)
    unit, case_number = record_id.split("/")
    return {
        "stg_meg__case": [dict(
            lineage, line=line, unit=unit, case_number=case_number, status=status,
            record_sha256=f"{record_id}-{last_modified}-{file_sha[:4]}", export_date="2026-10-25",
            opened_date="2026-10-20", originating_agency_type="MEG", county_fips="17199",
        )],
        "stg_meg__subject": [dict(lineage, line=line + 1, subject_id=s, person_key="m" * 64,
                                  sex="F", race="B") for s in subjects],
        "stg_meg__deflection": [dict(lineage, line=line + 3, subject_id=s,
                                     referral_date="2026-10-21", pathway="ACTIVE_OUTREACH",
                                     approving_unit="SIEG", approval_date="2026-10-21",
                                     outcome="PENDING", age_at_referral=40) for s in subjects],
        "stg_meg__evaluation": [dict(lineage, line=line + 6, subject_id=s, evaluation_date=d,
                                     result=r) for s, d, r in evaluations],
    }


def merge(*parts: dict[str, list[dict]]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for part in parts:
        for name, rows in part.items():
            out.setdefault(name, []).extend(rows)
    return out


def table_counts(wh, schemas=("staging", "meta", "marts")) -> dict[str, int]:
    """Row count of every base table in `schemas` (to show a second load changed nothing)."""
    marks = ", ".join("?" for _ in schemas)
    tables = wh.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        f"WHERE table_schema IN ({marks}) AND table_type = 'BASE TABLE' "
        "ORDER BY table_schema, table_name",
        list(schemas),
    )
    return {f"{s}.{t}": wh.scalar(f"SELECT count(*) FROM {s}.{t}") for s, t in tables
            if (s, t) != ("meta", "schema_migrations")}


def assert_no_pii(wh, names: list[str]) -> None:
    """Fail if any text column of any warehouse table or view contains one of `names`."""
    hits = find_strings(wh, names)
    assert not hits, "personal data found in: " + ", ".join(
        sorted({f"{h.schema}.{h.table}.{h.column}" for h in hits})
    )


def people_needles(path: Path) -> list[str]:
    """Every name and birth date of the generator's people.json (a list of objects with `last`,
    `first`, `middle`, `birth_date`), plus each name's normalised form (what the person key
    hashes), which must not leak either."""
    people = json.loads(Path(path).read_text(encoding="utf-8"))
    names = [p.get(k) for p in people for k in ("last", "first", "middle") if p.get(k)]
    dates = [p["birth_date"] for p in people if p.get("birth_date")]
    normalised = [n for n in (normalise_name(x) for x in names) if n and n not in names]
    return names + dates + normalised


DATA_DICTIONARY = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def assert_view_written_once_with_grants(version: int, view: str) -> None:
    """A steward view's migration: the view in the portable file only, and a PostgreSQL file that
    adds grants (to the steward, none to the analyst) and creates nothing."""
    from warehouse.migrate import list_migrations

    mig = next(m for m in list_migrations() if m.version == version)
    assert set(mig.files) == {"any", "postgresql"}
    grants = mig.files["postgresql"].read_text(encoding="utf-8")
    assert "CREATE" not in grants
    assert f"GRANT SELECT ON {view} TO deflect_steward" in grants
    assert "deflect_analyst" not in grants.replace("FROM deflect_analyst", "")


def assert_columns_documented(view: str, columns) -> None:
    """Every column of `view` is named in its section of docs/data-dictionary.md."""
    text = DATA_DICTIONARY.read_text(encoding="utf-8")
    heading = re.search(rf"^#+ `{re.escape(view)}`.*$", text, flags=re.MULTILINE)
    assert heading
    body = re.split(r"^#+ ", text[heading.end():], maxsplit=1, flags=re.MULTILINE)[0]
    for column, _ in columns:
        assert f"`{column}`" in body, column


def state_view_of(version: int) -> str:
    """The SELECT of quality.quarantine_state as migration `version` wrote it (to compare a
    later definition's rows with it)."""
    from warehouse.migrate import list_migrations

    mig = next(m for m in list_migrations() if m.version == version)
    text = mig.files["any"].read_text(encoding="utf-8")
    found = re.search(r"CREATE OR REPLACE VIEW quality\.quarantine_state AS\n(.*?);\n", text,
                      re.DOTALL)
    assert found, f"migration {version} defines no quality.quarantine_state"
    return found.group(1)


def state_rows_of(wh, version: int) -> list[tuple]:
    """quality.quarantine_state's rows as migration `version`'s definition derives them from
    the warehouse's rows now, ordered by entry (a view made for the reading and dropped)."""
    name = f"quality.quarantine_state_{version:04d}"
    wh.execute(f"CREATE VIEW {name} AS {state_view_of(version)}")
    try:
        return [tuple(r) for r in wh.query(f"SELECT * FROM {name} ORDER BY quarantine_id")]
    finally:
        wh.execute(f"DROP VIEW {name}")
