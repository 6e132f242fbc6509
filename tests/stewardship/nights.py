"""Four runs of a real (migrated) warehouse, rows written by hand into the bookkeeping tables so
that every entry state is reached at a known run: two nights, a replay, a third night.

    N1  night 1   tracs-isp failed; F04 file entry `f04` and records `fixed`, `looked`,
                  `dropped` quarantined
    N2  night 2   `fixed` resolved by a later version; records `open` and `corrected`
                  quarantined, `copy` quarantined though its version loaded from another file in
                  N1 (superseded on arrival); `looked` marked reviewed the morning after N1
    R3  replay    of N2's MEG file: `corrected` resolved by it
    N4  night 3   a file pending for five days; `dropped` dismissed the morning after N4
"""

from __future__ import annotations

import datetime as dt
import hashlib

N1, N2 = "20261101T073000Z-aaaa0001", "20261102T073000Z-bbbb0002"
R3, N4 = "20261102T150000Z-rrrr0003", "20261103T073000Z-cccc0004"
RUNS = (N1, N2, R3, N4)
MEG_FILE = "CaseActivity_SIEG_20261102.xml"
TRACS_FILE = "TRACS_IL0849800_20261101T013004_0001.xml"
PENDING_FILE = "CaseActivity_SIEG_20261029.xml"
VERSION = "2026-10-01T08:00:00"


def eid(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def at(run_id: str, hours: float = 0) -> dt.datetime:
    start = dt.datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    return start + dt.timedelta(hours=hours)


def _entry(wh, label, run_id, level="record", source="meg-sieg", codes="S01", status="open",
           resolved=None, record_id=None, line=10):
    kind = "tracs" if source.startswith("tracs") else "meg"
    wh.execute(
        "INSERT INTO meta.quarantine (quarantine_id, run_id, source, kind, file_name, "
        "file_sha256, level, record_id, record_version, record_sha256, codes, line, status, "
        "resolved_run_id, load_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [eid(label), run_id, source, kind, TRACS_FILE if kind == "tracs" else MEG_FILE,
         eid(label + "-file"), level, record_id, VERSION if level == "record" else None,
         eid(label + "-rec") if level == "record" else None, codes,
         line if level == "record" else None, status, resolved, RUNS.index(run_id) + 1])
    wh.execute(
        "INSERT INTO meta.finding (run_id, source, file_name, file_sha256, record_id, code, "
        "level, line, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, source, TRACS_FILE if kind == "tracs" else MEG_FILE, eid(label + "-file"),
         record_id, codes.split(",")[0], level, line + 2 if level == "record" else None,
         f"{codes} {label}"])


def fill(wh) -> None:
    """The four runs (the warehouse is emptied first by the caller)."""
    for seq, run in enumerate(RUNS, start=1):
        wh.execute("INSERT INTO meta.load_audit (batch_id, load_seq, run_id, source, kind) "
                   "VALUES (?, ?, ?, 'meg-sieg', 'meg')", [f"b{seq}", seq, run])
        sources = ("meg-sieg",) if run == R3 else ("meg-sieg", "tracs-isp")
        for source in sources:
            failed = run == N1 and source == "tracs-isp"
            wh.execute(
                "INSERT INTO meta.load_run (run_id, source, started_at, finished_at, as_of, "
                "files_seen, files_loaded, files_pending, files_quarantined, files_duplicate, "
                "records_loaded, records_quarantined, status) "
                "VALUES (?, ?, ?, ?, ?, 3, 2, 0, 1, 0, 40, 7, ?)",
                [run, source, at(run), at(run, 0.5),
                 dt.date(2026, 11, 1 if run == N1 else 2 if run in (N2, R3) else 3),
                 "failed" if failed else "ok"])
    _entry(wh, "f04", N1, level="file", source="tracs-isp", codes="F04")
    _entry(wh, "fixed", N1, record_id="SIEG/SIEG-2026-0001", status="resolved", resolved=N2)
    _entry(wh, "looked", N1, record_id="SIEG/SIEG-2026-0002", codes="B03")
    _entry(wh, "dropped", N1, record_id="SIEG/SIEG-2026-0003", codes="B05")
    _entry(wh, "open", N2, record_id="SIEG/SIEG-2026-0004", codes="S01,B03")
    _entry(wh, "corrected", N2, record_id="SIEG/SIEG-2026-0005", status="resolved",
           resolved=R3)
    _entry(wh, "copy", N2, record_id="SIEG/SIEG-2026-0006")
    # `copy`'s own version, valid, from another file in N1: superseded on arrival
    wh.execute(
        "INSERT INTO staging.stg_meg__case (source, file_name, file_sha256, record_id, "
        "last_modified, batch_id, load_seq) VALUES ('meg-sieg', 'other.xml', ?, ?, ?, 'b1', 1)",
        ["a" * 64, "SIEG/SIEG-2026-0006", dt.datetime.fromisoformat(VERSION)])
    wh.execute("INSERT INTO meta.replay (run_id, source, file_name, replay_of_run_id, "
               "replayed_by, replayed_at) VALUES (?, 'meg-sieg', ?, ?, 'alice', ?)",
               [R3, MEG_FILE, N2, at(R3)])
    mark(wh, "looked", "reviewed", at(N1, 3))
    mark(wh, "dropped", "dismissed", at(N4, 3))
    wh.execute(
        "INSERT INTO meta.file_ledger (source, remote_name, size, mtime, sha256, status, run_id) "
        "VALUES ('meg-sieg', ?, 100, ?, NULL, 'pending', ?)",
        [PENDING_FILE, int(at(N4, -24 * 5).timestamp()), N4])


def mark(wh, label: str, status: str, when: dt.datetime) -> None:
    wh.execute(
        "INSERT INTO quality.quarantine_review (quarantine_id, status, note, reviewed_by, "
        "reviewed_at) VALUES (?, ?, 'n', 'alice', ?)", [eid(label), status, when])
