"""The workbench over a migrated warehouse on both backends (the entry-state tests' rows): the
queue shows the states `quality.quarantine` derives, and a mark by the signed-in user lands in
the review trail and moves the entry's state."""

from __future__ import annotations

import re

from tests.warehouse.conftest import migrated_url  # noqa: F401 - the fixture, on both backends
from tests.warehouse.test_entry_states import EXPECTED, _config, _id, states_url  # noqa: F401
from tests.workbench.test_app import AuthManager, FakeRuns, User


def test_queue_and_mark_on_both_backends(states_url, tmp_path, monkeypatch):  # noqa: F811
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.testclient import TestClient

    from stewardship import data
    from workbench.app import create_app

    monkeypatch.setattr("airflow.api_fastapi.app.get_auth_manager", AuthManager)
    config = _config(tmp_path, states_url)
    app = create_app(lambda: config, FakeRuns())
    app.dependency_overrides[get_user] = lambda: User("dana", "user")
    c = TestClient(app, follow_redirects=False)

    page = c.get("/queue").text
    shown = dict(re.findall(r'href="/entries/([0-9a-f]+)">[0-9a-f]+</a></td>\s*'
                            r'<td><span class="state [a-z]+">([a-z]+)<', page))
    assert shown == EXPECTED
    assert set(re.findall(r'href="/entries/([^"]+)"', c.get("/queue?status=open").text)) == {
        k for k, v in EXPECTED.items() if v == "open"}

    r = c.post(f"/entries/{_id('open')[:10]}/mark", data={"status": "dismissed", "note": "ok"})
    assert r.status_code == 303
    with data.open_warehouse(config) as wh:
        entry = data.quarantine(wh, quarantine_id=_id("open")).iloc[0]
        trail = data.reviews(wh, [_id("open")])
    assert (entry["state"], entry["reviewed_by"]) == ("dismissed", "dana")
    assert trail["reviewed_by"].tolist() == ["dana"]
