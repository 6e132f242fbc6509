"""The `deflect` command (operations.md). Each sub-command is a thin shell over a package function.

Exit status of `run`: 0 when the run completed (even with quarantined files or records), 1 when a
source could not be processed (after the others were), 2 for usage or configuration errors.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import sys


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Third-party chatter is not what an operator reads at the end of a run.
    for noisy in ("paramiko", "great_expectations", "airflow", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def format_summary(result: dict) -> str:
    """One screen: per-source outcome, III.E.3 counts by unit and quarter, follow-up."""
    lines = [f"run {result['run_id']}  as of {result['as_of']}", ""]
    lines.append(f"{'source':<16} {'status':<7} {'seen':>5} {'loaded':>6} {'pend':>5} "
                 f"{'quar':>5} {'dup':>4} {'rec.loaded':>10} {'rec.quar':>8}")
    for name, s in sorted(result["sources"].items()):
        lines.append(
            f"{name:<16} {s['status']:<7} {s['files_seen']:>5} {s['files_loaded']:>6} "
            f"{s['files_pending']:>5} {s['files_quarantined']:>5} {s['files_duplicate']:>4} "
            f"{s['records_loaded']:>10} {s['records_quarantined']:>8}"
        )
        if s.get("error"):
            lines.append(f"    error: {s['error']}")
    lines += ["", "Deflections by approving unit and quarter (III.E.3):"]
    for row in result["deflection_counts"]:
        lines.append(f"  {row['approving_unit_code']:<14} {row['referral_quarter']:<8} "
                     f"{int(row['deflections']):>6}")
    lines += ["", "Follow-up (first evaluation within 90 days):",
              f"  {'unit':<14} {'quarter':<8} {'refs':>5} {'due':>5} {'in90':>5} {'overdue':>7} {'pct':>6}"]
    for row in result["followup_compliance"]:
        pct = row["pct_evaluated_within_90_days"]
        pct_text = "-" if pct is None or math.isnan(float(pct)) else f"{float(pct):.1f}"
        lines.append(
            f"  {row['approving_unit_code']:<14} {row['referral_quarter']:<8} {row['referrals']:>5} "
            f"{row['due']:>5} {row['evaluated_within_90_days']:>5} {row['overdue']:>7} {pct_text:>6}"
        )
    if result.get("report"):
        lines += ["", f"Validation report: {result['report']}"]
    if result["failed_sources"]:
        lines += ["", "FAILED sources: " + ", ".join(result["failed_sources"])]
    return "\n".join(lines)


def cmd_run(args) -> int:
    from deflect import pipeline
    from deflect.config import load_config

    config = load_config(args.config)
    config.person_key_secret()  # fail early, naming the variable, before touching any source
    done = []

    def progress(source_name: str) -> None:
        done.append(source_name)
        print(f"[{len(done)}/{len(config.sources)}] {source_name}", file=sys.stderr, flush=True)

    result = pipeline.run(config, as_of=args.as_of, progress=progress, workers=args.workers)
    print(format_summary(result))
    return 1 if result["failed_sources"] else 0


def cmd_summary(args) -> int:
    from deflect import pipeline
    from deflect.config import load_config

    config = load_config(args.config)
    run_id = args.run_id or pipeline.latest_run_id(config)
    print(format_summary(pipeline.summary(config, run_id)))
    return 0


def cmd_generate(argv: list[str]) -> int:
    from generator.cli import main as generate_main

    return generate_main(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deflect", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="one full pipeline run over every configured source")
    p.add_argument("--config", required=True)
    p.add_argument("--as-of", type=_date, default=None,
                   help="date follow-up figures are computed for (default: today, America/Chicago)")
    p.add_argument("--workers", type=int, default=None,
                   help="batches processed at once (default: one per core, at most 4; "
                        "1 processes them in this process)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("summary", help="print the summary of a run (default: the latest)")
    p.add_argument("--config", required=True)
    p.add_argument("--run-id")
    p.set_defaults(func=cmd_summary)

    sub.add_parser("generate", help="the synthetic export generator (see `deflect generate -h`)",
                   add_help=False)
    sub.add_parser("backfill", help="re-run a date range from the landing archive "
                   "(see `deflect backfill -h`)", add_help=False)

    from stewardship.commands import register

    register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "generate":  # the generator owns its own options
        return cmd_generate(argv[1:])
    if argv and argv[0] == "backfill":
        from deflect.backfill import main as backfill_main

        return backfill_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    from deflect.config import ConfigError

    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"deflect: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
