"""Compiled templates kept between runs (stewardship/template_cache.py): the pages are the same
as compiled afresh, a run compiles nothing a previous run compiled, and GX's views take the cache
only inside the block that asks for it."""
from __future__ import annotations

import os
import re
import stat

import jinja2
import pytest

from stewardship import expectations, report, template_cache
from tests.stewardship import fixtures


def _build(path):
    path.mkdir(parents=True, exist_ok=True)
    return fixtures.build(path)


def _count_compiles(monkeypatch) -> list[str]:
    compiled: list[str] = []
    original = jinja2.Environment.compile

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return original(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", compile)
    return compiled


def test_the_cache_is_a_private_directory_of_the_work_dir(tmp_path):
    env = fixtures.build(tmp_path)
    cache = template_cache.bytecode_cache(env.config)
    directory = env.config.work_dir / template_cache.CACHE_DIR
    assert cache.directory == str(directory)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700


def test_no_cache_where_its_directory_cannot_be_made(tmp_path):
    env = fixtures.build(tmp_path)
    (env.config.work_dir / "cache").parent.mkdir(parents=True, exist_ok=True)
    (env.config.work_dir / "cache").write_text("a file where the directory would go")
    assert template_cache.bytecode_cache(env.config) is None
    with template_cache.gx_views_cached(None):  # and nothing is patched for it
        from great_expectations.render.view import view
        assert view.Environment is jinja2.Environment


# the report's "generated at", and the time GX adds to its asset links (?d=20261129T195601.5Z)
_GENERATED = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00|\d{8}T\d{6}\.\d+Z")


def _pages(folder) -> dict:
    """Every page under `folder`, the times it was generated masked."""
    return {p.relative_to(folder): _GENERATED.sub(b"<generated>", p.read_bytes())
            for p in sorted(folder.rglob("*.html"))}


def test_a_report_from_cached_templates_is_the_one_compiled_afresh(tmp_path, monkeypatch):
    env = fixtures.build(tmp_path)
    compiled = _count_compiles(monkeypatch)

    def render() -> dict:
        report._environment.cache_clear()  # a fresh process, as every night
        return _pages(report.write_run_report(env.config, fixtures.RUN2).parent)

    first = render()
    assert compiled  # nothing cached yet
    assert any((env.config.work_dir / template_cache.CACHE_DIR).iterdir())
    compiled.clear()
    assert render() == first
    assert compiled == []  # every template came from the cache
    # a cache file that is not a compiled template is compiled again, not run
    for path in (env.config.work_dir / template_cache.CACHE_DIR).iterdir():
        path.write_bytes(b"not a compiled template")
    assert render() == first
    assert compiled


def test_a_cache_that_cannot_be_written_or_read_fails_no_page(tmp_path, monkeypatch):
    import jinja2.bccache

    env = fixtures.build(tmp_path)
    report._environment.cache_clear()
    first = _pages(report.write_run_report(env.config, fixtures.RUN2).parent)

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jinja2.bccache.tempfile, "NamedTemporaryFile", refuse)
    monkeypatch.setattr(jinja2.bccache, "open", refuse, raising=False)  # reading, too
    for path in (env.config.work_dir / template_cache.CACHE_DIR).iterdir():
        path.unlink()
    report._environment.cache_clear()
    assert _pages(report.write_run_report(env.config, fixtures.RUN2).parent) == first
    assert not any((env.config.work_dir / template_cache.CACHE_DIR).iterdir())


@pytest.mark.slow
def test_data_docs_from_cached_templates_are_the_ones_compiled_afresh(tmp_path, monkeypatch):
    compiled = _count_compiles(monkeypatch)
    afresh = _build(tmp_path / "afresh")
    with monkeypatch.context() as m:
        m.setattr(expectations, "bytecode_cache", lambda config: None)
        expectations.run_expectations(afresh.config, fixtures.RUN2)
    assert compiled
    assert not (afresh.config.work_dir / template_cache.CACHE_DIR).exists()

    first = _build(tmp_path / "first")
    expectations.run_expectations(first.config, fixtures.RUN2)
    cached = _build(tmp_path / "cached")  # another night, with the first one's cache
    (cached.config.work_dir / "cache").mkdir(parents=True)
    os.rename(first.config.work_dir / template_cache.CACHE_DIR,
              cached.config.work_dir / template_cache.CACHE_DIR)
    compiled.clear()
    expectations.run_expectations(cached.config, fixtures.RUN2)
    assert [name for name in compiled if name] == []  # GX's page templates: from the cache

    docs = expectations.DATA_DOCS_DIR
    assert _pages(afresh.report_dir / docs / "expectations") == \
        _pages(cached.report_dir / docs / "expectations")
    assert _pages(afresh.report_dir / docs / "expectations")


def test_gx_views_take_the_cache_only_inside_the_block(tmp_path):
    """GX's view module builds its environment from its own `Environment` name: the one use
    of GX's internals this module makes (a GX release that changes it fails here, not silently
    in production)."""
    from great_expectations.render.view import view

    assert view.Environment is jinja2.Environment
    cache = jinja2.FileSystemBytecodeCache(str(tmp_path))
    with template_cache.gx_views_cached(cache):
        assert view.DefaultJinjaView().env.bytecode_cache is cache
    assert view.Environment is jinja2.Environment
    assert view.DefaultJinjaView().env.bytecode_cache is None
    with pytest.raises(RuntimeError), template_cache.gx_views_cached(cache):
        raise RuntimeError("a failed build")
    assert view.Environment is jinja2.Environment
