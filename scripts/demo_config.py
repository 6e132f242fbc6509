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


def demo_contacts(sources: list[dict]) -> dict:
    """A fictional contact for every unit the demo reads (reserved `.example` addresses and
    555-01xx numbers): what a real contacts file holds, for the report's "whom to ask"."""
    units = sorted({str(s["unit"]).upper() for s in sources if s.get("unit")})
    contacts = {"ISP": {"name": "TraCS export operator (demo)", "role": "State Police TraCS",
                        "email": "tracs-export@isp.example", "phone": "+1 217 555 0100"}}
    for n, unit in enumerate(units, start=1):
        contacts[unit] = {"name": f"{unit} records desk (demo)", "role": "records clerk",
                          "email": f"records@{unit.lower()}.example",
                          "phone": f"+1 217 555 {100 + n:04d}"}
    return {"units": contacts}


def demo_config(drop: Path, server) -> dict:
    generated = load_config(drop / "deflect.yaml")
    return {
        "warehouse": "duckdb:///warehouse.duckdb",  # relative to this file
        "landing_dir": "landing",
        "work_dir": "work",
        "report_dir": "reports",
        "contacts_file": "contacts.yaml",  # written beside this file by main()
        "person_key_secret_env": generated.person_key_secret_env,
        "sources": sftp_sources(drop / "deflect.yaml", server),
    }


def main(argv: list[str]) -> int:
    drop, state, out = Path(argv[0]).resolve(), Path(argv[1]), Path(argv[2])
    data = demo_config(drop, read_state(state))
    (out.parent / "contacts.yaml").write_text(
        "# Written by scripts/demo.sh: fictional contacts of the demo's units.\n"
        + yaml.safe_dump(demo_contacts(data["sources"]), sort_keys=False))
    out.write_text("# Written by scripts/demo.sh: the generated drop served over SFTP on loopback.\n"
                   + yaml.safe_dump(data, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
