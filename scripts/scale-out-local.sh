#!/usr/bin/env bash
# Scale-out on one machine: the real nightly DAG under Airflow's LocalExecutor with parallelism 2
# (scheduler + DAG processor + API server as separate processes, task instances in parallel
# worker processes), PostgreSQL for Airflow's metadata and for the warehouse, the drop over SFTP
# from a loopback sshd. Everything is loopback-only and bounded in time; the databases it creates
# are dropped at the end (KEEP=1 keeps them).
#
#   bash scripts/scale-out-local.sh        # prints the runs' states and the task overlap
#
# No run is triggered by hand: the DAG is unpaused when first parsed and the scheduler starts the
# latest scheduled night (catchup is off), exactly as in production; the reporting DAG follows on
# the staging asset when the load succeeds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BASE="${SCALE_DIR:-$ROOT/var/scale-out}"
PG="${DEFLECT_PG_SERVER:-postgresql://postgres@127.0.0.1:5432}"
META_DB="deflect_scaleout_meta"
WH_DB="deflect_scaleout_wh"
TIMEOUT="${SCALE_TIMEOUT:-900}"
export DEFLECT_PERSON_KEY="${DEFLECT_PERSON_KEY:-scale-out-person-key-not-secret}"
export DEFLECT_AIRFLOW_RETRY_DELAY="${DEFLECT_AIRFLOW_RETRY_DELAY:-5}"

rm -rf "$BASE" && mkdir -p "$BASE/logs"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  uv run --frozen python -m devtools.local_sftp stop --state "$BASE/sftp.json" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $META_DB WITH (FORCE)" \
      -c "DROP DATABASE IF EXISTS $WH_DB WITH (FORCE)" || true
  fi
}
trap cleanup EXIT

psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $META_DB WITH (FORCE)" \
  -c "DROP DATABASE IF EXISTS $WH_DB WITH (FORCE)" -c "CREATE DATABASE $META_DB" -c "CREATE DATABASE $WH_DB"

echo "== generating a small drop and serving it over SFTP"
uv run --frozen python -m generator.cli --out "$BASE/drop" --start 2026-09-01 --end 2026-09-14 \
  --seed 5 --forms-per-day 60 --no-progress
uv run --frozen python -m devtools.local_sftp start "$BASE/drop" --state "$BASE/sftp.json"
uv run --frozen python - "$BASE" "$PG/$WH_DB" <<'PY'
import sys, yaml
from pathlib import Path
from devtools.local_sftp import read_state, sftp_sources
base, wh = Path(sys.argv[1]), sys.argv[2]
server = read_state(base / "sftp.json")
(base / "deflect.yaml").write_text(yaml.safe_dump({
    "warehouse": wh, "landing_dir": "landing", "work_dir": "work", "report_dir": "reports",
    "person_key_secret_env": "DEFLECT_PERSON_KEY",
    "sources": sftp_sources(base / "drop" / "deflect.yaml", server)}, sort_keys=False))
PY
export DEFLECT_CONFIG="$BASE/deflect.yaml"

echo "== Airflow: LocalExecutor, parallelism 2, PostgreSQL metadata"
PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
export AIRFLOW_HOME="$BASE/airflow"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg://${PG#postgresql://}/$META_DB"
# the API server's async engine: psycopg 3 does both (Airflow would otherwise assume asyncpg)
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC="$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__PARALLELISM=2
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$PORT/execution/"
export AIRFLOW__API__PORT="$PORT" AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API_AUTH__JWT_SECRET
AIRFLOW__API_AUTH__JWT_SECRET=$(python3 -c "import secrets; print(secrets.token_urlsafe(32))")
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True
export AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC=2
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=5
. scripts/airflow-env.sh

deadline=$((SECONDS + TIMEOUT))
# The API server first: task processes report to it, so it must answer before anything runs.
uv run --frozen airflow api-server --port "$PORT" --host 127.0.0.1 >"$BASE/logs/api-server.log" 2>&1 &
pids+=($!)
until python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
    "http://127.0.0.1:$PORT/api/v2/version" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || { echo "the API server did not start: $BASE/logs/api-server.log" >&2; exit 1; }
  sleep 2
done
for component in dag-processor scheduler; do
  uv run --frozen airflow "$component" >"$BASE/logs/$component.log" 2>&1 &
  pids+=($!)
done

until airflow_cmd dags details deflect_nightly >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || { echo "the DAG was never parsed" >&2; exit 1; }
  sleep 3
done
started=$SECONDS

state_of() {  # the newest run's state of a DAG (empty when it has none), from the metadata DB
  psql -q "$PG/$META_DB" -At -c \
    "select state from dag_run where dag_id = '$1' order by id desc limit 1" 2>/dev/null || true
}
wait_for() {
  local s=""
  while [ $SECONDS -lt $deadline ]; do
    s=$(state_of "$1")
    case "$s" in success|failed) echo "$1: $s after $((SECONDS - started)) s"; return 0;; esac
    sleep 5
  done
  echo "$1: still '${s:-not started}' after ${TIMEOUT}s" >&2; return 1
}
wait_for deflect_nightly
if [ "$(state_of deflect_nightly)" = success ]; then
  wait_for deflect_reporting
else
  echo "the nightly run failed: see $BASE/logs/scheduler.log and $AIRFLOW_HOME/logs" >&2
fi

echo "== task instances that ran at the same time (from the metadata database)"
psql -q "$PG/$META_DB" -At -F ' ' -c "
  select a.task_id || '[' || a.map_index || ']', b.task_id || '[' || b.map_index || ']', a.pid, b.pid
  from task_instance a join task_instance b
    on a.dag_id = b.dag_id and a.run_id = b.run_id and a.id < b.id
   and a.start_date < b.end_date and b.start_date < a.end_date
  where a.dag_id = 'deflect_nightly' limit 5" | sed 's/^/  overlap: /'
psql -q "$PG/$META_DB" -At -c "
  select 'max task instances running at once: ' || max(n) from (
    select (select count(*) from task_instance b where b.dag_id = a.dag_id and b.run_id = a.run_id
            and b.start_date <= a.start_date and a.start_date < b.end_date) as n
    from task_instance a where a.dag_id = 'deflect_nightly' and a.start_date is not null) t"
psql -q "$PG/$META_DB" -At -c "
  select 'distinct worker processes: ' || count(distinct pid) from task_instance
  where dag_id = 'deflect_nightly'"
[ "$(state_of deflect_nightly)" = success ]
