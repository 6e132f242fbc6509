"""The drop follows the producers' conventions: names, sidecars, markers, pending files, mtimes,
encodings, attachments, and every unit of the reference."""
import base64
import datetime as dt
import gzip
import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

from lxml import etree

from deflect.configuration import load_config
from deflect.core.units import load_units, unit_codes

CHICAGO = ZoneInfo("America/Chicago")
T = "{urn:il:isp:tracs:export}"
M = "{urn:il:meg:rms:case-activity}"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def clean_files(manifest, source_prefix):
    return [e for e in manifest["files"]
            if e["complete"] and not e["codes"] and e["source"].startswith(source_prefix)]


def read(out, entry):
    data = (out / entry["path"]).read_bytes()
    return gzip.decompress(data) if entry["path"].endswith(".gz") else data


def test_tracs_sidecars(small_drop):
    out, manifest = small_drop
    names = re.compile(r"^TRACS_IL0849800_\d{8}T\d{6}_\d{4}\.xml(\.gz)?$")
    for e in clean_files(manifest, "tracs"):
        path = out / e["path"]
        assert names.match(path.name)
        side = path.with_name(path.name + ".sha256").read_text(encoding="ascii")
        assert side == f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n"
        assert not path.with_name(path.name + ".part").exists()
        assert path.with_name(path.name + ".sha256").stat().st_mtime >= path.stat().st_mtime


def test_pending_files_at_the_end(small_drop):
    out, manifest = small_drop
    states = {e["state"]: e for e in manifest["files"] if e.get("pending")}
    assert set(states) == {"part", "no-sidecar", "no-done", "stale-done"}
    part = out / states["part"]["path"]
    assert part.name.endswith(".part") and part.exists()
    assert not part.with_name(part.name[:-5]).exists()
    nos = out / states["no-sidecar"]["path"]
    assert nos.exists() and not nos.with_name(nos.name + ".sha256").exists()
    nod = out / states["no-done"]["path"]
    assert nod.exists() and not nod.with_name(nod.name + ".done").exists()
    stale = out / states["stale-done"]["path"]
    assert stale.with_name(stale.name + ".done").stat().st_mtime < stale.stat().st_mtime
    assert all(not e["complete"] for e in states.values())


def test_meg_markers_not_older_than_data(small_drop):
    out, manifest = small_drop
    for e in manifest["files"]:
        if e["source"].startswith("meg") and e["complete"]:
            path = out / e["path"]
            assert path.with_name(path.name + ".done").stat().st_mtime >= path.stat().st_mtime
            assert path.with_name(path.name + ".done").stat().st_size == 0


def test_mtimes_are_production_times(small_drop):
    out, manifest = small_drop
    for e in clean_files(manifest, "tracs")[:20]:
        root = etree.fromstring(read(out, e), PARSER)
        created = dt.datetime.fromisoformat(root.get("createdAt"))
        mtime = (out / e["path"]).stat().st_mtime
        assert 0 <= mtime - created.timestamp() < 600
    for e in clean_files(manifest, "meg")[:50]:
        local = dt.datetime.fromtimestamp((out / e["path"]).stat().st_mtime, CHICAGO)
        export_date = dt.date.fromisoformat(e["export_date"])
        assert local.date() == export_date and local.hour >= 22


def test_latin1_units_declare_and_decode(small_drop):
    out, manifest = small_drop
    latin1 = set(manifest["latin1_units"])
    assert latin1
    accented = 0
    for e in clean_files(manifest, "meg"):
        data = (out / e["path"]).read_bytes()
        unit = e["source"][4:].upper()
        enc = "ISO-8859-1" if unit in latin1 else "UTF-8"
        assert data.startswith(f'<?xml version="1.0" encoding="{enc}"?>'.encode())
        text = data.decode("iso-8859-1" if unit in latin1 else "utf-8")
        accented += unit in latin1 and any(ord(c) > 127 for c in text)
        root = etree.fromstring(data, PARSER)  # the declaration is what the parser honours
        assert root.get("Unit") == unit
    assert accented > 0


def test_every_reference_unit_has_a_nightly_file_and_a_source(small_drop):
    out, manifest = small_drop
    units = unit_codes(load_units())
    per_unit = Counter(e["source"] for e in manifest["files"]
                       if e["source"].startswith("meg") and not e.get("superseded"))
    nights = (dt.date(2026, 10, 31) - dt.date(2026, 8, 1)).days + 1
    assert {f"meg-{u.lower()}" for u in units} == set(per_unit)
    assert all(n == nights for n in per_unit.values())
    cfg = load_config(out / "deflect.yaml")
    assert [s.name for s in cfg.sources] == ["tracs-isp"] + [f"meg-{u.lower()}" for u in units]
    assert cfg.person_key_secret_env == "DEFLECT_PERSON_KEY"
    assert cfg.source("tracs-isp").path == str((out / "tracs" / "IL0849800").resolve())
    assert cfg.source("meg-sieg").unit == "SIEG"
    assert str(cfg.landing_dir).startswith(str(out.resolve()))
    assert cfg.warehouse.startswith("duckdb://" + str(out.resolve()))


def test_corrected_resend_keeps_the_name_and_the_original(small_drop):
    out, manifest = small_drop
    corrected = [e for e in manifest["files"] if e.get("corrected_resend")]
    assert corrected
    by_path = {e["path"]: e for e in manifest["files"]}
    for e in corrected:
        original = by_path["superseded/" + e["path"]]
        assert original["sha256"] != e["sha256"]
        new = etree.fromstring((out / e["path"]).read_bytes(), PARSER)
        old = etree.fromstring((out / original["path"]).read_bytes(), PARSER)
        old_lm = {c.get("CaseNumber"): c.get("LastModified") for c in old.iter(M + "Case")}
        changed = [c for c in new.iter(M + "Case") if old_lm[c.get("CaseNumber")] != c.get("LastModified")]
        assert changed and all(c.get("LastModified") > old_lm[c.get("CaseNumber")] for c in changed)


def test_tracs_content_variety(small_drop):
    out, manifest = small_drop
    versions, statuses, divisions, schema_versions = Counter(), Counter(), Counter(), Counter()
    copies = Counter()
    blank, pdf = 0, 0
    for e in clean_files(manifest, "tracs"):
        root = etree.fromstring(read(out, e), PARSER)
        schema_versions[root.get("schemaVersion")] += 1
        for fr in root.iter(T + "FieldReport"):
            versions[int(fr.get("formVersion"))] += 1
            statuses[fr.get("status")] += 1
            divisions[fr.findtext(f"{T}summary/{T}summaryDivision")] += 1
            copies[(fr.get("formNumber"), fr.get("formVersion"))] += 1
            blank += sum(1 for el in fr.iter() if len(el) == 0 and not el.text)
            for att in fr.iter(T + "attachment"):
                raw = base64.b64decode(att.text)
                pdf += raw.startswith(b"%PDF")
                assert "\n" in att.text.strip() or len(att.text.strip()) <= 76
    assert versions[2] and versions[3]
    assert statuses["Voided"] and divisions["DOP"] and divisions["DCI"]
    assert schema_versions["1.0"] and schema_versions["1.1"]
    assert any(n > 1 for n in copies.values())  # re-sends of the same version
    assert blank and pdf
    assert any(e["path"].endswith(".gz") for e in clean_files(manifest, "tracs"))


def test_meg_cases_accumulate_and_refer_to_late_tracs_reports(small_drop):
    out, manifest = small_drop
    evaluations = defaultdict(set)
    first_seen_case_report = {}
    for e in sorted(clean_files(manifest, "meg"), key=lambda e: e["export_date"]):
        root = etree.fromstring((out / e["path"]).read_bytes(), PARSER)
        for c in root.iter(M + "Case"):
            evaluations[c.get("CaseNumber")].add(len(list(c.iter(M + "Evaluation"))))
            r = c.findtext(M + "TraCSReportNumber")
            if r and c.find(f"{M}Deflections/{M}Deflection") is not None:
                first_seen_case_report.setdefault(r, e["export_date"])
    assert sum(1 for v in evaluations.values() if len(v) >= 3) > 0  # evaluations over nights
    first_tracs = {}
    for e in sorted(clean_files(manifest, "tracs"), key=lambda e: e["path"]):
        root = etree.fromstring(read(out, e), PARSER)
        for fr in root.iter(T + "FieldReport"):
            first_tracs.setdefault(fr.findtext(f"{T}summary/{T}summaryReportNumber"), e["export_date"])
    late = [r for r, d in first_seen_case_report.items() if r in first_tracs
            and dt.date.fromisoformat(first_tracs[r]) - dt.date.fromisoformat(d) >= dt.timedelta(days=2)]
    assert late


def test_secret_and_people(small_drop):
    out, manifest = small_drop
    secret = os.environ["DEFLECT_PERSON_KEY"].encode()
    for path in out.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path
    people = json.loads((out / "people.json").read_text(encoding="utf-8"))
    assert people and {"last", "first", "middle", "birth_date"} == set(people[0])
    assert manifest["person_key_secret_env"] == "DEFLECT_PERSON_KEY"
