#!/bin/sh
# Secrets arrive as files (/run/secrets/...). Two kinds become environment variables here, read
# from their files and never written anywhere:
# - the person-key secret: the pipeline reads it from the variable its configuration names;
# - Airflow connections: a secret named airflow_conn_<id> becomes AIRFLOW_CONN_<ID>, which
#   Airflow's environment secrets backend (and `deflect run`) read. Airflow has no *_CMD form
#   for connections.
set -eu
if [ -z "${DEFLECT_PERSON_KEY:-}" ] && [ -r /run/secrets/deflect_person_key ]; then
  DEFLECT_PERSON_KEY=$(cat /run/secrets/deflect_person_key)
  export DEFLECT_PERSON_KEY
fi
for f in /run/secrets/airflow_conn_*; do
  [ -r "$f" ] || continue
  var=AIRFLOW_CONN_$(basename "$f" | cut -c14- | tr '[:lower:]' '[:upper:]')
  if [ -z "$(printenv "$var" || true)" ]; then
    export "$var=$(cat "$f")"
  fi
done
exec "$@"
