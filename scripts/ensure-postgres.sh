#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432. The machine usually starts one; CI must
# not rely on that, so start the packaged cluster when it is down. Tests create their own databases.
set -euo pipefail
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then exit 0; fi
echo "ensure-postgres: starting the local cluster" >&2
ver=$(ls /etc/postgresql | sort -V | tail -n1)
if [ -z "$ver" ]; then
  echo "ensure-postgres: no PostgreSQL cluster configured" >&2; exit 1
fi
pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done
echo "ensure-postgres: PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1
