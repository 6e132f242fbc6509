#!/bin/sh
# Secrets arrive as files (/run/secrets/...); the pipeline reads the person-key secret from the
# variable its configuration names, so export it from the file here and never write it anywhere.
set -eu
if [ -z "${DEFLECT_PERSON_KEY:-}" ] && [ -r /run/secrets/deflect_person_key ]; then
  DEFLECT_PERSON_KEY=$(cat /run/secrets/deflect_person_key)
  export DEFLECT_PERSON_KEY
fi
exec "$@"
