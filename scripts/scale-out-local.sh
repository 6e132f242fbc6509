#!/usr/bin/env bash
# Scale-out on one machine: the real nightly DAG under a real executor with separate Airflow
# processes (API server, DAG processor, scheduler), PostgreSQL for Airflow's metadata and for the
# warehouse, the drop over SFTP from a loopback sshd. Two modes:
#
#   bash scripts/scale-out-local.sh          # LocalExecutor, parallelism 2
#   bash scripts/scale-out-local.sh celery   # CeleryExecutor: a Redis broker of its own, two
#                                            # Celery workers with their own host names and queues
#
# Everything is loopback-only and bounded in time (SCALE_TIMEOUT); the databases it creates are
# dropped at the end (KEEP=1 keeps them; SCALE_DB_PREFIX names them). Every process it starts runs
# in a process group of its own, which is ended on exit whatever happened (their group ids are
# listed in $SCALE_DIR/pgids, for a caller that must be sure).
#
# No run is triggered by hand: the DAG is unpaused when first parsed and the scheduler starts the
# latest scheduled night (catchup is off), exactly as in production; the reporting DAG follows on
# the staging asset when the load succeeds. The drop is generated with that night as its as-of
# date, so the figures can be compared with the generator's ground truth at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
MODE="${1:-local}"
case "$MODE" in local|celery) ;; *) echo "usage: $0 [local|celery]" >&2; exit 2;; esac
BASE="${SCALE_DIR:-$ROOT/var/scale-out}"
PG="${DEFLECT_PG_SERVER:-postgresql://postgres@127.0.0.1:5432}"
PREFIX="${SCALE_DB_PREFIX:-deflect_scaleout}"
META_DB="${PREFIX}_meta"
WH_DB="${PREFIX}_wh"
TIMEOUT="${SCALE_TIMEOUT:-900}"
export DEFLECT_PERSON_KEY="${DEFLECT_PERSON_KEY:-scale-out-person-key-not-secret}"
export DEFLECT_AIRFLOW_RETRY_DELAY="${DEFLECT_AIRFLOW_RETRY_DELAY:-5}"
if [ "$MODE" = celery ] && ! command -v redis-server >/dev/null; then
  echo "celery mode needs redis-server (Debian package redis-server) on PATH" >&2
  exit 2
fi

rm -rf "$BASE" && mkdir -p "$BASE/logs"
pgids=()
start() {  # start "name" command...: in a process group of its own, output in logs/name.log
  local name=$1; shift
  setsid "$@" >"$BASE/logs/$name.log" 2>&1 &
  pgids+=($!)
  printf '%s %s\n' "$!" "$name" >>"$BASE/pgids"
}
stop_all() {
  local pgid
  for pgid in "${pgids[@]}"; do kill -TERM -- "-$pgid" 2>/dev/null || true; done
  for _ in $(seq 1 30); do  # a Celery worker finishes its warm shutdown in a few seconds
    local alive=0
    for pgid in "${pgids[@]}"; do kill -0 -- "-$pgid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 1
  done
  for pgid in "${pgids[@]}"; do kill -KILL -- "-$pgid" 2>/dev/null || true; done
}
cleanup() {
  stop_all
  uv run --frozen python -m devtools.local_sftp stop --state "$BASE/sftp.json" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $META_DB WITH (FORCE)" \
      -c "DROP DATABASE IF EXISTS $WH_DB WITH (FORCE)" || true
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # so that a killed run still runs cleanup (the EXIT trap)

psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $META_DB WITH (FORCE)" \
  -c "DROP DATABASE IF EXISTS $WH_DB WITH (FORCE)" -c "CREATE DATABASE $META_DB" -c "CREATE DATABASE $WH_DB"

# The night the scheduler will start: the latest 04:30 in Chicago (deflect_nightly's cron).
AS_OF=$(uv run --frozen python -c "
import datetime as dt
from zoneinfo import ZoneInfo
now = dt.datetime.now(ZoneInfo('America/Chicago'))
print((now.date() if (now.hour, now.minute) >= (4, 30) else now.date() - dt.timedelta(days=1)))")

echo "== generating a small drop (as of $AS_OF) and serving it over SFTP"
uv run --frozen python -m generator.cli --out "$BASE/drop" --start 2026-09-01 --end 2026-09-14 \
  --seed 5 --forms-per-day 60 --as-of "$AS_OF" --no-progress
uv run --frozen python -m devtools.local_sftp start "$BASE/drop" --state "$BASE/sftp.json"
# DEFLECT_DATA is what production mounts as the shared volume `deflect-data` (docker/compose.yaml):
# the landing archive, the work area (a batch written by one worker is loaded by another) and the
# reports. Every worker must see it at the same path; here they share a host, so a directory.
export DEFLECT_DATA="$BASE/deflect-data"
uv run --frozen python - "$BASE" "$PG/$WH_DB" "$DEFLECT_DATA" <<'PY'
import sys, yaml
from pathlib import Path
from devtools.local_sftp import read_state, sftp_sources
base, wh, shared = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
server = read_state(base / "sftp.json")
(base / "deflect.yaml").write_text(yaml.safe_dump({
    "warehouse": wh, "landing_dir": str(shared / "landing"), "work_dir": str(shared / "work"),
    "report_dir": str(shared / "reports"), "person_key_secret_env": "DEFLECT_PERSON_KEY",
    "sources": sftp_sources(base / "drop" / "deflect.yaml", server)}, sort_keys=False))
PY
export DEFLECT_CONFIG="$BASE/deflect.yaml"

PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
export AIRFLOW_HOME="$BASE/airflow"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg://${PG#postgresql://}/$META_DB"
# the API server's async engine: psycopg 3 does both (Airflow would otherwise assume asyncpg)
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC="$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
export AIRFLOW__CORE__PARALLELISM=2
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$PORT/execution/"
export AIRFLOW__API__PORT="$PORT" AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API_AUTH__JWT_SECRET
AIRFLOW__API_AUTH__JWT_SECRET=$(python3 -c "import secrets; print(secrets.token_urlsafe(32))")
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True
export AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC=2
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=5
if [ "$MODE" = celery ]; then
  echo "== Airflow: CeleryExecutor, two workers of concurrency 1, Redis broker, PostgreSQL metadata"
  REDIS_PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
  export AIRFLOW__CORE__EXECUTOR=CeleryExecutor
  export AIRFLOW__CELERY__BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
  # task states come back through the metadata database (Celery's database result backend)
  export AIRFLOW__CELERY__RESULT_BACKEND="db+${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN}"
  export AIRFLOW__CELERY__WORKER_CONCURRENCY=1
  # the warehouse writers (begin, load, refresh) on a queue of their own (dags/deflect_common.py)
  export DEFLECT_WAREHOUSE_QUEUE=warehouse
else
  echo "== Airflow: LocalExecutor, parallelism 2, PostgreSQL metadata"
  export AIRFLOW__CORE__EXECUTOR=LocalExecutor
fi
. scripts/airflow-env.sh

deadline=$((SECONDS + TIMEOUT))
wait_until() {  # wait_until "what" command...: poll until the command succeeds or time is up
  local what=$1; shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { echo "$what: not after ${TIMEOUT}s (logs: $BASE/logs)" >&2; exit 1; }
    sleep 2
  done
}
# The API server first: task processes report to it, so it must answer before anything runs.
start api-server uv run --frozen airflow api-server --port "$PORT" --host 127.0.0.1
wait_until "the API server answering" python3 -c \
  "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
  "http://127.0.0.1:$PORT/api/v2/version"
if [ "$MODE" = celery ]; then
  start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no
  wait_until "Redis answering" redis-cli -p "$REDIS_PORT" ping
  # Two workers, as two hosts would run them: both take the default queue (the mapped plan and
  # process tasks spread over them), worker-a also the warehouse queue. No log server: the API
  # server reads the task logs from the same folder (separate hosts serve them, operations.md).
  for w in a b; do
    queues=default; [ $w = a ] && queues=default,warehouse
    # each records its own host name on the task instances it runs (devtools/worker_hostname.py)
    start "worker-$w" env DEFLECT_WORKER_HOSTNAME="deflect-worker-$w" \
      AIRFLOW__CORE__HOSTNAME_CALLABLE=devtools.worker_hostname.hostname \
      uv run --frozen airflow celery worker --queues "$queues" --concurrency 1 \
      --celery-hostname "deflect-worker-$w@%h" --pid "$BASE/worker-$w.pid" --skip-serve-logs
  done
  for w in a b; do wait_until "Celery worker $w ready" grep -q " ready" "$BASE/logs/worker-$w.log"; done
fi
start dag-processor uv run --frozen airflow dag-processor
start scheduler uv run --frozen airflow scheduler

wait_until "the DAG parsed" airflow_cmd dags details deflect_nightly
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
echo "== task instances by host and queue"
psql -q "$PG/$META_DB" -At -F ' ' -c "
  select '  ' || dag_id, hostname, queue, task_id, count(*) from task_instance
  where state = 'success' group by 1, 2, 3, 4 order by 1, 2, 3, 4"
if [ "$(state_of deflect_reporting)" = success ]; then
  echo "== the figures"
  uv run --frozen python scripts/demo_result.py "$DEFLECT_CONFIG" "$BASE/drop/manifest.json" || true
fi
[ "$(state_of deflect_nightly)" = success ] && [ "$(state_of deflect_reporting)" = success ]
