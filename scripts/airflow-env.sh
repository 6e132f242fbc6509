# Source this file: an Airflow home for this checkout, its metadata database migrated.
#
#   . scripts/airflow-env.sh            # SQLite metadata under ./var/airflow (embedded, one process)
#   AIRFLOW_HOME=/tmp/af . scripts/airflow-env.sh
#   AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgresql+psycopg://... . scripts/airflow-env.sh
#
# Everything is set through AIRFLOW__* variables (no airflow.cfg edits), each only when not
# already set, so a caller can override any of it. `airflow db migrate` is idempotent.
_deflect_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$_deflect_root/var/airflow}"
mkdir -p "$AIRFLOW_HOME"
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$_deflect_root/dags}"
# plugins/ holds the steward workbench (the `workbench` package, mounted in the API server)
export AIRFLOW__CORE__PLUGINS_FOLDER="${AIRFLOW__CORE__PLUGINS_FOLDER:-$_deflect_root/plugins}"
export AIRFLOW__CORE__LOAD_EXAMPLES="${AIRFLOW__CORE__LOAD_EXAMPLES:-False}"
export AIRFLOW__CORE__EXECUTOR="${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-sqlite:///$AIRFLOW_HOME/airflow.db}"
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="${AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION:-False}"
export AIRFLOW__CORE__DEFAULT_TIMEZONE="${AIRFLOW__CORE__DEFAULT_TIMEZONE:-America/Chicago}"
export AIRFLOW__LOGGING__BASE_LOG_FOLDER="${AIRFLOW__LOGGING__BASE_LOG_FOLDER:-$AIRFLOW_HOME/logs}"
# No statistics sent anywhere, no plugin or provider scanning beyond what is installed.
export SCARF_ANALYTICS=false
export AIRFLOW__USAGE_DATA_COLLECTION__ENABLED=False
# The project (deflect, ingestion, ...) is importable from the venv; the DAGs import their
# shared module from the DAG folder, which Airflow puts on sys.path.
export PYTHONPATH="$_deflect_root${PYTHONPATH:+:$PYTHONPATH}"

airflow_cmd() { (cd "$_deflect_root" && uv run --frozen airflow "$@"); }

if ! airflow_cmd db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1; then
  echo "airflow-env: 'airflow db migrate' failed; see $AIRFLOW_HOME/db-migrate.log" >&2
  tail -n 20 "$AIRFLOW_HOME/db-migrate.log" >&2
  return 1 2>/dev/null || exit 1
fi
