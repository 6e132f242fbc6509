"""The report's templates: values from the warehouse are escaped, and a page needs nothing else."""

import re
from importlib.resources import files

import duckdb

from stewardship.report import write_run_report
from tests.stewardship import fixtures

HOSTILE = """<script>alert("x")</script>'.xml"""


def _quarantine_hostile_file(env) -> None:
    con = duckdb.connect(str(env.db_path))
    con.execute(
        f"insert into meta.quarantine ({fixtures.QUARANTINE}, status) "
        "values (?,?,?,?,?,?,?,?,?,?,?,?,'open')",
        ["q-<b>", fixtures.RUN2, "tracs-isp", HOSTILE, "0" * 64, "file"]
        + [None, None, None, "F01", None, None],
    )
    con.close()


def test_a_file_name_with_markup_is_shown_escaped(env):
    _quarantine_hostile_file(env)
    write_run_report(env.config, fixtures.RUN2)
    html = (env.report_dir / fixtures.RUN2 / "sources" / "tracs-isp.html").read_text("utf-8")
    assert "<script" not in html and "q-<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#x27;.xml" in html
    assert 'id="q-q-&lt;b&gt;"' in html


def test_pages_inline_their_stylesheet_and_load_nothing_from_the_network(env):
    write_run_report(env.config, fixtures.RUN1)
    css = (files("stewardship") / "templates" / "report.css").read_text(encoding="utf-8")
    for page in (env.report_dir / fixtures.RUN1 / "index.html", env.report_dir / "index.html"):
        html = page.read_text(encoding="utf-8")
        assert css.strip() in html.split("<style>")[1].split("</style>")[0], page
        assert not re.search(r"<script|<link|@import|url\(", html, re.IGNORECASE), page
        assert set(re.findall(r"https?://[^\"' <)]+", html)) <= {"http://www.w3.org/2000/svg"}
