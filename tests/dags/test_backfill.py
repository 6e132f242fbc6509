"""deflect.backfill: staging the landing archive as file:// drops the normal pipeline accepts."""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from adapters.tracs.sidecar import parse_sidecar
from deflect import backfill
from deflect.configuration import load_config

TRACS = "TRACS_IL0849800_20260901T013000_1.xml"
MEG = "CaseActivity_SIEG_20260901.xml"


def _land(landing: Path, source: str, day: str, name: str, data: bytes) -> Path:
    d = landing / source / day
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{name}.{hashlib.sha256(data).hexdigest()[:12]}"
    p.write_bytes(data)
    return p


def _duckdb_file(url: str) -> str:
    assert url.startswith("duckdb://")
    return "/" + url[len("duckdb://"):].lstrip("/")


@pytest.fixture
def config(tmp_path):
    cfg = tmp_path / "deflect.yaml"
    cfg.write_text(f"""warehouse: duckdb:///{tmp_path}/wh.duckdb
landing_dir: landing
person_key_secret_env: DEFLECT_PERSON_KEY
sources:
  - {{name: tracs-isp, kind: tracs, url: "sftp://u@127.0.0.1:22/x", host_key: "ssh-ed25519 AAAA"}}
  - {{name: meg-sieg, kind: meg, unit: SIEG, url: "file:meg/SIEG"}}
""")
    landing = tmp_path / "landing"
    _land(landing, "tracs-isp", "20260901", TRACS, b"<tracs/>")
    _land(landing, "meg-sieg", "20260902", MEG, b"<meg version='1'/>")
    _land(landing, "meg-sieg", "20260905", MEG, b"<meg version='2'/>")  # corrected re-send
    _land(landing, "meg-sieg", "20261001", "CaseActivity_SIEG_20260930.xml", b"<late/>")
    (landing / "meg-sieg" / "20260902" / ".part-123").write_bytes(b"partial")
    return load_config(cfg)


def test_stage_adds_completion_markers_and_keeps_the_last_copy(config):
    _, manifest = backfill.stage_landing(config, dt.date(2026, 9, 1), dt.date(2026, 9, 30),
                                         label="t1")
    by_source = {s["source"]: s for s in manifest["sources"]}
    tracs = Path(by_source["tracs-isp"]["dir"])
    assert sorted(p.name for p in tracs.iterdir()) == [TRACS, TRACS + ".sha256"]
    digest = hashlib.sha256(b"<tracs/>").hexdigest()
    assert parse_sidecar((tracs / f"{TRACS}.sha256").read_bytes(), TRACS) == digest
    meg = Path(by_source["meg-sieg"]["dir"])
    assert sorted(p.name for p in meg.iterdir()) == [MEG, MEG + ".done"]
    assert (meg / MEG).read_bytes() == b"<meg version='2'/>"  # the later receipt wins
    assert len(by_source["meg-sieg"]["superseded"]) == 1
    assert (meg / f"{MEG}.done").stat().st_mtime >= (meg / MEG).stat().st_mtime


def test_replay_configuration_keeps_warehouse_and_areas(config):
    path, _ = backfill.stage_landing(config, dt.date(2026, 9, 1), dt.date(2026, 10, 31),
                                     label="t2", sources=["meg-sieg"])
    replay = load_config(path)
    # an absolute DuckDB path survives the round trip (the same file, however many slashes)
    assert _duckdb_file(replay.warehouse) == _duckdb_file(config.warehouse)
    assert (replay.landing_dir, replay.work_dir, replay.report_dir) == \
        (config.landing_dir, config.work_dir, config.report_dir)
    [src] = replay.sources
    assert (src.name, src.kind, src.unit, src.scheme) == ("meg-sieg", "meg", "SIEG", "file")
    assert sorted(p.name for p in Path(src.path).iterdir() if not p.name.endswith(".done")) == \
        [MEG, "CaseActivity_SIEG_20260930.xml"]


def test_range_outside_the_archive_stages_nothing(config):
    _, manifest = backfill.stage_landing(config, dt.date(2025, 1, 1), dt.date(2025, 1, 31), "t3")
    assert [s["files"] for s in manifest["sources"]] == [0, 0]


def test_bad_requests_are_refused(config):
    with pytest.raises(backfill.BackfillError, match="before it starts"):
        backfill.stage_landing(config, dt.date(2026, 9, 2), dt.date(2026, 9, 1), "t4")
    with pytest.raises(backfill.BackfillError, match="no source named 'meg-nope'"):
        backfill.stage_landing(config, dt.date(2026, 9, 1), dt.date(2026, 9, 2), "t5",
                               sources=["meg-nope"])
