"""Replay of a corrected file: staging it as a one-file drop, then a run over that source alone."""

import hashlib
import json
import os

import pytest

from deflect.core.runs import run_dir
from deflect.replay import ReplayError, replay_file, stage_file


def test_a_tracs_file_is_staged_with_its_checksum_sidecar(env, tmp_path):
    src = tmp_path / "TRACS_IL0849800_20261101T013004_0001.xml"
    src.write_bytes(b"<TraCSExport/>\n")
    stage = stage_file(env.config, "tracs", src, src.name)
    assert stage.parent == env.config.landing_dir / "replay"
    assert (stage / src.name).read_bytes() == src.read_bytes()
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    assert (stage / f"{src.name}.sha256").read_text() == f"{digest}  {src.name}\n"
    assert oct(stage.stat().st_mode & 0o777) == "0o700"


def test_a_meg_file_is_staged_with_a_done_marker_not_older_than_it(env, tmp_path):
    src = tmp_path / "fixed.xml"
    src.write_text("<CaseActivityExport/>")
    stage = stage_file(env.config, "meg", src, "CaseActivity_SIEG_20261101.xml")
    data_file = stage / "CaseActivity_SIEG_20261101.xml"
    marker = stage / "CaseActivity_SIEG_20261101.xml.done"
    assert marker.exists() and os.stat(marker).st_mtime >= os.stat(data_file).st_mtime


def test_replay_refuses_a_missing_file_and_an_unknown_source(env, tmp_path):
    with pytest.raises(ReplayError, match="no such file"):
        replay_file(env.config, "meg-sieg", tmp_path / "missing.xml")
    with pytest.raises(ReplayError, match="no source named 'nope'"):
        replay_file(env.config, "nope", tmp_path / "missing.xml")


def test_replay_runs_the_pipeline_over_that_source_alone(env, tmp_path, monkeypatch):
    """The pipeline sees a configuration with only the replayed source, pointing at the staged
    file; the run records where the file came from."""
    from deflect import pipeline

    seen = {}

    def fake_run(config, as_of=None, publish=True):
        seen["sources"] = config.sources
        run_id = "20261105T000000Z-replay01"
        run_dir(config, run_id).mkdir(parents=True)
        return {"run_id": run_id, "failed_sources": []}

    monkeypatch.setattr(pipeline, "run", fake_run)
    src = tmp_path / "CaseActivity_SIEG_20261101.xml"
    src.write_text("<CaseActivityExport/>")
    result = replay_file(env.config, "meg-sieg", src, publish=False)
    (source,) = seen["sources"]
    assert (source.name, source.kind, source.unit) == ("meg-sieg", "meg", "SIEG")
    assert source.url.startswith("file://" + str(env.config.landing_dir / "replay"))
    record = json.loads(
        (env.config.work_dir / "runs" / result["run_id"] / "replay.json").read_text()
    )
    assert record["original_path"] == str(src) and record["source"] == "meg-sieg"


def test_replay_keeps_the_corrected_runs_as_of_and_says_what_it_replays(env, tmp_path,
                                                                         monkeypatch):
    import datetime as dt

    from deflect import pipeline
    from stewardship.data import open_warehouse, replays
    from stewardship.report import replay_label
    from tests.stewardship import fixtures

    seen = {}

    def fake_run(config, as_of=None, publish=True):
        seen["as_of"] = as_of
        seen["n"] = seen.get("n", 0) + 1
        run_id = f"20261105T000000Z-replay{seen['n']:02d}"
        run_dir(config, run_id).mkdir(parents=True)
        return {"run_id": run_id, "failed_sources": []}

    monkeypatch.setattr(pipeline, "run", fake_run)
    src = tmp_path / "CaseActivity_SIEG_20261101.xml"
    src.write_text("<CaseActivityExport/>")
    # no ledger row for that name: the latest run is the one corrected
    result = replay_file(env.config, "meg-sieg", src, publish=False, entry="q-0003")
    assert seen["as_of"] == dt.date(2026, 11, 2)
    assert result["replay"]["replay_of_run_id"] == fixtures.RUN2
    assert result["replay"]["entry_id"] == "q-0003"
    assert result["replay_label"] == (f"replay of run {fixtures.RUN2} for entry q-0003 "
                                      f"by {result['replay']['replayed_by']}")
    with open_warehouse(env.config) as wh:
        (row,) = replays(wh).to_dict(orient="records")
    assert (row["run_id"], row["replay_of_run_id"]) == (result["run_id"], fixtures.RUN2)
    assert replay_label(row) == result["replay_label"]
    replay_file(env.config, "meg-sieg", src, publish=False, as_of=dt.date(2026, 11, 4))
    assert seen["as_of"] == dt.date(2026, 11, 4)


@pytest.mark.slow
def test_replayed_corrected_meg_file_loads_and_keeps_lineage(tmp_path):
    import datetime as dt

    from deflect import pipeline
    from deflect.configuration import load_config
    from generator.config import GeneratorConfig
    from generator.generate import generate
    from stewardship.data import open_warehouse

    out = tmp_path / "out"
    manifest = generate(
        GeneratorConfig(
            start=dt.date(2026, 8, 1),
            end=dt.date(2026, 8, 10),
            seed=3,
            forms_per_day=5,
            attachment_kb=1,
            defect_rate=0.0,
            pending_at_end=False,
        ),
        out,
    )
    config = load_config(out / "deflect.yaml")
    pipeline.run(config, as_of=dt.date.fromisoformat(manifest["as_of"]))
    originals = sorted((out / "superseded" / "meg").rglob("CaseActivity_*.xml"))
    if not originals:
        pytest.skip("this drop has no corrected re-send to replay")
    replayed = originals[0]
    source = "meg-" + replayed.parent.name.lower()
    result = replay_file(config, source, replayed, publish=False)
    with open_warehouse(config) as wh:
        ledger = wh.read_frame(
            "select * from quality.file_ledger where source = ? and remote_name = ?",
            [source, replayed.name],
        )
    assert len(ledger) >= 2  # the drop's version and the replayed one (or its duplicate)
    assert result["run_id"] in set(ledger["run_id"])


def test_the_dag_replays_only_a_file_under_the_landing_area(env, tmp_path):
    from deflect.replay import start_file_replay

    outside = tmp_path / "elsewhere" / "CaseActivity_SIEG_20261101.xml"
    outside.parent.mkdir()
    outside.write_text("<CaseActivityExport/>")
    with pytest.raises(ReplayError, match="must lie under"):
        start_file_replay(env.config, "meg-sieg", outside, entry="q-0003")
    sneaky = env.config.landing_dir / ".." / "elsewhere" / outside.name
    with pytest.raises(ReplayError, match="must lie under"):
        start_file_replay(env.config, "meg-sieg", sneaky, entry="q-0003")
