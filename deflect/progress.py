"""What `deflect run` and `deflect backfill` show while the batches run.

On a terminal: one tqdm bar over the bytes of every batch of the run (tqdm gives MB done and
the rate), with the source of the last finished batch, its batches done and the files done in
the postfix, and a line per finished source above the bar. Anywhere else (a pipe, a log file,
cron): one INFO log line per finished batch with files, MB and MB/s, and one per finished source.

The pipeline only calls back (`pipeline.run(..., **reporter.callbacks())`); it never renders.
"""
from __future__ import annotations

import contextlib
import logging
import sys
import time

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

log = logging.getLogger("deflect.progress")
MB = 1024 * 1024


class RunProgress:
    """Progress of one run, per source and per batch; see the module docstring.

    `tty` says whether `stream` is a terminal (default: `stream.isatty()`); tests pass a file
    and `tty=True` to see what a terminal would."""

    def __init__(self, sources: list[str], stream=None, tty: bool | None = None,
                 clock=time.monotonic):
        self.stream = sys.stderr if stream is None else stream
        self.tty = _isatty(self.stream) if tty is None else tty
        self.clock = clock
        self.sources = list(sources)
        self.bar: tqdm | None = None
        self.started = clock()
        self.total_files = self.total_bytes = 0
        self.files = self.bytes = 0
        self.batches: dict[str, list[int]] = {}  # source -> [done, planned]
        self.finished: list[str] = []

    def callbacks(self) -> dict:
        """The keyword arguments pipeline.run takes for progress."""
        return {"progress": self.source_done, "on_plan": self.planned,
                "on_batch": self.batch_done}

    def planned(self, batches) -> None:
        """Every batch of the run: (source, batch id, files, bytes)."""
        self.started = self.clock()
        for source, _, files, nbytes in batches:
            self.batches.setdefault(source, [0, 0])[1] += 1
            self.total_files += files
            self.total_bytes += nbytes
        if self.tty:
            self.bar = tqdm(total=self.total_bytes, unit="B", unit_scale=True, unit_divisor=1024,
                            desc="batches", file=self.stream, dynamic_ncols=True, leave=True)
        else:
            log.info("%d batches to process: %d files, %.1f MB", len(batches), self.total_files,
                     self.total_bytes / MB)

    def batch_done(self, source: str, batch_id: str, files: int, nbytes: int) -> None:
        self.files += files
        self.bytes += nbytes
        done = self.batches.setdefault(source, [0, 0])
        done[0] += 1
        elapsed = max(self.clock() - self.started, 1e-9)
        if self.bar is not None:
            self.bar.update(nbytes)
            self.bar.set_postfix_str(
                f"{source} {done[0]}/{done[1]} batches, files {self.files}/{self.total_files} "
                f"({self.files / elapsed:.1f}/s)", refresh=True)
        else:
            log.info("source %s: batch %s done (%d/%d): %d files, %.1f MB; run %d/%d files, "
                     "%.1f/%.1f MB, %.1f MB/s, %.1f files/s", source, batch_id, done[0], done[1],
                     files, nbytes / MB, self.files, self.total_files, self.bytes / MB,
                     self.total_bytes / MB, self.bytes / MB / elapsed, self.files / elapsed)

    def source_done(self, source: str) -> None:
        self.finished.append(source)
        line = f"[{len(self.finished)}/{len(self.sources)}] source {source} done"
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            log.info("%s", line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextlib.contextmanager
def run_progress(sources: list[str], stream=None, tty: bool | None = None):
    """A RunProgress for the duration of a run. On a terminal the log lines of the run go
    through tqdm meanwhile, so that they print above the bar instead of through it."""
    reporter = RunProgress(sources, stream=stream, tty=tty)
    try:
        if reporter.tty:
            with logging_redirect_tqdm():
                yield reporter
        else:
            yield reporter
    finally:
        reporter.close()


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
