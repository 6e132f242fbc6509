"""Write the demo configuration: the generated drop's sources, read over SFTP from the local
sshd (pinned host key, key file), into an embedded DuckDB warehouse.

    python scripts/demo_config.py DROP_DIR SFTP_STATE_JSON OUT_YAML
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

from deflect.configuration import load_config
from devtools.local_sftp import read_state, sftp_sources


def demo_config(drop: Path, server) -> dict:
    generated = load_config(drop / "deflect.yaml")
    return {
        "warehouse": "duckdb:///warehouse.duckdb",  # relative to this file
        "landing_dir": "landing",
        "work_dir": "work",
        "report_dir": "reports",
        "person_key_secret_env": generated.person_key_secret_env,
        "sources": sftp_sources(drop / "deflect.yaml", server),
    }


def main(argv: list[str]) -> int:
    drop, state, out = Path(argv[0]).resolve(), Path(argv[1]), Path(argv[2])
    data = demo_config(drop, read_state(state))
    out.write_text("# Written by scripts/demo.sh: the generated drop served over SFTP on loopback.\n"
                   + yaml.safe_dump(data, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
