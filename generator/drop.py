"""Writing the drop exactly as the producers do: TraCS `.part` → rename → `.sha256`, MEG file then
`.done`; file mtimes set to the simulated production times. Defects are applied here, and each
one is recorded."""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import random
import uuid
from bisect import bisect_right
from dataclasses import replace
from pathlib import Path

from generator.defects import DefectPlanner
from generator.model import CHICAGO, ISP_ORI, Case, Event, MDeflection, TDeflection, epoch
from generator.xmlout import (
    MEG_NS,
    TRACS_NS,
    meg_header,
    render_case,
    tracs_datetime,
    tracs_header,
    write_field_report,
    write_other_form,
)

DOCTYPE = '<!DOCTYPE {root} [\n<!ENTITY vendor "Records Vendor">\n]>\n'


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def truncate(path: Path, share: float) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(max(1, int(size * share)))


class Ledger:
    """What was written: manifest["files"] in memory (one small entry per file), defects streamed
    to a JSON-lines file (their number grows with the forms)."""

    def __init__(self, out: Path):
        self.out = out
        self.files: list[dict] = []
        self.defects_path = out / ".defects.jsonl"
        self._defects = open(self.defects_path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self.defect_counts: dict[str, int] = {}

    def file(self, path: Path, source: str, complete: bool, codes=(), **extra) -> dict:
        entry = {"path": path.relative_to(self.out).as_posix(), "source": source,
                 "complete": complete, "codes": sorted(codes), **extra}
        self.files.append(entry)
        return entry

    def defect(self, code: str, level: str, path: Path, record_id: str | None, what: str) -> None:
        self.defect_counts[code] = self.defect_counts.get(code, 0) + 1
        self._defects.write(json.dumps({
            "code": code, "level": level, "path": path.relative_to(self.out).as_posix(),
            "record_id": record_id, "what": what}) + "\n")

    def close(self) -> None:
        self._defects.close()


# --- TraCS -------------------------------------------------------------------------------------

class TracsNight:
    """The TraCS export run of one night: one or more files `TRACS_<ORI>_<stamp>_<seq>`."""

    def __init__(self, world, truth, ledger: Ledger, defects: DefectPlanner, out: Path,
                 rng: random.Random):
        self.world, self.truth, self.ledger, self.defects = world, truth, ledger, defects
        self.dir = out / "tracs" / ISP_ORI
        self.dir.mkdir(parents=True, exist_ok=True)
        self.rng = rng

    def run(self, day: dt.date, last_night: bool, large: int) -> int:
        """Write the night's files; returns the number of FieldReports written."""
        w, r, cfg = self.world, self.rng, self.world.cfg
        # one copy of a form per night: the highest version scheduled (a re-send and an
        # amendment may fall on the same night; two copies in one file would be a B04 defect)
        scheduled: dict[str, tuple] = {}
        for f, v in w.schedule.pop(day, []):
            if f.form_number not in scheduled or scheduled[f.form_number][1] < v:
                scheduled[f.form_number] = (f, v)
        items: list[tuple] = [("resend", f, v) for f, v in scheduled.values()]
        target = max(1, round(cfg.forms_per_day * r.uniform(0.9, 1.1)))
        n_incidents = max(1, round(target / 1.12))
        p = cfg.deflection_share
        k = min(n_incidents, max(0, round(r.gauss(n_incidents * p, (n_incidents * p * (1 - p)) ** 0.5))))
        deflecting = set(r.sample(range(n_incidents), k))
        items += [("new", i in deflecting) for i in range(n_incidents)]
        r.shuffle(items)
        # how the night is split into files: (items, file defect, pending state)
        file_code = self.defects.file_code("tracs")
        parts: list[tuple[list, str | None, str | None]] = []
        rest = items
        tail: list[tuple[list, str | None, str | None]] = []
        if last_night and cfg.pending_at_end and len(rest) >= 6:
            cut = max(1, len(rest) // 10)
            tail = [(rest[-2 * cut:-cut], None, "no-sidecar"), (rest[-cut:], None, "part")]
            rest = rest[:-2 * cut]
        if file_code and len(rest) >= 2:
            cut = max(1, len(rest) // 7)
            parts = [(rest[:-cut], None, None), (rest[-cut:], file_code, None)]
        elif r.random() < 0.08 and len(rest) >= 2:
            cut = len(rest) // 2
            parts = [(rest[:cut], None, None), (rest[cut:], None, None)]
        else:
            parts = [(rest, None, None)]
            if file_code:  # too small a night to split: nothing to put the defect in
                self.defects.counts[file_code] -= 1
                self.defects.todo.insert(0, file_code)
        parts += tail
        created = dt.datetime(day.year, day.month, day.day, 1, 30, r.randint(0, 30),
                              tzinfo=CHICAGO) + dt.timedelta(days=1)
        written = 0
        for seq, (part, code, pending) in enumerate(parts, 1):
            written += self.write_file(day, created + dt.timedelta(seconds=40 * (seq - 1)), seq,
                                       part, code, pending, large if seq == 1 else 0)
        return written

    def write_file(self, day, created, seq, items, code, pending, large) -> int:
        w, r = self.world, self.rng
        gz = (r.random() < w.cfg.gzip_share or code == "F07") and code != "F01"
        stamp = created.astimezone(CHICAGO).strftime("%Y%m%dT%H%M%S")
        name_created = created
        ori = ISP_ORI
        what = ""
        if code == "F05":
            what = self.defects.variant("date", "ori")
            if what == "date":
                name_created = created - dt.timedelta(days=1)
                stamp = name_created.astimezone(CHICAGO).strftime("%Y%m%dT%H%M%S")
            else:
                ori = "IL0849900"
        name = f"TRACS_{ISP_ORI}_{stamp}_{seq:04d}.xml" + (".gz" if gz else "")
        path = self.dir / name
        part = self.dir / (name + ".part")
        v11 = r.random() < 0.7
        export_id = str(uuid.UUID(int=r.getrandbits(128), version=4))
        encoding, codec = "UTF-8", "utf-8"
        ns, root, doctype, version = TRACS_NS, "TraCSExport", "", "1.1" if v11 else "1.0"
        if code == "F01":
            what = self.defects.variant("truncated", "encoding")
            if what == "encoding":
                encoding, codec = "windows-1252", "cp1252"
        elif code == "F02":
            what = self.defects.variant("namespace", "root")
            if what == "namespace":
                ns = TRACS_NS + ":v2"
            else:
                root = "TraCSExportBatch"
        elif code == "F03":
            version, what = "2.0", "schemaVersion 2.0"
        elif code == "F06":
            doctype, what = DOCTYPE.format(root=root), "DOCTYPE with ENTITY"
        elif code == "F08":
            export_id, what = "EXPORT-" + str(r.randint(10**6, 10**7)), "exportId not a UUID"
        created_text = tracs_datetime(created, utc=r.random() < 0.1)
        file_ok = code is None and pending is None
        export_date = created.astimezone(CHICAGO).date()
        raw = open(part, "wb")  # noqa: SIM115 (closed after the gzip layer)
        stream = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if gz else raw
        out = io.TextIOWrapper(stream, encoding=codec, errors="xmlcharrefreplace", newline="\n")
        if encoding == "UTF-8" and not gz and r.random() < 0.1:
            out.write("\ufeff")  # UTF-8 with BOM
        out.write(tracs_header(version, export_id, created_text, ori, ns, root, encoding, doctype))
        forms_written = 0
        for item in items:
            if item[0] == "resend":
                contact_id, forms, others = item[1].contact_id, [(item[1], item[2])], []
            else:
                contact_id, new_forms, others = w.new_incident(day, item[1])
                for f in new_forms:
                    if large > 0:
                        w.make_large(f)
                        large -= 1
                forms = [(f, 1) for f in new_forms]
            if not forms and not others:
                continue
            forms_written += self.write_contact(out, path, contact_id, forms, others, v11,
                                                file_ok, export_date)
        out.write(f"</{root}>\n")
        out.close()
        if gz:
            raw.close()
        if code == "F01" and what == "truncated":
            truncate(part, 0.7)
        if code == "F07":
            truncate(part, 0.6)
            what = "truncated gzip"
        mtime = epoch(created) + 5 + forms_written // 100
        codes = [code] if code else []
        if pending == "part":
            os.utime(part, (mtime, mtime))
            self.ledger.file(part, "tracs-isp", False, codes, pending=True, state="part",
                             export_date=export_date.isoformat(), forms=forms_written)
            return forms_written
        os.replace(part, path)
        os.utime(path, (mtime, mtime))
        digest = sha256_file(path)
        extra = {"sha256": digest, "export_date": export_date.isoformat(), "forms": forms_written,
                 "gzip": gz, "schema_version": version}
        if pending == "no-sidecar":
            self.ledger.file(path, "tracs-isp", False, codes, pending=True, state="no-sidecar", **extra)
            return forms_written
        line = f"{digest}  {name}\n"
        if code == "F04":
            what = self.defects.variant("digest", "malformed")
            if what == "digest":
                bad = "0" if digest[0] != "0" else "1"
                line = f"{bad}{digest[1:]}  {name}\n"
            else:
                line = f"{digest.upper()} {name}\n"
            what = f"sidecar {what}"
        if code:
            self.ledger.defect(code, "file", path, None, what)
        sidecar = self.dir / (name + ".sha256")
        sidecar.write_text(line, encoding="ascii")
        os.utime(sidecar, (mtime + 2, mtime + 2))
        self.ledger.file(path, "tracs-isp", True, codes, pending=False, **extra)
        return forms_written

    def write_contact(self, out, path, contact_id, forms, others, v11, file_ok,
                      export_date) -> int:
        r = self.rng
        rec_codes = [self.defects.record_code("tracs") if file_ok else None for _ in forms]
        contact_bad = False
        if rec_codes.count("S01") == 1 and rec_codes.count(None) == len(rec_codes) - 1 and r.random() < 0.3:
            contact_bad = True  # the error sits on the Contact's attributes: S01 for each form
            rec_codes = ["S01"] * len(forms)
        cid = contact_id if not contact_bad else contact_id.replace("C-", "CT-")
        out.write(f'<Contact contactId="{cid}">\n')
        n = 0
        for (form, v), code in zip(forms, rec_codes):
            ver = form.version(v)
            copies = 1
            override = None
            what = ""
            if code == "S01" and not contact_bad:
                what = self.defects.variant("incidentType", "countyCode", "sex")
                if what == "incidentType":
                    override = {"type": "DRUGS"}
                elif what == "countyCode":
                    override = {"county": form.county[1:]}
                else:
                    ver = replace(ver, individuals=(replace(ver.individuals[0], sex="male"),)
                                  + ver.individuals[1:])
            elif code == "S01":
                what = "contactId on the Contact"
            elif code == "B01":
                what = "CD without deflection"
                i0 = ver.individuals[0]
                ver = replace(ver, individuals=(replace(i0, disposition="CD", deflection=None),)
                              + ver.individuals[1:])
            elif code == "B02":
                what = "deflection with disposition AR"
                i0 = ver.individuals[0]
                d = i0.deflection or TDeflection("SR", None, None, None, None, False,
                                                 form.occurred_date, None, None, None, None)
                ver = replace(ver, individuals=(replace(i0, disposition="AR", deflection=d),)
                              + ver.individuals[1:])
            elif code == "B04":
                what = self.defects.variant("seq", "formNumber")
                if what == "seq":
                    i0 = ver.individuals[0]
                    ver = replace(ver, individuals=ver.individuals + (replace(i0, role="05"),))
                else:
                    copies = 2
            for _ in range(copies):
                write_field_report(out, form, ver, v11, override)
                n += 1
                if code:
                    self.ledger.defect(code, "record", path, form.form_number, what)
            if form.tracked:
                self.truth.tracs_delivery(form.form_number, v, file_ok and code is None,
                                          export_date)
        for ftype, number, note in others:
            write_other_form(out, ftype, number, note)
        out.write("</Contact>\n")
        return n


# --- MEG ---------------------------------------------------------------------------------------

class MegNight:
    """One file per unit per night, cumulative over 30 days, then its `.done` marker."""

    def __init__(self, world, truth, ledger: Ledger, defects: DefectPlanner, out: Path,
                 rng: random.Random):
        self.world, self.truth, self.ledger, self.defects = world, truth, ledger, defects
        self.out = out
        self.rng = rng

    def select(self, unit: str, day: dt.date, at: dt.datetime) -> list[tuple[Case, dt.datetime]]:
        window_start = day - dt.timedelta(days=30)
        keep, chosen = [], []
        for case in self.world.cases[unit]:
            times = case.times  # type: ignore[attr-defined]
            if times[0] > at:
                keep.append(case)
                continue
            lm = times[bisect_right(times, at) - 1]
            if lm.date() >= window_start:
                chosen.append((case, lm))
            else:
                case.cache = None  # type: ignore[attr-defined]  # out of the window: free its text
            # forget cases that can never appear again (their ground truth, if any, is kept apart)
            if case.tracked or times[-1].date() >= window_start:
                keep.append(case)
        self.world.cases[unit] = keep
        chosen.sort(key=lambda c: c[0].case_number)
        return chosen

    def run(self, unit: str, day: dt.date, pending: str | None, correct: bool) -> None:
        r = self.rng
        at = dt.datetime(day.year, day.month, day.day, 22, 0) + dt.timedelta(minutes=r.randint(0, 100))
        chosen = self.select(unit, day, at)
        directory = self.out / "meg" / unit
        directory.mkdir(parents=True, exist_ok=True)
        name = f"CaseActivity_{unit}_{day.strftime('%Y%m%d')}.xml"
        if correct and chosen:
            # the unit notices a mistake after the upload: delete .done, fix the case, re-send
            sup = self.out / "superseded" / "meg" / unit
            sup.mkdir(parents=True, exist_ok=True)
            self.write(unit, day, at, chosen, sup / name, None, None, superseded=True)
            fix_at = at + dt.timedelta(minutes=r.randint(20, 40))
            case, _ = self.pick_correction(chosen, at)
            st = case.state(at)
            if st.deflections:
                d = st.deflections[0]
                new = r.choice([p for p in "12345" if p != d.pathway])
                event = ("pathway", (d.subject_id, new))
            else:
                event = ("touch", ())
            case.events.append(Event(fix_at, event[0], event[1]))
            case.events.sort(key=lambda e: e.at)
            case.times = [e.at for e in case.events]  # type: ignore[attr-defined]
            at2 = at + dt.timedelta(minutes=r.randint(45, 70))
            chosen = [(c, c.times[bisect_right(c.times, at2) - 1]) for c, _ in chosen]  # type: ignore[attr-defined]
            self.write(unit, day, at2, chosen, directory / name, None, pending, corrected=True)
            return
        code = self.defects.file_code("meg") if pending is None else None
        self.write(unit, day, at, chosen, directory / name, code, pending)

    def pick_correction(self, chosen, at):
        with_defl = [(c, lm) for c, lm in chosen if c.tracked and c.state(at).deflections]
        return self.rng.choice(with_defl or chosen)

    def write(self, unit, day, at, chosen, path: Path, code, pending, superseded=False,
              corrected=False) -> None:
        r, w = self.rng, self.world
        latin1 = unit in w.latin1_units
        encoding, codec = ("ISO-8859-1", "iso-8859-1") if latin1 else ("UTF-8", "utf-8")
        version, ns, root, doctype, what = "2.0", MEG_NS, "CaseActivityExport", "", ""
        doc_unit, export_date = unit, day
        window = (day - dt.timedelta(days=30)).isoformat()
        if code == "F01":
            what = self.defects.variant("truncated", "encoding")
            if what == "encoding":
                encoding, codec = "UTF-16", "utf-16"
        elif code == "F02":
            what = self.defects.variant("namespace", "root")
            if what == "namespace":
                ns = "urn:il:meg:rms:case-activity:v3"
            else:
                root = "CaseExport"
        elif code == "F03":
            version, what = "3.0", "Version 3.0"
        elif code == "F05":
            what = self.defects.variant("date", "unit")
            if what == "date":
                export_date = day - dt.timedelta(days=1)
                window = (export_date - dt.timedelta(days=30)).isoformat()
            else:
                doc_unit = r.choice([u for u in w.units if u != unit])
        elif code == "F06":
            doctype, what = DOCTYPE.format(root=root), "DOCTYPE with ENTITY"
        elif code == "F08":
            window, what = None, "WindowStart missing"
        file_ok = code is None and pending is None and not superseded
        with open(path, "w", encoding=codec, errors="xmlcharrefreplace", newline="\n") as out:
            out.write(meg_header(doc_unit, export_date.isoformat(), window, version, ns, root,
                                 encoding, doctype))
            for case, lm in chosen:
                # a case sits unchanged in up to 31 consecutive files: render each version once
                cache = getattr(case, "cache", None)
                if cache is None or cache[0] != lm:
                    st = case.state(lm)
                    cache = case.cache = (lm, st, render_case(case, st))  # type: ignore[attr-defined]
                st = cache[1]
                rcode = self.defects.record_code("meg") if file_ok and not corrected else None
                copies, number, subjects, override, rwhat = 1, None, None, None, ""
                if rcode == "S01":
                    rwhat = "Pathway 6" if st.deflections else "CountyFIPS of 4 digits"
                    override = {"pathway": "6"} if st.deflections else {"county": st.county_fips[1:]}
                elif rcode == "B03":
                    rwhat = "Deflection/@SubjectId 99"
                    base = st.deflections or [MDeflection(99, case.opened, "1", None, None)]
                    override = {"deflections": [replace(base[0], subject_id=99)] + base[1:]}
                elif rcode == "B04":
                    rwhat = self.defects.variant("SubjectId", "CaseNumber")
                    if rwhat == "SubjectId":
                        subjects = case.subjects + (replace(case.subjects[0], first="Alex"),)
                    else:
                        copies = 2
                elif rcode == "B05":
                    other = r.choice([u for u in w.units if u != unit])
                    number = other + case.case_number[len(unit):]
                    rwhat = "CaseNumber of another unit"
                text = cache[2] if rcode is None else render_case(case, st, number, subjects, override)
                for _ in range(copies):
                    out.write(text)
                    if rcode:
                        self.ledger.defect(rcode, "record", path,
                                           f"{unit}/{number or case.case_number}", rwhat)
                if case.tracked and not superseded:
                    self.truth.meg_delivery(case.record_id, lm, file_ok and rcode is None, day)
            out.write(f"</{root}>\n")
        if code == "F01" and what == "truncated":
            truncate(path, 0.7)
        mtime = epoch(at) + 3 + len(chosen) // 50
        os.utime(path, (mtime, mtime))
        codes = [code] if code else []
        if code:
            self.ledger.defect(code, "file", path, None, what)
        extra = {"sha256": sha256_file(path), "export_date": day.isoformat(),
                 "encoding": encoding, "cases": len(chosen)}
        if superseded:
            extra["superseded"] = True
        if corrected:
            extra["corrected_resend"] = True
        done = path.with_name(path.name + ".done")
        if pending == "no-done":
            self.ledger.file(path, f"meg-{unit.lower()}", False, codes, pending=True,
                             state="no-done", **extra)
            return
        done.write_bytes(b"")
        done_mtime = mtime - 3600 if pending == "stale-done" else mtime + r.randint(1, 5)
        os.utime(done, (done_mtime, done_mtime))
        self.ledger.file(path, f"meg-{unit.lower()}", pending is None and not superseded, codes,
                         pending=pending is not None, **({"state": pending} if pending else {}),
                         **extra)
