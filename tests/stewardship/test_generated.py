"""Against the synthetic generator's output: masking over every generated file, and a whole generated run's report, Data Docs and findings CSV.

No name or birth date of people.json may appear in anything a steward is shown.
"""

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

from adapters.registry import field_classes
from generator.config import GeneratorConfig
from generator.generate import generate
from stewardship.excerpts import NotText, _open_text
from stewardship.masking import mask_xml


def _decode(path: Path) -> str | None:
    """The whole raw file as the excerpts read it (None when it is not text)."""
    try:
        stream, _ = _open_text(path)
    except NotText:
        return None
    with stream:
        return stream.read()


def _drop(out: Path, **kw) -> dict:
    cfg = GeneratorConfig(
        start=dt.date(2026, 8, 1),
        end=dt.date(2026, 8, 14),
        seed=7,
        forms_per_day=8,
        attachment_kb=1,
        defect_rate=0.3,
        **kw,
    )
    return generate(cfg, out)


def personal_pattern(out: Path) -> re.Pattern:
    """Every generated name and birth date as a whole word (short initials excepted)."""
    values = set()
    for p in json.loads((out / "people.json").read_text(encoding="utf-8")):
        values |= {
            v for k in ("last", "first", "middle", "birth_date") if (v := p.get(k)) and len(v) > 1
        }
    alternatives = "|".join(sorted(map(re.escape, values), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])({alternatives})(?![\w-])")


@pytest.fixture(scope="module")
def drop(tmp_path_factory):
    out = tmp_path_factory.mktemp("drop") / "out"
    manifest = _drop(out)
    return out, manifest


def test_masking_leaves_no_generated_name_or_birth_date_in_any_generated_file(drop):
    out, _ = drop
    pattern = personal_pattern(out)
    files = [p for p in out.rglob("*") if p.name.endswith((".xml", ".xml.gz"))]
    texts = [t for t in (_decode(p) for p in files) if t is not None]
    assert len(texts) > 50
    assert sum(1 for t in texts if pattern.search(t)) > 10  # the raw files do hold them
    fields = field_classes()  # values of fields that are not personal are shown
    leaks = [m.group(0) for t in texts for m in [pattern.search(mask_xml(t, fields))] if m]
    assert leaks == []


@pytest.mark.slow
def test_generated_run_report_lists_every_defect_code_and_no_personal_data(tmp_path):
    from deflect import pipeline
    from deflect.configuration import load_config
    from stewardship.quarantine import export_findings_csv

    out = tmp_path / "out"
    manifest = _drop(out, pending_at_end=False)
    config = load_config(out / "deflect.yaml")
    result = pipeline.run(config, as_of=dt.date.fromisoformat(manifest["as_of"]))
    html = Path(result["report"]).read_text(encoding="utf-8")
    codes = html.split('id="codes-table"')[1].split("</table>")[0]
    flags = html.split('id="flags-table"')[1].split("</table>")[0]
    for code in sorted({d["code"] for d in manifest["defects"]}):
        assert f">{code}</span>" in (flags if code.startswith("W") else codes), code
    csv_path = tmp_path / "findings.csv"
    export_findings_csv(config, result["run_id"], csv_path)
    pattern = personal_pattern(out)
    shown = [csv_path] + [
        p
        for p in config.report_dir.rglob("*")
        if p.is_file() and p.suffix in (".html", ".json", ".csv")
    ]
    for path in shown:
        hit = pattern.search(path.read_text(encoding="utf-8", errors="replace"))
        assert hit is None, (path, hit and hit.group(0))
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copyfile(result["report"], artifacts / "generated-run-report.html")
