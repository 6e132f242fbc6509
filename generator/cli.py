"""Command line of the generator; `deflect generate ARGS` delegates to `main(ARGS)`."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from deflect.core.dates import cli_date
from generator.config import PERSON_KEY_ENV, GeneratorConfig
from generator.generate import GeneratorError, write_drop


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="deflect generate",
        description="Write synthetic TraCS and MEG/TF export files with a ground-truth manifest. "
                    f"The person-key secret is read from ${PERSON_KEY_ENV}.")
    p.add_argument("--out", required=True, type=Path, help="output directory (new or empty)")
    p.add_argument("--start", required=True, type=cli_date, help="first night, YYYY-MM-DD")
    p.add_argument("--end", required=True, type=cli_date, help="last night, YYYY-MM-DD")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--forms-per-day", type=int, default=200,
                   help="TraCS FieldReports first exported per night (default 200)")
    p.add_argument("--attachment-kb", type=int, default=64, help="mean attachment size in KB")
    p.add_argument("--large-attachments", type=int, default=0,
                   help="number of attachments of nearly 16 MB")
    p.add_argument("--defect-rate", type=float, default=0.02,
                   help="share of defective files and records (0 = clean; default 0.02)")
    p.add_argument("--gzip-share", type=float, default=0.2, help="share of TraCS files gzipped")
    p.add_argument("--as-of", type=cli_date, default=None,
                   help="date the follow-up figures are computed for (default: end + 1 day)")
    p.add_argument("--no-pending", action="store_true",
                   help="complete every file (no .part, missing sidecar or marker at the end)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        cfg = GeneratorConfig(
            start=args.start, end=args.end, seed=args.seed, forms_per_day=args.forms_per_day,
            attachment_kb=args.attachment_kb, large_attachments=args.large_attachments,
            defect_rate=args.defect_rate, gzip_share=args.gzip_share, as_of=args.as_of,
            pending_at_end=not args.no_pending)
    except ValueError as exc:
        print(f"deflect generate: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        stats = write_drop(cfg, args.out, progress=not args.no_progress)
    except GeneratorError as exc:
        print(f"deflect generate: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {stats['field_reports_written']} FieldReports, {stats['files']} files, "
          f"{stats['deflections']} deflections in the ground truth, "
          f"{sum(stats['defects_by_code'].values())} defects recorded, "
          f"{time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
