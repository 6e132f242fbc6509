"""What machine the figures were measured on: they mean little without it."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _openssh() -> str | None:
    if shutil.which("ssh") is None:
        return None
    done = subprocess.run(["ssh", "-V"], capture_output=True, text=True, check=False)
    return (done.stderr or done.stdout).strip() or None


def _postgres(url: str | None) -> str | None:
    if not url:
        return None
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=5) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception:  # noqa: BLE001 - a description, never a reason to fail the bench
        return None


def describe(pg_url: str | None = None) -> dict:
    import duckdb
    import lxml
    import pandas
    import paramiko
    import xmlschema
    from lxml import etree

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": _ram_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "lxml": lxml.__version__,
        "libxml2": ".".join(map(str, etree.LIBXML_VERSION)),
        "xmlschema": xmlschema.__version__,
        "pandas": pandas.__version__,
        "paramiko": paramiko.__version__,
        "duckdb": duckdb.__version__,
        "postgresql": _postgres(pg_url),
        "openssh": _openssh(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "executable": sys.executable,
    }
