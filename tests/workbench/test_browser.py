"""The workbench end to end: Airflow's API server with the plugin on loopback (with the scheduler
and DAG processor, so a replay really runs), a PostgreSQL warehouse loaded by a real run over a
generated drop with one broken record, and headless Chromium driven by Playwright.

A steward signs in, reads Tonight, filters the queue to one unit, marks the entry, uploads the
corrected file and sees the replay DAG run and the entry replayed. A reader gets 403 on every
write; a client not signed in gets no page. Every page is screenshotted at 1280 px and must not
overflow it.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import struct
import time
from pathlib import Path

import httpx
import pytest
import yaml

from devtools.workbench_server import serve

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.postgres]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH = 1280
PREFIX = "/deflect-workbench"
UNIT, SOURCE = "BATF", "meg-batf"
USERS = {"steward": ("user", "steward-pw-1"), "reader": ("viewer", "reader-pw-2")}
# A case of the unit's last file that exists nowhere else: broken (a county code that is not five
# digits, an S01) in the drop, fixed in the corrected file the steward uploads.
CASE = ('<Case CaseNumber="BATF-2026-0099" LastModified="2026-08-05T10:00:00" Status="OPEN">'
        '<OpenedDate>2026-08-05</OpenedDate><OriginatingAgency Type="ISP-DOP" ORI="IL0849800"/>'
        '<CountyFIPS>{fips}</CountyFIPS><Subjects><Subject SubjectId="1">'
        '<Name Last="Lewis" First="Karen"/><BirthDate>1967-08-15</BirthDate><Sex>F</Sex>'
        '<Race>U</Race></Subject></Subjects><Deflections></Deflections></Case>\n')


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def prepare(tmp: Path, warehouse: str) -> tuple[Path, Path, dict]:
    """A generated drop with one broken record, loaded by a real run; the configuration, the
    corrected file and the manifest."""
    from deflect import pipeline
    from deflect.configuration import load_config
    from generator.config import GeneratorConfig
    from generator.generate import generate

    drop = tmp / "drop"
    manifest = generate(GeneratorConfig(start=dt.date(2026, 8, 1), end=dt.date(2026, 8, 6),
                                        seed=3, forms_per_day=5, attachment_kb=1,
                                        defect_rate=0.0, pending_at_end=False), drop)
    last = max((drop / "meg" / UNIT).glob("CaseActivity_*.xml"))
    text = last.read_text(encoding="utf-8")
    corrected = tmp / "corrected" / last.name
    corrected.parent.mkdir()
    corrected.write_text(text.replace("</CaseActivityExport>",
                                      CASE.format(fips="17103") + "</CaseActivityExport>"))
    last.write_text(text.replace("</CaseActivityExport>",
                                 CASE.format(fips="1710X") + "</CaseActivityExport>"))
    os.utime(f"{last}.done")  # the marker must not be older than the file it marks
    sources = yaml.safe_load((drop / "deflect.yaml").read_text())["sources"]
    for s in sources:
        s["url"] = "file://" + str((drop / s["url"].split(":", 1)[1]).resolve())
    config = tmp / "deflect.yaml"
    config.write_text(yaml.safe_dump({
        "warehouse": warehouse, "landing_dir": str(tmp / "landing"),
        "work_dir": str(tmp / "work"), "report_dir": str(tmp / "reports"),
        "person_key_secret_env": "DEFLECT_PERSON_KEY", "sources": sources}, sort_keys=False))
    result = pipeline.run(load_config(config), as_of=dt.date.fromisoformat(manifest["as_of"]),
                          publish=False)
    assert not result["failed_sources"]
    return config, corrected, manifest


def entries(config: Path, state: str | None = None) -> list[dict]:
    from deflect.configuration import load_config
    from stewardship.quarantine import list_entries

    return list_entries(load_config(config), status=state).to_dict(orient="records")


def token(base: str, user: str) -> str:
    r = httpx.post(f"{base}/auth/token", json={"username": user, "password": USERS[user][1]})
    r.raise_for_status()
    return r.json()["access_token"]


def sign_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/auth/login/?next={PREFIX}/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", USERS[user][1])
    page.click("button[type=submit]")
    page.wait_for_url(f"**{PREFIX}/")


def shoot(page, shots: Path, name: str) -> Path:
    """A full-page screenshot; the page must fit 1280 px (the screenshot would be wider)."""
    overflow = page.evaluate("document.documentElement.scrollWidth")
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert overflow <= WIDTH, f"{name}: {overflow} px wide"
    assert png_size(path)[0] == WIDTH, f"{name}: screenshot {png_size(path)}"
    return path


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is missing: "
                    "scripts/install-chromium.sh installs it")
def test_a_steward_works_an_entry_from_the_airflow_ui(tmp_path, pg_url, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DEFLECT_PERSON_KEY", "workbench-test-key")
    config, corrected, _ = prepare(tmp_path, pg_url)
    (entry,) = entries(config, "open")
    entry_id = entry["quarantine_id"]
    assert entry["source"] == SOURCE
    shots = Path(os.environ.get("WORKBENCH_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)

    with serve(tmp_path / "airflow", config, USERS, DEFLECT_AIRFLOW_RETRIES="0") as base:
        wb = base + PREFIX
        pages = ["/", "/queue", f"/entries/{entry_id}", f"/export.csv?unit={UNIT}",
                 "/deflections/D0", "/deflections?id=D0"]
        writes = [(f"/entries/{entry_id}/mark", {"data": {"status": "dismissed"}}),
                  (f"/entries/{entry_id}/replay",
                   {"files": {"corrected": (corrected.name, corrected.read_bytes())}})]
        # not signed in: no page, and nothing written
        with httpx.Client(base_url=wb) as anonymous:
            for path in pages:
                r = anonymous.get(path)
                assert r.status_code == 401, path
                assert entry_id[:12] not in r.text and UNIT not in r.text
            for path, kw in writes:
                assert anonymous.post(path, **kw).status_code == 401, path
        # a reader reads, and gets 403 on every write
        with httpx.Client(base_url=wb, cookies={"_token": token(base, "reader")}) as reader:
            assert reader.get("/queue").status_code == 200
            assert "Read only" in reader.get(f"/entries/{entry_id}").text
            for path, kw in writes:
                assert reader.post(path, **kw).status_code == 403, path
        assert entries(config, "open")[0]["quarantine_id"] == entry_id  # no mark recorded
        assert not (tmp_path / "landing" / "replay").exists()  # no upload kept

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            sign_in(page, base, "steward")
            assert page.inner_text("#verdict") == "needs attention"
            assert page.inner_text("#count-new").startswith("1")
            shoot(page, shots, "1-tonight")

            page.goto(f"{wb}/queue")
            page.select_option("#filters select[name=unit]", UNIT)
            page.click("#filters button")
            page.wait_for_url("**unit=BATF**")
            units = page.locator("#queue tr td:nth-child(3)").all_inner_texts()
            assert units == [UNIT]
            shoot(page, shots, "2-queue-one-unit")

            page.click("#queue a")
            page.wait_for_url(f"**/entries/{entry_id}")
            assert page.inner_text("#state") == "open"
            assert "S01" in page.inner_text("#findings")
            page.select_option("#mark select[name=status]", "reviewed")
            page.fill("#mark textarea[name=note]", "asked BATF for the county code")
            page.click("#mark button")
            page.wait_for_url("**done=marked")
            assert page.inner_text("#state") == "reviewed"
            assert "marked reviewed by steward: asked BATF for the county code" in \
                page.inner_text("#history")
            shoot(page, shots, "3-entry-marked")

            page.set_input_files("#replay input[type=file]", str(corrected))
            page.click("#replay button")
            page.wait_for_url("**done=replay**")
            link = page.locator("#history a.dagrun").first
            assert link.inner_text().startswith("manual__")
            assert link.get_attribute("href").startswith("/dags/deflect_replay/runs/")
            deadline = time.monotonic() + 420
            while True:
                page.reload()
                state = page.inner_text("#state")
                run_state = page.locator("#history .dagrun-state").first.inner_text()
                if state == "replayed" and run_state == "success":
                    break
                assert run_state not in ("failed", "upstream_failed"), page.inner_text("body")
                assert time.monotonic() < deadline, (state, run_state)
                time.sleep(5)
            history = page.inner_text("#history")
            assert "replayed as run" in history and "by steward" in history
            shoot(page, shots, "4-entry-replayed")

            # the Airflow UI links to the workbench in its navigation
            page.goto(base + "/")
            nav = page.get_by_role("link", name="Steward workbench")
            nav.first.wait_for(timeout=60_000)
            browser.close()

    (replayed,) = [e for e in entries(config) if e["quarantine_id"] == entry_id]
    assert replayed["state"] == "replayed"
    record = json.loads(next((tmp_path / "work" / "runs").glob("*/replay.json")).read_text())
    assert record["entry_id"] == entry_id and record["replayed_by"] == "steward"
    assert len(list(shots.glob("*.png"))) == 4
