"""Memory stays flat as the number of forms grows (constant-memory streaming)."""
import json
import os
import subprocess
import sys

import pytest

SCRIPT = """
import datetime as dt, json, sys
from pathlib import Path
from generator import GeneratorConfig, generate
def vm_hwm_kb():
    # The process's own peak (VmHWM). Not ru_maxrss: after the parent's vfork and exec, Linux
    # carries the parent's peak into the child's ru_maxrss, so it would measure pytest.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
days, per_day, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
start = dt.date(2026, 1, 1)
generate(GeneratorConfig(start=start, end=start + dt.timedelta(days=days - 1), forms_per_day=per_day,
                         attachment_kb=8, large_attachments=1, seed=11), out)
print(json.dumps({"maxrss_kb": vm_hwm_kb()}))
"""


def peak_kb(tmp_path, name, days, per_day):
    env = dict(os.environ, DEFLECT_PERSON_KEY="scale-test")
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(days), str(per_day), str(tmp_path / name)],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])["maxrss_kb"]


@pytest.mark.slow
def test_peak_memory_is_bounded(tmp_path):
    small = peak_kb(tmp_path, "small", 20, 250)    # 5,000 forms
    large = peak_kb(tmp_path, "large", 80, 250)    # 20,000 forms
    assert large < 400 * 1024, large
    assert large < small * 1.5 + 40 * 1024, (small, large)
