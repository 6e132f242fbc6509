"""The bench's run directories are new for every run, where an installed pipeline keeps its work
directory: each run starts with the report templates the runs before it compiled."""
from __future__ import annotations

from bench.suite import Suite
from stewardship.template_cache import CACHE_DIR


def test_a_run_starts_with_the_templates_the_runs_before_compiled(tmp_path):
    suite = Suite(tmp_path / "data", server=None, dbs=None, keep_runs=False, log=lambda m: None)
    first = suite.run_dir("first")
    suite._give_templates(first)  # nothing compiled yet: nothing given
    assert not (first / "work" / CACHE_DIR).exists()
    (first / "work" / CACHE_DIR).mkdir(parents=True)
    (first / "work" / CACHE_DIR / "__jinja2_page.cache").write_bytes(b"compiled")
    suite.done_with(first)
    assert not first.exists()

    later = suite.run_dir("later")
    suite._give_templates(later)
    assert (later / "work" / CACHE_DIR / "__jinja2_page.cache").read_bytes() == b"compiled"
