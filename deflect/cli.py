"""The `deflect` command (operations.md). Each sub-command is a thin shell over a package function.

Exit status of `run`: 0 when the run completed (even with quarantined files or records), 1 when a
source could not be processed (after the others were), 2 for usage or configuration errors.
"""
from __future__ import annotations

import argparse
import gc
import logging
import sys

from deflect.core.dates import cli_date
from deflect.errors import EXIT_CANNOT_RUN, fail
from deflect.summary import format_summary


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Third-party chatter is not what an operator reads at the end of a run.
    for noisy in ("paramiko", "great_expectations", "airflow", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def cmd_run(args) -> int:
    from deflect import pipeline
    from deflect.configuration import load_config
    from deflect.progress import run_progress

    config = load_config(args.config)
    config.person_key_secret()  # fail early, naming the variable, before touching any source
    # a bar on a terminal, log lines otherwise (deflect.progress)
    with run_progress([s.name for s in config.sources]) as reporter:
        result = pipeline.run(config, as_of=args.as_of, workers=args.workers,
                              force_as_of=args.force_as_of, **reporter.callbacks())
    print(format_summary(result))
    return 1 if result["failed_sources"] else 0


def cmd_summary(args) -> int:
    from deflect.configuration import load_config
    from deflect.core.runs import latest_run_id
    from deflect.summary import summary

    config = load_config(args.config)
    run_id = args.run_id or latest_run_id(config)
    print(format_summary(summary(config, run_id)))
    return 0


def cmd_rekey(args) -> int:
    from deflect.configuration import load_config
    from deflect.rekey import RekeyError, rekey

    config = load_config(args.config)
    config.person_key_secret()
    try:
        result = rekey(config, as_of=args.as_of)
    except RekeyError as exc:
        print(f"deflect rekey: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    span = result["rekeyed"]
    print(f"re-keyed {span['files']} loaded files from the landing archive "
          f"({span['from']} to {span['to']})")
    print(format_summary(result))
    return 1 if result["failed_sources"] else 0


def cmd_publish(args) -> int:
    from deflect.configuration import load_config
    from deflect.publish import format_published, publish
    from publication.tables import ProtectionError
    from publication.vintage import quarters_of

    config = load_config(args.config)
    period = args.quarter or args.year
    try:
        quarters_of(period)
    except ValueError as exc:
        print(f"deflect publish: {exc}", file=sys.stderr)
        return 2
    try:
        result = publish(config, period=period, as_of=args.as_of)
    except ProtectionError as exc:  # the vintage is not published: say which cell failed
        print(f"deflect publish: not published: {exc}", file=sys.stderr)
        return 1
    print(format_published(result))
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
    p.add_argument("--as-of", type=cli_date, default=None,
                   help="date follow-up figures are computed for (default: today, America/Chicago)")
    p.add_argument("--force-as-of", action="store_true",
                   help="accept an as-of date more than a week in the future")
    p.add_argument("--workers", type=int, default=None,
                   help="batches processed at once (default: one per core, at most 4; "
                        "1 processes them in this process)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("summary", help="print the summary of a run (default: the latest)")
    p.add_argument("--config", required=True)
    p.add_argument("--run-id")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("rekey", help="make every person key again with a new secret, from the "
                       "landing archive")
    p.add_argument("--config", required=True)
    p.add_argument("--as-of", type=cli_date, default=None)
    p.set_defaults(func=cmd_rekey)

    p = sub.add_parser("publish", help="freeze a quarter's (or a year's) published tables as a "
                       "vintage and write its package (publication.md)")
    p.add_argument("--config", required=True)
    period = p.add_mutually_exclusive_group(required=True)
    period.add_argument("--quarter", help="YYYY-Qn")
    period.add_argument("--year", help="YYYY: the annual package")
    p.add_argument("--as-of", type=cli_date, default=None,
                   help="date the figures are as of (default: the last refresh's)")
    p.set_defaults(func=cmd_publish)

    sub.add_parser("generate", help="the synthetic export generator (see `deflect generate -h`)",
                   add_help=False)
    sub.add_parser("backfill", help="re-run a date range from the landing archive "
                   "(see `deflect backfill -h`)", add_help=False)

    from deflect.steward_cli import register

    register(sub)
    from deflect.explain import register as register_explain

    register_explain(sub)
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
    try:
        return args.func(args)
    except BaseException as exc:  # noqa: BLE001 - every failure ends in one clear line
        return fail(exc, "deflect")


def console(argv: list[str] | None = None) -> int:
    """The `deflect` console command: `main`, then an exit that skips the interpreter's last
    walk over every object.

    At shutdown Python collects garbage over every object still alive: after a run that is the
    hundreds of thousands Great Expectations, pandas and SQLAlchemy create on import, about 1 s
    of CPU at the end of every `deflect run` (measured in docs/performance.md). Nothing the
    command leaves needs that collection (its files are closed, atexit handlers still run), so
    the survivors are moved out of the collector's reach first. `main` itself does not do this:
    tests call it in-process many times, where frozen garbage would never be freed."""
    code = main(argv)
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(console())
