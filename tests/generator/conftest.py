import datetime as dt
import json

import pytest

from generator import GeneratorConfig, generate

SMALL = {"start": dt.date(2026, 8, 1), "end": dt.date(2026, 10, 31), "seed": 7, "forms_per_day": 20,
             "attachment_kb": 2, "large_attachments": 0, "defect_rate": 0.02}


@pytest.fixture(scope="session")
def small_drop(tmp_path_factory):
    """About three months with the default defect rate: the drop and its manifest."""
    out = tmp_path_factory.mktemp("drop")
    manifest = generate(GeneratorConfig(**SMALL), out)
    return out, manifest


def load_manifest(out):
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))
