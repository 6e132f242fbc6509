"""Great Expectations is imported the way `deflect run` imports it: `scipy.stats`, which GX
imports for expectations the suites never use, stays unloaded until something uses it. Each
check runs in a fresh interpreter: another test may have loaded scipy.stats in this one."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from bench.runner import REPO


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_gx_imports_without_loading_scipy_stats_which_still_works_when_used():
    out = _python("""
        import sys
        from stewardship.expectations import warm_up
        warm_up()
        import great_expectations.expectations as gxe  # the suites' expectation classes
        print("loaded" if "scipy.stats._stats_py" in sys.modules else "deferred")
        from scipy import stats
        print(stats.entropy([0.5, 0.5], [0.5, 0.5]))
        print("loaded" if "scipy.stats._stats_py" in sys.modules else "deferred")
    """)
    assert out.splitlines() == ["deferred", "0.0", "loaded"]


def test_a_scipy_stats_loaded_before_is_left_as_it_is():
    out = _python("""
        import sys
        import scipy.stats
        first = sys.modules["scipy.stats"]
        from stewardship.expectations import warm_up
        warm_up()
        print(sys.modules["scipy.stats"] is first, type(first).__name__)
    """)
    assert out == "True module"
