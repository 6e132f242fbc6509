#!/bin/sh
# One-shot job of the compose file: generate a month of exports into the SFTP volume (once) and
# write the staging configuration the Airflow components read: every source over SFTP through
# the Airflow connection `deflect_drop` (server, login, private key and pinned host key come
# from the connection, AIRFLOW_CONN_DEFLECT_DROP, a secret), the warehouse in the compose
# PostgreSQL. The configuration holds no key and no password.
set -eu
DROP=/srv/drop
CONF=/etc/deflect/deflect.yaml
if [ ! -f "$DROP/manifest.json" ]; then
  python -m generator.cli --out "$DROP/.generating" --start "${SEED_START:-2026-10-01}" \
    --end "${SEED_END:-2026-10-31}" --seed "${SEED:-1}" --no-progress
  # the server chroots to /srv: paths below are /drop/... as the client sees them
  mv "$DROP/.generating"/* "$DROP/" && rmdir "$DROP/.generating"
  # the drop is served read-only to the SFTP account (uid 50000)
  chmod -R a+rX "$DROP"
fi
python - "$DROP" "$CONF" <<'PY'
import sys, yaml
from pathlib import Path
from deflect.core.config import load_config

drop, out = Path(sys.argv[1]), Path(sys.argv[2])
sources = []
for s in load_config(drop / "deflect.yaml").sources:
    entry = {"name": s.name, "kind": s.kind}
    if s.unit:
        entry["unit"] = s.unit
    remote = "/drop/" + str(Path(s.path).relative_to(drop))
    entry |= {"url": f"sftp://{remote}", "conn_id": "deflect_drop"}
    sources.append(entry)
out.write_text(yaml.safe_dump({
    "warehouse": "postgresql://deflect@postgres:5432/deflect",
    "landing_dir": "/var/lib/deflect/landing",
    "work_dir": "/var/lib/deflect/work",
    "report_dir": "/var/lib/deflect/reports",
    "person_key_secret_env": "DEFLECT_PERSON_KEY",
    "sources": sources,
}, sort_keys=False))
print(f"seed-staging: {len(sources)} sources written to {out}")
PY
