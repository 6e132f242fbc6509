#!/usr/bin/env bash
# The main job on one machine (`make demo`): generate a month of TraCS and MEG exports, serve them
# from a real OpenSSH sshd on loopback, run the real Airflow DAGs (`airflow dags test`, embedded
# SQLite metadata) into the embedded DuckDB warehouse, then print the III.E.3 counts, the
# follow-up figures and where the validation report is, and publish the last full quarter (a
# vintage of the published tables) and say where its package is.
#
# A second run reuses the generated drop and the warehouse: every file is already in the ledger,
# so no data changes (only new reporting.load_run rows). `DEMO_FRESH=1` starts over.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DEMO="${DEMO_DIR:-$ROOT/var/demo}"
DROP="$DEMO/drop"
START="${DEMO_START:-2026-10-01}"
END="${DEMO_END:-2026-10-31}"
SEED="${DEMO_SEED:-20261001}"

say() { printf '\n== %s\n' "$*"; }

if [ -z "${DEFLECT_PERSON_KEY:-}" ]; then
  export DEFLECT_PERSON_KEY="demo-person-key-not-secret"
  echo "demo: DEFLECT_PERSON_KEY is not set; using a fixed demo value (never do this in production)"
fi
# A failing task retries after seconds, not minutes, so a problem shows quickly.
export DEFLECT_AIRFLOW_RETRY_DELAY="${DEFLECT_AIRFLOW_RETRY_DELAY:-5}"

[ "${DEMO_FRESH:-0}" = 1 ] && rm -rf "$DEMO"
mkdir -p "$DEMO/logs"

if [ ! -f "$DROP/manifest.json" ]; then
  say "generating exports $START .. $END (seed $SEED)"
  rm -rf "$DROP.tmp"
  uv run --frozen python -m generator.cli --out "$DROP.tmp" --start "$START" --end "$END" \
    --seed "$SEED" --no-progress
  mv "$DROP.tmp" "$DROP"
else
  say "reusing the generated drop in $DROP"
fi

say "starting sshd on loopback (read-only SFTP over $DROP)"
STATE="$DEMO/sftp.json"
uv run --frozen python -m devtools.local_sftp start "$DROP" --state "$STATE" --keys-dir "$DEMO/sftp-keys"
trap 'uv run --frozen python -m devtools.local_sftp stop --state "$STATE" || true' EXIT
uv run --frozen python scripts/demo_config.py "$DROP" "$STATE" "$DEMO/deflect.yaml"
export DEFLECT_CONFIG="$DEMO/deflect.yaml"
AS_OF=$(uv run --frozen python -c "import json,sys; print(json.load(open(sys.argv[1]))['as_of'])" "$DROP/manifest.json")

say "preparing Airflow (metadata: SQLite under ${AIRFLOW_HOME:-var/airflow})"
# shellcheck source=scripts/airflow-env.sh
. scripts/airflow-env.sh

run_dag() {  # run_dag DAG_ID CONF LOG
  local started=$SECONDS rc=0
  airflow_cmd dags test "$1" --conf "$2" >"$3" 2>&1 || rc=$?
  local state
  state=$(grep -o "state=[a-z_]*, run_type" "$3" | tail -n1 | cut -d= -f2 | cut -d, -f1)
  echo "$1: ${state:-unknown} in $((SECONDS - started)) s (log: ${3#"$ROOT"/})"
  if [ "$rc" != 0 ] || [ "$state" != success ]; then
    grep -E "ERROR|Error:|Exception:" "$3" | grep -v graphviz | tail -n 8 >&2 || true
    return 1
  fi
}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
say "running the nightly DAG (as of $AS_OF)"
run_dag deflect_nightly "{\"as_of\": \"$AS_OF\"}" "$DEMO/logs/nightly-$stamp.log"
say "running the reporting DAG (what the staging asset triggers in production)"
run_dag deflect_reporting "{}" "$DEMO/logs/reporting-$stamp.log"

say "result"
uv run --frozen python scripts/demo_result.py "$DEMO/deflect.yaml" "$DROP/manifest.json"

# publication.md §3: the last quarter closed on the as-of date, frozen as a vintage, and where its
# package is (reporting.publication lists every vintage)
QUARTER=$(uv run --frozen python -c "import datetime as d, sys; a = d.date.fromisoformat(sys.argv[1]); q = (a.month - 1) // 3; print(f'{a.year - 1}-Q4' if q == 0 else f'{a.year}-Q{q}')" "$AS_OF")
say "publishing $QUARTER, the last full quarter as of $AS_OF"
uv run --frozen deflect publish --config "$DEMO/deflect.yaml" --quarter "$QUARTER" --as-of "$AS_OF"

say "steward workbench (Airflow UI)"
WORKBENCH=(uv run --frozen python -m devtools.workbench_server --home "$DEMO/workbench-airflow"
  --config "$DEMO/deflect.yaml" --port "${DEMO_WORKBENCH_PORT:-8080}"
  --user steward:user:steward --user reader:viewer:reader)
if [ "${DEMO_WORKBENCH:-0}" = 1 ]; then
  "${WORKBENCH[@]}"  # Airflow with the workbench until Ctrl-C
else
  echo "DEMO_WORKBENCH=1 make demo serves it until Ctrl-C; or, from $ROOT with DEFLECT_PERSON_KEY"
  echo "set as above: ${WORKBENCH[*]}"
fi
