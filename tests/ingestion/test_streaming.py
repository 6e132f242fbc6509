"""Memory does not grow with file size: the same peak for 4,000 forms as for 40,000, with a
16 MB attachment among them. Measured in a fresh interpreter (peak RSS of that process)."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ingestion.helpers import TRACS_NAME, tracs_doc

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def write_big_tracs(path: Path, forms: int, big_attachment: bool) -> None:
    doc = tracs_doc()
    head = doc[: doc.index("<Contact ")]
    start = doc.index('<Contact contactId="C-26-00012345">')
    contact = doc[start: doc.index("</Contact>", start) + len("</Contact>")]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(head)
        for i in range(forms):
            c = contact.replace("FR-26-0001234", f"FR-26-{i:07d}")
            if big_attachment and i == forms // 2:
                c = c.replace("JVBERi0xLjcKJeLjz9MK",
                              base64.encodebytes(os.urandom(12 * 1024 * 1024)).decode())
            fh.write(c)
        fh.write("</TraCSExport>\n")


MEASURE = r"""
import json, sys, time
from pathlib import Path
from deflect.core.config import SourceConfig
from ingestion.adapter import FileContext
from ingestion.document import DocumentProcessor
from adapters.tracs import TracsAdapter

def vm_hwm_kb():
    # The process's own peak (VmHWM). Not ru_maxrss: after the parent's vfork and exec, Linux
    # carries the parent's peak into the child's ru_maxrss, so it would measure pytest.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

class Sink:
    rows = 0
    def row(self, table, row): self.rows += 1
    def quarantine_record(self, *a): raise AssertionError("unexpected quarantine")

path = Path(sys.argv[1])
src = SourceConfig(name="t", kind="tracs", url="file:///x")
ctx = FileContext(src, sys.argv[2], "0" * 64, {}, b"k")
t = time.perf_counter()
res = DocumentProcessor(path, TracsAdapter(), ctx, Sink(), 1 << 32).run()
elapsed = time.perf_counter() - t
assert not res.file_findings, res.file_findings
print(json.dumps({"forms": res.records_loaded, "seconds": elapsed,
                  "peak_kb": vm_hwm_kb()}))
"""


def _measure(path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", MEASURE, str(path), TRACS_NAME], env=env,
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_memory_does_not_grow_with_file_size(tmp_path):
    small, large = tmp_path / "small.xml", tmp_path / "large.xml"
    write_big_tracs(small, 4_000, big_attachment=True)
    write_big_tracs(large, 40_000, big_attachment=True)
    a, b = _measure(small), _measure(large)
    assert a["forms"] == 4_000 and b["forms"] == 40_000
    size_growth_mb = (large.stat().st_size - small.stat().st_size) / 1e6
    rss_growth_mb = (b["peak_kb"] - a["peak_kb"]) / 1024
    print(f"\n4k forms: {a}; 40k forms: {b}; file grew {size_growth_mb:.0f} MB, "
          f"peak RSS grew {rss_growth_mb:.1f} MB")
    assert rss_growth_mb < 0.1 * size_growth_mb
