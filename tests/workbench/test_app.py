"""The workbench app against a real (hand-filled, DuckDB) warehouse, with Airflow's user and
auth manager replaced by stand-ins: every page, every write, and who may do which."""

from __future__ import annotations

import csv
import io
import re

import pytest
from airflow.api_fastapi.core_api.security import get_user
from fastapi.testclient import TestClient

from stewardship import data
from tests.stewardship import fixtures
from workbench.airflow_runs import DagRunLink
from workbench.app import create_app

PERSONAL = [v for p in fixtures.PEOPLE for v in p.values() if v and len(v) > 1]


class FakeRuns:
    """Airflow's runs: records the replays asked for, lists them back for their entry."""

    def __init__(self):
        self.triggered: list[tuple[dict, str]] = []

    def trigger_replay(self, conf, user_name):
        self.triggered.append((conf, user_name))
        return DagRunLink(f"manual__{len(self.triggered)}", "queued", user_name, None, "/dags/x")

    def runs_for_entry(self, entry_id):
        return [DagRunLink(f"manual__{i + 1}", "queued", who, None, "/dags/x")
                for i, (conf, who) in enumerate(self.triggered) if conf["entry"] == entry_id]


class User:
    def __init__(self, name, role):
        self.name, self.role = name, role

    def get_name(self):
        return self.name


class AuthManager:
    """Airflow's rule for DAG runs, as the simple auth manager has it: viewers read, users and
    above also trigger; `nobody` has no access at all."""

    def __init__(self):
        self.asked = []

    def is_authorized_dag(self, *, method, access_entity, details, user):
        self.asked.append((method, access_entity, details.id, user.name))
        if user.role == "nobody":
            return False
        return method == "GET" or user.role in ("user", "op", "admin")


@pytest.fixture
def env(tmp_path):
    return fixtures.build(tmp_path)


@pytest.fixture
def manager(monkeypatch):
    m = AuthManager()
    monkeypatch.setattr("airflow.api_fastapi.app.get_auth_manager", lambda: m)
    return m


def client_as(env, role, runs=None, name=None):
    """A client whose requests come from an Airflow user of `role` (None: not signed in)."""
    app = create_app(lambda: env.config, runs or FakeRuns())
    if role is not None:
        app.dependency_overrides[get_user] = lambda: User(name or f"{role}-ann", role)
    return TestClient(app, follow_redirects=False)


def assert_no_personal_data(text):
    for value in PERSONAL:
        assert value not in text, value


def test_tonight_shows_the_verdict_and_counts_that_drill_down_to_their_entries(env, manager):
    c = client_as(env, "viewer")
    page = c.get("/")
    assert page.status_code == 200, page.text
    assert re.search(r'id="verdict">(needs attention|failed|OK)<', page.text)
    # RUN2 has a failed source: the night failed
    assert 'id="verdict">failed<' in page.text
    link = re.search(r'href="(/queue\?[^"]*tonight=new[^"]*)"', page.text).group(1)
    queue = c.get(link.replace("&amp;", "&"))
    assert queue.status_code == 200
    ids = set(re.findall(r'href="/entries/([^"]+)"', queue.text))
    assert ids == {"q-0002", "q-0003", "q-0004"}  # open, from RUN2
    assert_no_personal_data(page.text + queue.text)
    # the night's W-flags name their deflections, each a link to its lineage
    assert 'href="/deflections/D0123456789abcdef01234567"' in page.text


def test_the_queue_filters_by_unit_code_status_age_and_file(env, manager):
    c = client_as(env, "viewer")

    def ids(**params):
        r = c.get("/queue", params=params)
        assert r.status_code == 200, r.text
        return set(re.findall(r'href="/entries/([^"]+)"', r.text))

    everything = ids()
    assert everything == {"q-0001", "q-0002", "q-0003", "q-0004", "q-0005"}
    assert ids(unit="SIEG") == {"q-0003", "q-0005"}
    assert ids(unit="ISP") == {"q-0001", "q-0002", "q-0004"}
    assert ids(code="B01") == {"q-0004"}
    assert ids(status="resolved") == {"q-0005"}
    assert ids(status="open", unit="SIEG") == {"q-0003"}
    assert ids(file="0002.xml") == {"q-0004"}
    assert ids(min_age="100000") == set()
    assert ids(min_age="0") == everything
    by_unit = c.get("/queue", params={"sort": "unit"}).text
    order = re.findall(r'href="/entries/([^"]+)"', by_unit)
    assert order.index("q-0001") < order.index("q-0003")  # ISP before SIEG
    assert c.get("/queue", params={"status": "nonsense"}).status_code == 400


def test_an_entry_shows_its_rules_masked_excerpt_history_and_contact(env, manager, tmp_path):
    contacts = tmp_path / "contacts.yaml"
    contacts.write_text("units:\n  SIEG: {name: Records Desk, email: records@sieg.example, phone: 555-0100}\n")
    object.__setattr__(env.config, "contacts_file", contacts)
    from stewardship.quarantine import mark

    mark(env.config, "q-0003", "reviewed", note="asked SIEG", who="bea")
    c = client_as(env, "viewer")
    page = c.get("/entries/q-0003")
    assert page.status_code == 200, page.text
    text = page.text
    from deflect.core.rules import rule

    assert rule("S01").action.replace("'", "&#39;") in text  # what to do, from the catalogue
    assert "S01" in text and "B03" in text
    assert 'class="hit"' in text  # the excerpt marks the error line
    assert "[masked]" in text
    assert "marked <b>reviewed</b> by bea: asked SIEG" in text
    assert "records@sieg.example" in text
    assert "Read only" in text and 'id="mark"' not in text  # a viewer gets no forms
    assert_no_personal_data(text)
    # an ambiguous prefix or an unknown id is a 404 page that says so
    ambiguous = c.get("/entries/q-000")
    assert ambiguous.status_code == 404 and "ambiguous" in ambiguous.text
    assert c.get("/entries/nope").status_code == 404


def test_a_mark_is_recorded_with_the_signed_in_users_name(env, manager):
    c = client_as(env, "user", name="carla")
    page = c.get("/entries/q-0004")
    assert 'id="mark"' in page.text and 'id="replay"' in page.text
    r = c.post("/entries/q-0004/mark", data={"status": "dismissed", "note": "a test file",
                                              "reviewed_by": "mallory"})
    assert r.status_code == 303 and r.headers["location"] == "/entries/q-0004?done=marked"
    with data.open_warehouse(env.config) as wh:
        trail = data.reviews(wh, ["q-0004"]).to_dict(orient="records")
        state = data.quarantine(wh, quarantine_id="q-0004")["state"].iloc[0]
    assert [(t["status"], t["reviewed_by"], t["note"]) for t in trail] == [
        ("dismissed", "carla", "a test file")]
    assert state == "dismissed"
    assert c.post("/entries/q-0004/mark", data={"status": "open"}).status_code == 400


def test_an_upload_is_kept_under_the_landing_area_and_triggers_the_replay_dag(env, manager):
    runs = FakeRuns()
    c = client_as(env, "user", runs=runs, name="carla")
    body = b"<CaseActivityExport/>\n"
    r = c.post("/entries/q-0003/replay",
               files={"corrected": ("fixed-by-hand.xml", body, "text/xml")})
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/entries/q-0003?done=replay+manual__1")
    ((conf, who),) = runs.triggered
    assert who == "carla" and conf["requested_by"] == "carla"
    assert conf["entry"] == "q-0003" and conf["source"] == "meg-sieg"
    assert conf["name"] == "CaseActivity_SIEG_20261101.xml"
    stored = env.config.landing_dir / "replay" / "uploads"
    assert conf["file"].startswith(str(stored))
    assert conf["file"].endswith("/CaseActivity_SIEG_20261101.xml")
    with open(conf["file"], "rb") as fh:
        assert fh.read() == body
    page = c.get(r.headers["location"])
    assert "manual__1" in page.text and "asked by carla" in page.text
    # an empty file is refused, and nothing is triggered
    empty = c.post("/entries/q-0003/replay", files={"corrected": ("x.xml", b"", "text/xml")})
    assert empty.status_code == 400 and len(runs.triggered) == 1


def test_a_unit_exports_its_open_entries_as_csv(env, manager):
    c = client_as(env, "viewer")
    r = c.get("/export.csv", params={"unit": "ISP", "status": "open"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and {row["unit"] for row in rows} == {"ISP"}
    assert {row["entry_id"] for row in rows} == {"q-0001", "q-0002", "q-0004"}
    assert_no_personal_data(r.text)
    assert 'id="export"' in c.get("/queue", params={"unit": "ISP"}).text


def test_lineage_shows_identities_and_never_a_personal_column(env, manager):
    import duckdb

    con = duckdb.connect(str(env.db_path))
    con.execute("create or replace view quality.lineage as select 'D0123456789abcdef01234567' as "
                "deflection_id, 'meg-sieg' as source, 'CaseActivity_SIEG_20261101.xml' as "
                "file_name, 'SIEG/SIEG-2026-0001' as record_id, 12 as line, "
                "'Quennell' as last_name, 'a' || repeat('b', 63) as person_key, "
                "'1984-11-23' as birth_date")
    con.close()
    page = client_as(env, "viewer").get("/deflections/D0123456789abcdef01234567").text
    assert "SIEG/SIEG-2026-0001" in page and "CaseActivity_SIEG_20261101.xml" in page
    assert "last_name" not in page and "person_key" not in page and "abbb" not in page
    assert_no_personal_data(page)


def test_a_deflection_id_drills_down_to_its_findings(env, manager):
    c = client_as(env, "viewer")
    page = c.get("/deflections/D0123456789abcdef01234567")
    assert page.status_code == 200
    assert "W01" in page.text  # the flag behind it, whether or not lineage has rows
    assert c.get("/deflections", params={"id": "D0123456789abcdef01234567"}).status_code == 200


ROUTES = [
    ("get", "/", {}), ("get", "/queue", {}), ("get", "/entries/q-0003", {}),
    ("get", "/export.csv?unit=ISP", {}), ("get", "/deflections/D0123456789abcdef01234567", {}),
    ("get", "/deflections?id=D0", {}),
    ("post", "/entries/q-0003/mark", {"data": {"status": "reviewed"}}),
    ("post", "/entries/q-0003/replay", {"files": {"corrected": ("f.xml", b"<x/>", "text/xml")}}),
]


@pytest.mark.parametrize("path", [p for m, p, _ in ROUTES if m == "get" and "csv" not in p])
def test_every_page_has_a_plain_title(env, manager, path):
    """The browser tab shows a short title: no markup inside <title> (a page block misplaced there
    would put a whole table in the tab)."""
    page = client_as(env, "viewer").get(path, follow_redirects=True).text
    title = re.search(r"<title>(.*?)</title>", page, re.DOTALL).group(1)
    assert "<" not in title and len(title) < 80, title


def test_every_route_is_listed_here(env):
    app = create_app(lambda: env.config, FakeRuns())
    paths = {r.path for r in app.routes if hasattr(r, "methods")}
    listed = {re.sub(r"\?.*", "", p) for _, p, _ in ROUTES}
    assert len(paths) == len(listed), (paths, listed)


@pytest.mark.parametrize(("method", "path", "kw"), ROUTES)
def test_no_page_without_a_signed_in_user(env, method, path, kw):
    runs = FakeRuns()
    r = getattr(client_as(env, None, runs=runs), method)(path, **kw)
    assert r.status_code == 401
    assert "Sign in" in r.text and "q-0003" not in r.text and "SIEG" not in r.text
    assert not runs.triggered


@pytest.mark.parametrize(("method", "path", "kw"), ROUTES)
def test_no_page_for_a_user_without_access_to_the_deflect_dags(env, manager, method, path, kw):
    r = getattr(client_as(env, "nobody"), method)(path, **kw)
    assert r.status_code == 403 and "SIEG" not in r.text


@pytest.mark.parametrize(("method", "path", "kw"), [x for x in ROUTES if x[0] == "post"])
def test_a_reader_gets_403_on_every_write_and_nothing_changes(env, manager, method, path, kw):
    runs = FakeRuns()
    r = client_as(env, "viewer", runs=runs).post(path, **kw)
    assert r.status_code == 403
    with data.open_warehouse(env.config) as wh:
        assert data.reviews(wh).empty
    assert not runs.triggered
    assert not (env.config.landing_dir / "replay").exists()
    asked = [(m, d) for m, _, d, _ in manager.asked]
    assert ("POST", "deflect_replay") in asked
    # a malformed write is refused for who is asking, not for its form
    assert client_as(env, "viewer", runs=runs).post(path).status_code == 403


def test_a_write_from_another_site_is_refused(env, manager):
    c = client_as(env, "user")
    r = c.post("/entries/q-0003/mark", data={"status": "reviewed"},
               headers={"Origin": "https://elsewhere.example"})
    assert r.status_code == 403
    ok = c.post("/entries/q-0003/mark", data={"status": "reviewed"},
                headers={"Origin": "http://testserver"})
    assert ok.status_code == 303


def test_a_locked_embedded_warehouse_is_a_503_page_not_a_crash(env, manager):
    """A run holds DuckDB's lock while it loads: the workbench says so and shows nothing else."""
    import subprocess
    import sys

    hold = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('locked', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(env.db_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        r = client_as(env, "viewer").get("/queue")
        assert r.status_code == 503 and "busy" in r.text and "q-0003" not in r.text
    finally:
        holder.kill()
        holder.wait()
