"""`deflect publish`: a vintage from a warehouse, its summary on the screen; a vintage that
fails the disclosure audit is not written and the command fails naming the cell."""
from __future__ import annotations

import datetime as dt

import pytest

from deflect.cli import main
from deflect.pipeline import build_marts
from publication import tables
from tests.publication.test_revision import meg, tracs
from tests.warehouse.helpers import STAGING, merge, write_batch
from warehouse import connect, load_batch, migrate, refresh


@pytest.fixture
def config(tmp_path):
    url = f"duckdb://{tmp_path / 'warehouse.duckdb'}"
    with connect(url) as wh:
        migrate(wh)
        rows = merge(*(tracs(n) for n in range(1, 16)))
        load_batch(wh, STAGING, write_batch(tmp_path / "batches", "b1", "tracs", rows))
        # three KAMEG deflections: small cells to suppress
        load_batch(wh, STAGING, write_batch(
            tmp_path / "batches", "b2", "meg", merge(*(meg(n, "2026-10-01T10:00:00", 3)
                                                       for n in range(1, 4))), source="meg-kameg"))
        refresh(wh, kinds=STAGING, run_id="run-1", as_of=dt.date(2026, 11, 14), build=build_marts)
    (tmp_path / "drop").mkdir()
    path = tmp_path / "deflect.yaml"
    path.write_text("warehouse: duckdb:///warehouse.duckdb\nlanding_dir: landing\n"
                    "person_key_secret_env: DEFLECT_PERSON_KEY\nprotection_width: 4\n"
                    "sources:\n  - name: tracs-isp\n    kind: tracs\n    url: file:drop\n",
                    encoding="utf-8")
    return path, url


def test_publish_writes_a_vintage_and_says_so(config, capsys):
    path, url = config
    assert main(["publish", "--config", str(path), "--quarter", "2026-Q3"]) == 0
    out = capsys.readouterr().out
    assert "published vintage 2026-Q3.2026-11-14" in out  # as of the last refresh
    assert "statutory_measures: information loss" in out
    with connect(url, read_only=True) as wh:
        assert wh.query("SELECT vintage_id, quarter, protection_width FROM "
                        "reporting.publication") == [("2026-Q3.2026-11-14", "2026-Q3", 4)]
        # KAMEG's 3 is suppressed, and so SIEG's 15: the total 18 would give it back (and with
        # the tables by sex, whose margins are the same cells, the total too)
        shown = dict(wh.query(
            "SELECT approving_unit_code, deflections FROM reporting.published_deflection_counts "
            "WHERE origin = 'ALL'"))
        assert shown["KAMEG"] is None and shown["SIEG"] is None
    assert main(["publish", "--config", str(path), "--year", "2026", "--as-of",
                 "2026-12-31"]) == 0
    assert "published vintage 2026.2026-12-31" in capsys.readouterr().out


def test_a_bad_period_is_a_usage_error(config, capsys):
    path, _ = config
    assert main(["publish", "--config", str(path), "--quarter", "2026-Q5"]) == 2
    assert "YYYY-Qn" in capsys.readouterr().err


def test_a_vintage_failing_the_audit_is_not_published(config, capsys, monkeypatch):
    path, url = config
    # a suppression that stops at the primary cells: the separate audit must refuse it
    monkeypatch.setattr(tables.System, "protect", lambda self, width: 0)
    assert main(["publish", "--config", str(path), "--quarter", "2026-Q3"]) == 1
    err = capsys.readouterr().err
    assert "not published" in err and "fails the disclosure audit: cell" in err
    with connect(url, read_only=True) as wh:
        assert wh.scalar("SELECT count(*) FROM meta.publication") == 0


def test_the_reporting_dag_step_publishes_a_quarter_when_it_is_due(config):
    from deflect.configuration import load_config
    from deflect.publish import publish_due

    path, url = config
    cfg = load_config(path)
    # 2026-Q3 closes on 30 September: due 45 days later, and not before
    assert publish_due(cfg, today=dt.date(2026, 11, 13)) == []
    (first,) = publish_due(cfg, today=dt.date(2026, 11, 14))
    assert first["vintage_id"] == "2026-Q3.2026-11-14"
    assert publish_due(cfg, today=dt.date(2026, 11, 20)) == []
    (again,) = publish_due(cfg, today=dt.date(2026, 12, 14))
    assert again["previous_vintage_id"] == "2026-Q3.2026-11-14"
    with connect(url, read_only=True) as wh:
        assert wh.query("SELECT vintage_id, superseded_by FROM reporting.publication "
                        "ORDER BY published_at") == [
            ("2026-Q3.2026-11-14", "2026-Q3.2026-12-14"), ("2026-Q3.2026-12-14", None)]
