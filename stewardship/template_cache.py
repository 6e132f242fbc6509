"""Compiled Jinja templates kept between runs, for the validation report and GX's Data Docs.

Every run renders the same templates: our report's and the ones Great Expectations renders its
Data Docs pages with. Compiling them (parse, generate Python, compile it) took a few tenths of
a second of every night, in a fresh process each time (docs/performance.md). Jinja's bytecode
cache keeps the compiled code as files and checks each against its template's source (a changed
template, or another Python, is compiled again), so the pages come out the same.

The files are code that is loaded and run: they live in the service's own work directory, in a
directory only its owner may open, never in a shared temporary directory.
"""
from __future__ import annotations

import contextlib
import functools
import logging
from pathlib import Path

import jinja2

log = logging.getLogger(__name__)

CACHE_DIR = "cache/templates"


class _BestEffortCache(jinja2.FileSystemBytecodeCache):
    """A cache that never fails a page: a file it cannot read is compiled, one it cannot write
    (a full disk, a directory another account owns) is left unwritten."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError as exc:
            log.debug("template cache not read: %s", exc)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:
            log.debug("template cache not written: %s", exc)


def bytecode_cache(config) -> jinja2.BytecodeCache | None:
    """The configuration's template cache (`<work_dir>/cache/templates`, created mode 0700), or
    None when it cannot be created (the templates are then compiled as before)."""
    directory = Path(config.work_dir) / CACHE_DIR
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return _BestEffortCache(str(directory))


@contextlib.contextmanager
def gx_views_cached(cache: jinja2.BytecodeCache | None):
    """Within the block, the Jinja environments GX's Data Docs views create use `cache`.

    GX's views build their environment from the `Environment` name of their own module
    (great_expectations.render.view.view), with no way to pass a bytecode cache; that name is
    replaced for the block by one that adds it, and put back after.
    tests/stewardship/test_template_cache.py fails when a GX release changes this."""
    if cache is None:
        yield
        return
    from great_expectations.render.view import view

    original = view.Environment
    view.Environment = functools.partial(original, bytecode_cache=cache)
    try:
        yield
    finally:
        view.Environment = original
