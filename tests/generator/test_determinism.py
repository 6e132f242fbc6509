import datetime as dt
import os

import pytest

from generator import GeneratorConfig, GeneratorError, generate
from generator.cli import main

WEEK = {"start": dt.date(2026, 3, 2), "end": dt.date(2026, 3, 9), "forms_per_day": 15,
            "attachment_kb": 1, "large_attachments": 1, "warmup_days": 20}


def snapshot(root):
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_and_manifest(tmp_path):
    a = generate(GeneratorConfig(seed=3, **WEEK), tmp_path / "a")
    b = generate(GeneratorConfig(seed=3, **WEEK), tmp_path / "b")
    assert a == b
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    generate(GeneratorConfig(seed=4, **WEEK), tmp_path / "c")
    assert snapshot(tmp_path / "c") != snapshot(tmp_path / "a")


def test_large_attachment_is_nearly_16_mb(tmp_path):
    generate(GeneratorConfig(seed=3, **WEEK), tmp_path)
    biggest = max(p.stat().st_size for p in (tmp_path / "tracs").rglob("*.xml*"))
    assert 15 * 1024 * 1024 * 4 / 3 < biggest  # Base64 of ~16 MB


def test_clean_run_has_no_defects(tmp_path):
    m = generate(GeneratorConfig(seed=3, defect_rate=0.0, **WEEK), tmp_path)
    assert m["defects"] == [] and all(not f["codes"] for f in m["files"])


def test_cli_needs_the_secret_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DEFLECT_PERSON_KEY")
    rc = main(["--out", str(tmp_path / "x"), "--start", "2026-03-02", "--end", "2026-03-03",
               "--no-progress"])
    assert rc == 2 and "DEFLECT_PERSON_KEY" in capsys.readouterr().err


def test_cli_writes_a_drop(tmp_path, capsys):
    rc = main(["--out", str(tmp_path / "x"), "--start", "2026-03-02", "--end", "2026-03-04",
               "--forms-per-day", "10", "--attachment-kb", "1", "--seed", "5", "--no-progress",
               "--as-of", "2026-04-01"])
    assert rc == 0 and (tmp_path / "x" / "manifest.json").exists()
    assert "FieldReports" in capsys.readouterr().out


def test_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(GeneratorError):
        generate(GeneratorConfig(**WEEK), tmp_path)


def test_same_bytes_whatever_the_hash_seed(tmp_path):
    """No output may depend on set or dict order of strings (PYTHONHASHSEED differs per process)."""
    import subprocess
    import sys

    for h in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=h)
        subprocess.run([sys.executable, "-m", "generator.cli", "--out", str(tmp_path / h),
                        "--start", "2026-08-01", "--end", "2026-08-04", "--forms-per-day", "15",
                        "--attachment-kb", "1", "--no-progress"], env=env, check=True,
                       capture_output=True)
    assert snapshot(tmp_path / "1") == snapshot(tmp_path / "2")
