"""`python -m bench`: measure the pipeline side by side with its floor, a naive baseline, OpenSSH's
sftp client and a bare COPY, on generated workloads; print the table, write the JSON and the
Markdown.

    uv run --frozen python -m bench                                   # nightly set, 1x 3x 10x
    uv run --frozen python -m bench --workload bigfile --big-file-gb 1   # peak memory, one file
    uv run --frozen python -m bench --workload backfill               # 1,000,000 forms, a year
    uv run --frozen python -m bench --workload records --scales 1,10  # record-heavy nights
    uv run --frozen python -m bench --workload backfill,full --no-stages  # + a night on 5 years

Needs /usr/sbin/sshd and the `sftp` client (OpenSSH), and PostgreSQL (--pg-url). Generated drops
are kept under --data-dir and reused by the next run; run directories are removed as soon as they
are measured.
"""
from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
import time
from pathlib import Path

from bench import report, seed, workloads
from bench.machine import describe
from bench.runner import REPO, BenchError, Databases, run_stage, use_bytecode_cache
from bench.suite import Suite

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
WORKLOADS = ("nightly", "bigfile", "backfill", "records", "full")
STAGE_PROCESSES = ("plan", "ingest", "load", "refresh", "publish")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="nightly",
                   help=f"comma-separated, of {', '.join(WORKLOADS)} (default: nightly)")
    p.add_argument("--forms", type=int, default=5000, help="TraCS forms a night (nightly set)")
    p.add_argument("--attachment-kb", type=int, default=100,
                   help="mean attachment size of the nightly set")
    p.add_argument("--scales", default="1,3,10",
                   help="growth curve: multiples of the nightly set (nights), first must be 1")
    p.add_argument("--records-kb", type=int, default=2,
                   help="mean attachment size of the record-heavy nights (workload records)")
    p.add_argument("--rounds", type=int, default=3,
                   help="workloads records and nightly: measure the floor and the end to end "
                        "run (nightly: at 1x, and the empty night beside the imports) this many "
                        "times, alternated; the goals on them take the median round")
    p.add_argument("--big-file-gb", type=float, default=None,
                   help="size of the single-file workload; implies --workload ...,bigfile")
    p.add_argument("--backfill-forms", type=int, default=1_000_000)
    p.add_argument("--naive-nights", type=int, default=7,
                   help="backfill only: nights the naive baseline runs on (it is extrapolated "
                        "per record to the whole backfill)")
    p.add_argument("--no-stages", action="store_true",
                   help="backfill only: skip the one-process-per-stage rows (floor and end to "
                        "end only)")
    p.add_argument("--seed-years", type=int, default=4,
                   help="full only: years copied before the loaded backfill year")
    p.add_argument("--sample-night", type=int, default=None,
                   help="full only: night of the backfill year whose files are rewritten and "
                        "loaded to check the copy (default: the middle one)")
    p.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    p.add_argument("--no-profile", action="store_true", help="skip profiling the slowest stage")
    p.add_argument("--pg-url", default=DEFAULT_PG, help="a maintenance database URL")
    p.add_argument("--data-dir", type=Path, default=REPO / "var" / "bench",
                   help="generated drops (kept), run directories (removed)")
    p.add_argument("--results", type=Path, default=REPO / "bench" / "results" / "latest.json")
    p.add_argument("--doc", type=Path, default=REPO / "docs" / "performance.md",
                   help="Markdown to update ('-' for none)")
    p.add_argument("--keep-runs", action="store_true", help="keep landing/work directories")
    p.add_argument("--keep-before", metavar="DATABASE", default=None,
                   help="workload full: copy the five-year warehouse to this database just "
                        "before the night (kept, to replay or profile the night on a copy)")
    p.add_argument("--full-from", metavar="DATABASE", default=None,
                   help="workload full: skip the year's load and the seeding, and run the night "
                        "on a copy of this kept warehouse (--keep-before), migrated first")
    return p


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _profile(suite: Suite, w, staged_rows, results_dir: Path, name: str) -> dict:
    """Profile the stage process that took longest, in a run of its own (cProfile's overhead
    must not leak into the figures above)."""
    by_process: dict[str, float] = {}
    for r in staged_rows:
        if r.process in STAGE_PROCESSES:
            by_process[r.process] = by_process.get(r.process, 0.0) + r.seconds
    stage = max(by_process, key=by_process.get)
    path = results_dir / f"profile-{name}-{stage}.txt"
    _log(f"profiling stage {stage} of {w.name}...")
    row = suite.staged(w, profile_stage=stage, profile_path=path)[0]
    return {"stage": stage, "file": str(path.relative_to(REPO)) if path.is_relative_to(REPO)
            else str(path), "seconds_under_profile": row.seconds,
            "top": report.profile_top(path.read_text())}


def run_nightly(suite: Suite, args, data_dir: Path) -> tuple[dict, list[str]]:
    scales = [int(x) for x in args.scales.split(",")]
    if scales[0] != 1:
        raise BenchError("--scales must start with 1")
    spec = workloads.nightly_spec(args.forms, args.attachment_kb, nights=max(scales))
    drop = workloads.generate(spec, data_dir, _log)
    views = {k: workloads.view(spec, drop, k, data_dir, f"x{k}") for k in scales}
    x1 = views[1]
    notes = [
        ("Every process reads files already in the page cache (the drop was just generated or "
        "read); a cold disk would add the same read time to every row."),
        ("Fetch, validation and extraction run in one process (the ingest task, as in `deflect "
        "run`); their seconds are that process's time split by function, and share its peak "
        "memory. The stages run one file at a time in one process (file_shards 1)."),
        ("`e2e` is `deflect run` as installed: batches in parallel worker processes, a large "
         "file checked by one shard per core, Great Expectations imported meanwhile. "
         "`e2e_serial` is the same run in one process, one file at a time, for comparison."),
    ]
    if args.rounds > 1:
        notes.append(f"`x1.floor`, `x1.e2e` and `x1.floor_after` are measured in {args.rounds} "
                     "rounds, alternated, and so are the empty night and the imports (rows of "
                     "round n end in `.roundn`); the goals on them take the median round.")
    _log(f"nightly x1: {x1.describe()['mb']} MB, {x1.forms} TraCS forms, {len(x1.files)} files")
    suite.floor(x1)
    staged = suite.staged(x1)
    suite.end_to_end(x1)
    suite.floor(x1, after=True)
    # goal 6 again, alternated (the goal takes the median round): one run of it moved by a
    # third between sittings of the same code
    for n in range(2, args.rounds + 1):
        _log(f"nightly x1 (round {n})")
        suite.floor(x1, round_=n)
        suite.end_to_end(x1, label=report.round_key("e2e", n))
        suite.floor(x1, after=True, round_=n)
    suite.end_to_end(x1, serial=True)
    suite.empty_night(x1, rounds=args.rounds)
    if not args.no_naive:
        suite.naive(x1)
    profile = None if args.no_profile else _profile(
        suite, x1, staged, args.results.parent, "nightly")
    for k in scales[1:]:
        _log(f"nightly x{k}: {views[k].describe()['mb']} MB, {views[k].forms} TraCS forms")
        suite.floor(views[k])
        suite.end_to_end(views[k])
        suite.floor(views[k], after=True)
    rows = {r.key: r.as_dict() for r in suite.rows}
    gs = report.goals(rows, scales)
    for g in gs:
        if g["met"] is None and "1 GB" in g["goal"]:
            g["measure"] = (f"ingest peak RSS on the nightly set (largest file "
                            f"{x1.describe()['largest_file_mb']} MB); a 1 GB file is workload "
                            "`bigfile` (--big-file-gb 1)")
    return {"inputs": {f"x{k}": v.describe() for k, v in views.items()}, "goals": gs,
            "profile": profile}, notes


def run_bigfile(suite: Suite, args, data_dir: Path) -> tuple[dict, list[str]]:
    gb = args.big_file_gb or 1.0
    spec = workloads.bigfile_spec(gb)
    drop = workloads.generate(spec, data_dir, _log)
    w = workloads.largest_file_view(spec, drop, data_dir, "bigfile")
    _log(f"single file: {w.describe()['mb']} MB, {w.forms} TraCS forms")
    suite.single_file(w)
    rows = {r.key: r.as_dict() for r in suite.rows}
    return {"inputs": {"bigfile": w.describe()}, "goals": report.goals(rows, [1])}, []


def run_backfill(suite: Suite, args, data_dir: Path) -> tuple[dict, list[str]]:
    spec = workloads.backfill_spec(args.backfill_forms)
    drop = workloads.generate(spec, data_dir, _log)
    w = workloads.view(spec, drop, spec.nights, data_dir, "backfill")
    _log(f"backfill: {w.describe()['mb']} MB, {w.forms} TraCS forms, {len(w.files)} files")
    suite.floor(w)
    if not args.no_stages:
        suite.staged(w)
    keep = "full" in args.chosen  # workload full seeds its warehouse from this load
    e2e = suite.end_to_end(w, keep=keep)
    suite.floor(w, after=True)
    if keep:
        suite.dbs.kept["backfill"] = (e2e.detail["warehouse"], w)
    notes = []
    if not args.no_naive:
        part = workloads.view(spec, drop, args.naive_nights, data_dir, "backfill-naive")
        row = suite.naive(part, label="backfill-naive-part")
        factor = w.records / part.records
        row.detail["extrapolated_seconds"] = round(row.seconds * factor, 1)
        notes.append(f"The naive baseline ran on the first {part.nights} nights only "
                     f"({part.records:,} of {w.records:,} records); its time for the whole "
                     f"backfill is extrapolated per record: {row.seconds * factor:,.0f} s.")
    rows = {r.key: r.as_dict() for r in suite.rows}
    return {"inputs": {"backfill": w.describe()}, "goals": report.backfill_goals(rows)}, notes


def run_full(suite: Suite, args, data_dir: Path) -> tuple[dict, list[str]]:
    """A night on a warehouse holding five years: the backfill year loaded by `deflect run`
    (the backfill workload's own end-to-end database when it ran in this invocation), four
    more years copied in SQL (bench/seed.py), the marts rebuilt over all of them; then the
    nightly set's first night on it and on an empty warehouse."""
    if args.full_from:
        return run_full_from(suite, args, data_dir)
    spec = workloads.backfill_spec(args.backfill_forms)
    notes = []
    if "backfill" in suite.dbs.kept:
        db, year = suite.dbs.kept["backfill"]
        notes.append("Year 1 is the backfill workload's end-to-end run of this invocation "
                     "(row `backfill.e2e`): its warehouse was kept and seeded.")
    else:
        drop = workloads.generate(spec, data_dir, _log)
        year = workloads.view(spec, drop, spec.nights, data_dir, "backfill")
        _log(f"full: loading the year, {year.forms} TraCS forms, {len(year.files)} files")
        db = suite.end_to_end(year, label="e2e_year", key="full", keep=True,
                              what="year 1: `deflect run` of the backfill year").detail["warehouse"]
    first_year = dt.date.fromisoformat(spec.start).year
    _log(f"full: seeding {args.seed_years} more years...")
    seeded = seed.seed(db, args.seed_years, first_year, _log)
    suite.add(report_row("full.seed", "years 2-5: INSERT ... SELECT of every table, ANALYZE",
                         seeded.seconds, seeded.total_rows,
                         {"copies": seeded.copies, "rows_added": seeded.rows,
                          "meg_prehistory_units": len(seeded.prehistory)}))
    night_spec = workloads.nightly_spec(args.forms, args.attachment_kb, nights=1)
    night = workloads.view(night_spec, workloads.generate(night_spec, data_dir, _log), 1,
                           data_dir, "night")
    # the marts over all five years, as the last of five years of nights would have left them:
    # refreshed as of the day before the night's as-of date, so that the night moves the as-of
    # date by one day, as every night does (a gap of months would put every deflection whose
    # thresholds fall in it in the night's scope: a night after months without a run)
    eve = (dt.date.fromisoformat(night.as_of) - dt.timedelta(days=1)).isoformat()
    suite.end_to_end(year, label="seed_refresh", key="full", warehouse=db, keep=True,
                     what=f"marts rebuilt as of {eve}: `deflect run` again, nothing new",
                     as_of=eve)
    if args.keep_before:
        suite.dbs.copy(db, args.keep_before)
        notes.append(f"The five-year warehouse as it stood before the night was kept as "
                     f"database {args.keep_before}.")
    _log(f"full: the night, {night.forms} TraCS forms, {len(night.files)} files, "
         f"{night.describe()['mb']} MB")
    suite.end_to_end(night, label="e2e_empty_warehouse", key="full",
                     what="the night on an empty warehouse: `deflect run`")
    suite.end_to_end(night, label="e2e_full", key="full", warehouse=db, keep=True,
                     what="the same night on the five-year warehouse")
    check = sample_check(suite, spec, seeded, data_dir, args.sample_night)
    with __import__("psycopg").connect(db) as conn:
        held = {t: conn.execute(f"SELECT count(*) FROM staging.{t}").fetchone()[0]
                for t in ("stg_tracs__field_report", "stg_meg__case")}
    notes += [
        (f"The warehouse held {held['stg_tracs__field_report']:,} TraCS form versions and "
         f"{held['stg_meg__case']:,} MEG case versions before the night: the backfill year "
         f"({spec.start} to {spec.end}) and {args.seed_years} copies of it, copy k shifted "
         "k years back (docs/performance.md, \"A night on a full warehouse\")."),
        (f"Sample check: night {check['night']} of the year rewritten with copy 1's shift and "
         f"loaded by `deflect run` into a fresh warehouse; its staging, ledger, quarantine and "
         f"record findings equal copy 1 of the same night made in SQL: "
         f"{'yes' if not check['differences'] else 'NO: ' + str(check['differences'])[:500]} "
         f"({sum(check['rows'].values()):,} rows compared; {len(check['skipped'])} "
         "not-well-formed files left out of both)."),
    ]
    rows = {r.key: r.as_dict() for r in suite.rows}
    return {"inputs": {"year": year.describe(), "night": night.describe(),
                       "seeded": {"copies": seeded.copies, "rows_added": seeded.total_rows,
                                  **{k: v for k, v in held.items()}}},
            "goals": report.full_goals(rows, check), "sample_check": check}, notes


def run_full_from(suite: Suite, args, data_dir: Path) -> tuple[dict, list[str]]:
    """The night rows of workload full on a copy of a warehouse an earlier run kept
    (--keep-before): the copy is migrated to this code's schema first, as the first run after
    an upgrade would, so that the night measured is a night like every later one."""
    from warehouse import connect
    from warehouse.migrate import migrate

    db = suite.dbs.copy_new(args.full_from)
    started = time.monotonic()
    with connect(db) as wh:
        applied = migrate(wh)
    migrated = round(time.monotonic() - started, 1)
    _log(f"full: copied {args.full_from}, migrations {applied} in {migrated} s")
    night_spec = workloads.nightly_spec(args.forms, args.attachment_kb, nights=1)
    night = workloads.view(night_spec, workloads.generate(night_spec, data_dir, _log), 1,
                           data_dir, "night")
    _log(f"full: the night, {night.forms} TraCS forms, {len(night.files)} files, "
         f"{night.describe()['mb']} MB")
    suite.end_to_end(night, label="e2e_empty_warehouse", key="full",
                     what="the night on an empty warehouse: `deflect run`")
    suite.end_to_end(night, label="e2e_full", key="full", warehouse=db, keep=True,
                     what=f"the same night on a copy of the five-year warehouse {args.full_from}")
    with __import__("psycopg").connect(db) as conn:
        held = {t: conn.execute(f"SELECT count(*) FROM staging.{t}").fetchone()[0]
                for t in ("stg_tracs__field_report", "stg_meg__case")}
    notes = [(f"The five-year warehouse is a copy of database {args.full_from}, kept before the "
              f"night by an earlier run (--keep-before), holding {held['stg_tracs__field_report']:,}"
              f" TraCS form versions and {held['stg_meg__case']:,} MEG case versions; migrations "
              f"{applied or 'none'} applied to the copy before the night ({migrated} s). Its "
              "sample check is that run's.")]
    rows = {r.key: r.as_dict() for r in suite.rows}
    return {"inputs": {"night": night.describe(),
                       "five_years": {"database": args.full_from, "migrations": applied,
                                      "migration_seconds": migrated, **held}},
            "goals": report.full_goals(rows, None)}, notes


def report_row(key: str, what: str, seconds: float, records: int, detail: dict):
    from bench.suite import Row

    return Row(key, key.split(".")[0], what, seconds, records=records, process="bench",
               detail=detail)


def sample_check(suite: Suite, spec, seeded, data_dir: Path, night: int | None) -> dict:
    """One night of the backfill year, loaded alone and copied one year back in SQL, against
    the same night's files rewritten with that shift and loaded by `deflect run`."""
    import shutil

    night = spec.nights // 2 if night is None else night
    drop = workloads.generate(spec, data_dir, _log)
    w = workloads.view(spec, drop, 1, data_dir, "sample", first=night)
    shifted = data_dir / "views" / "sample-shifted"
    started = time.monotonic()
    info = seed.rewrite_drop(w.root, shifted, 1, seeded.first_year, seeded.prehistory)
    a, b = suite.dbs.create(), suite.dbs.create()
    try:
        for root, db, as_of, label in ((w.root, a, w.as_of, "sample-orig"),
                                       (shifted, b, seed.shift_date_text(w.as_of, 1),
                                        "sample-shifted")):
            d = suite.run_dir(label)
            res = run_stage("e2e", {"config": str(seed.local_config(root, db, d)),
                                    "as_of": as_of}, suite.scratch)
            suite.done_with(d)
            if res.result["exit_status"] != 0:
                raise BenchError(f"sample load exited with {res.result['exit_status']}")
        seed.seed(a, 1, seeded.first_year, lambda _: None, prehistory=seeded.prehistory)
        out = seed.compare_sample(a, b, 1, tuple(info["skipped"]))
    finally:
        suite.dbs.drop(a)
        suite.dbs.drop(b)
        shutil.rmtree(shifted, ignore_errors=True)
    out |= {"night": spec.night(night).isoformat(), "skipped": info["skipped"],
            "seconds": round(time.monotonic() - started, 1)}
    _log(f"full: sample check of {out['night']}: "
         f"{'equal' if not out['differences'] else 'DIFFERENT'} ({out['seconds']} s)")
    return out


def run_records(suite: Suite, args, data_dir: Path) -> tuple[dict, list[str]]:
    """Record-heavy nights: the nightly set's forms with small attachments (--records-kb), so
    that the cost is per record, not per byte; the floor and `deflect run` at each scale."""
    scales = [int(x) for x in args.scales.split(",")]
    if scales[0] != 1:
        raise BenchError("--scales must start with 1")
    scales = [scales[0], scales[-1]]
    spec = workloads.nightly_spec(args.forms, args.records_kb, nights=scales[-1])
    drop = workloads.generate(spec, data_dir, _log)
    views = {k: workloads.view(spec, drop, k, data_dir, f"r{k}") for k in scales}
    # rounds alternate the scales, each scale's floor measured around its end to end run
    for n in range(1, args.rounds + 1):
        for k in scales:
            _log(f"records r{k}{f' (round {n})' if n > 1 else ''}: {views[k].records:,} "
                 f"records, {views[k].describe()['mb']} MB")
            suite.floor(views[k], round_=n)
            suite.end_to_end(views[k], label=report.round_key("e2e", n))
            suite.floor(views[k], after=True, round_=n)
    rows = {r.key: r.as_dict() for r in suite.rows}
    notes = [("The k-times view is the first k nights of a drop in one run: k times the TraCS "
              "forms and k of every MEG unit's cumulative 30-day files, which re-send a case "
              "every night it stays in the window.")]
    if args.rounds > 1:
        notes.append(f"{args.rounds} rounds, each the floor and `deflect run` at every scale; "
                     "the goals take the median round's ratio (rows of round n end in "
                     f"`{report.ROUND}n`).")
    return {"inputs": {f"r{k}": v.describe() for k, v in views.items()},
            "goals": report.goals(rows, scales)}, notes


RUNNERS = {"nightly": run_nightly, "bigfile": run_bigfile, "backfill": run_backfill,
           "records": run_records, "full": run_full}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    chosen = [w.strip() for w in args.workload.split(",") if w.strip()]
    if args.big_file_gb and "bigfile" not in chosen:
        chosen.append("bigfile")
    unknown = [w for w in chosen if w not in WORKLOADS]
    if unknown:
        parser().error(f"unknown workload {unknown[0]!r}")
    # full seeds the backfill's own warehouse when both run: the backfill first
    chosen.sort(key=lambda w: (w == "full", w == "backfill" and "full" in chosen))
    args.chosen = chosen
    from devtools.local_sftp import LocalSftpError, serve

    data_dir = args.data_dir.resolve()
    (data_dir / "drops").mkdir(parents=True, exist_ok=True)
    dbs = Databases(args.pg_url)
    command = "uv run --frozen python -m bench " + shlex.join(argv if argv is not None
                                                               else sys.argv[1:])
    try:
        dbs.check()
        machine = describe(args.pg_url)
        use_bytecode_cache(data_dir / "pycache")
        run_stage("warmup", {}, data_dir / "scratch")
        # one sshd serves every drop: views and drops live under data_dir
        with serve(data_dir) as server:
            for name in chosen:
                started = time.monotonic()
                suite = Suite(data_dir, server, dbs, args.keep_runs, _log)
                section, notes = RUNNERS[name](suite, args, data_dir)
                section |= {
                    "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "command": command.strip(), "elapsed_s": round(time.monotonic() - started, 1),
                    "machine": machine, "rows": [r.as_dict() for r in suite.rows],
                    "notes": notes,
                }
                results = report.save(args.results, name, section)
                print(f"\n== {name} ==")
                print(report.plain(report.rows_table(section["rows"])))
                if section.get("goals"):
                    print()
                    print(report.plain(report.goals_table(section["goals"])))
                if str(args.doc) != "-":
                    report.write_doc(args.doc, results, SKELETON)
    except (BenchError, LocalSftpError) as exc:
        _log(f"bench: {exc}")
        return 1
    finally:
        dbs.drop_all()
    return 0


SKELETON = """# Performance

How fast the pipeline is against what it must do anyway (parse and validate every file), against a
first attempt with the usual tools, and against the standard tools for its two I/O stages; and
how it scales. The tables between the markers are written by `uv run --frozen python -m bench`
(figures also in `bench/results/latest.json`).
"""


if __name__ == "__main__":
    sys.exit(main())
