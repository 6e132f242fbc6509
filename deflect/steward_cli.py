"""The steward sub-commands of `deflect`, ready to be added to its parser.

    deflect quarantine list   --config F [--status STATE] [--source S] [--run-id R]
    deflect quarantine show   --config F ID
    deflect quarantine mark   --config F ID reviewed|dismissed [--note TEXT] [--by WHO]
    deflect quarantine export --config F [--unit CODE] [--status STATE|all] [--source S]
                              --output PATH      (every run's entries; default state: open)
    deflect findings export   --config F [--run-id R] [--source S] --output PATH
                              (every run's findings unless --run-id)
    deflect replay            --config F --source NAME PATH [--as-of YYYY-MM-DD] [--name NAME]
                              [--entry ID]

STATE is one of open, superseded, resolved, replayed, reviewed, dismissed (docs/stewards.md); an
entry ID may be given by a unique prefix.
    deflect report            --config F [--run-id R] [--no-expectations]

`register(subparsers)` adds them; each sets `func(args) -> exit status`. A steward error (unknown
entry, bad status, missing file) prints one line and returns 2.
"""

from __future__ import annotations

import sys

from deflect.core.dates import cli_date


def _config(args):
    from deflect.configuration import load_config

    return load_config(args.config)


def _fields():
    """Which fields' values a steward may see: every interface's classification."""
    from adapters.registry import field_classes

    return field_classes()


def _run_id(config, args) -> str:
    if getattr(args, "run_id", None):
        return args.run_id
    from deflect.core.runs import latest_run_id

    return latest_run_id(config)


def _guard(fn):
    def wrapped(args) -> int:
        from deflect.replay import ReplayError
        from stewardship.quarantine import StewardError

        try:
            return fn(args)
        except (StewardError, ReplayError, FileNotFoundError, KeyError) as exc:
            text = exc.args[0] if exc.args else str(exc)
            print(f"deflect: {text}", file=sys.stderr)
            return 2

    return wrapped


@_guard
def cmd_quarantine_list(args) -> int:
    from stewardship.quarantine import format_entries, list_entries

    print(
        format_entries(
            list_entries(_config(args), status=args.status, source=args.source, run_id=args.run_id)
        )
    )
    return 0


@_guard
def cmd_quarantine_show(args) -> int:
    from stewardship.quarantine import format_entry, show_entry

    print(format_entry(show_entry(_config(args), args.quarantine_id, fields=_fields())))
    return 0


@_guard
def cmd_quarantine_mark(args) -> int:
    from stewardship.quarantine import mark

    got = mark(_config(args), args.quarantine_id, args.status, note=args.note, who=args.by)
    print(
        f"{got['quarantine_id']}: {got['status']} by {got['reviewed_by']} at {got['reviewed_at']}"
    )
    return 0


@_guard
def cmd_quarantine_export(args) -> int:
    from stewardship.quarantine import export_entries_csv

    status = None if args.status == "all" else args.status
    n = export_entries_csv(
        _config(args), args.output, unit=args.unit, status=status, source=args.source,
        fields=_fields(),
    )
    print(f"{n} rows of {status or 'all'} quarantine entries of every run written to "
          f"{args.output}")
    return 0


@_guard
def cmd_findings_export(args) -> int:
    from stewardship.quarantine import export_findings_csv

    config = _config(args)
    run_id = args.run_id  # none: every run's, as `quarantine export` (a replay adds a run)
    n = export_findings_csv(config, run_id, args.output, source=args.source, fields=_fields())
    print(f"{n} findings of {f'run {run_id}' if run_id else 'every run'} written to "
          f"{args.output}")
    return 0


@_guard
def cmd_replay(args) -> int:
    from deflect.replay import replay_file

    config = _config(args)
    config.person_key_secret()  # fail early, naming the variable
    result = replay_file(
        config, args.source, args.path, as_of=args.as_of, name=args.name, entry=args.entry
    )
    print(f"replayed {result['replay']['original_path']} as run {result['run_id']}"
          + (f" ({result['replay_label']})" if result.get("replay_label") else ""))
    if result.get("report"):
        print(f"validation report: {result['report']}")
    return 1 if result.get("failed_sources") else 0


@_guard
def cmd_report(args) -> int:
    from deflect.pipeline import report

    config = _config(args)
    result = report(config, _run_id(config, args), expectations=not args.no_expectations)
    print(result["report"])
    return 0


def register(subparsers) -> None:
    """Add the steward commands to `deflect`'s sub-command parsers."""
    q = subparsers.add_parser("quarantine", help="list, show and mark quarantine entries")
    qsub = q.add_subparsers(dest="quarantine_command", required=True)
    from stewardship.data import STATES

    p = qsub.add_parser("list", help="quarantine entries with their state")
    p.add_argument("--config", required=True)
    p.add_argument("--status", choices=STATES)
    p.add_argument("--source")
    p.add_argument("--run-id")
    p.set_defaults(func=cmd_quarantine_list)
    p = qsub.add_parser("show", help="one entry: findings, masked XML excerpt, review trail")
    p.add_argument("--config", required=True)
    p.add_argument("quarantine_id", help="an entry id or a unique prefix of one")
    p.set_defaults(func=cmd_quarantine_show)
    p = qsub.add_parser(
        "mark", help="mark an entry reviewed or dismissed (kept as an audit trail)"
    )
    p.add_argument("--config", required=True)
    p.add_argument("quarantine_id", help="an entry id or a unique prefix of one")
    # `resolved` is still accepted and recorded as `dismissed`
    p.add_argument("status", choices=("reviewed", "dismissed", "resolved"))
    p.add_argument("--note")
    p.add_argument("--by", help="who (default: the current user)")
    p.set_defaults(func=cmd_quarantine_mark)
    p = qsub.add_parser(
        "export", help="entries of every run (one unit's, in one state) as CSV for the agency"
    )
    p.add_argument("--config", required=True)
    p.add_argument("--unit", help="a MEG unit code, ISP for TraCS, or a source name")
    p.add_argument("--status", choices=(*STATES, "all"), default="open",
                   help="default: open; all: every state")
    p.add_argument("--source", help="only this source's entries")
    p.add_argument("--output", required=True)
    p.set_defaults(func=cmd_quarantine_export)

    f = subparsers.add_parser("findings", help="export findings for the producing agency")
    fsub = f.add_subparsers(dest="findings_command", required=True)
    p = fsub.add_parser("export", help="the findings of every run (or one) as CSV")
    p.add_argument("--config", required=True)
    p.add_argument("--run-id", help="only this run's findings (default: every run's)")
    p.add_argument("--source", help="only this source's findings")
    p.add_argument("--output", required=True)
    p.set_defaults(func=cmd_findings_export)

    p = subparsers.add_parser("replay", help="run a corrected file through validation and load")
    p.add_argument("--config", required=True)
    p.add_argument("--source", required=True, help="the configured source the file belongs to")
    p.add_argument("--as-of", type=cli_date, default=None)
    p.add_argument("--name", help="file name to stage it under (default: its own name)")
    p.add_argument("--entry", help="the quarantine entry (id or unique prefix) the file corrects")
    p.add_argument("path")
    p.set_defaults(func=cmd_replay)

    p = subparsers.add_parser("report", help="(re)write the validation report of a run")
    p.add_argument("--config", required=True)
    p.add_argument("--run-id", help="default: the latest run")
    p.add_argument(
        "--no-expectations",
        action="store_true",
        help="do not run the Great Expectations suites first",
    )
    p.set_defaults(func=cmd_report)
