#!/usr/bin/env bash
# Creates the secrets the compose file mounts (once; existing files are kept) under
# ../var/docker-secrets, which git ignores. Production replaces these with its secret store.
set -euo pipefail
cd "$(dirname "$0")/.."
S=var/docker-secrets
mkdir -p "$S" && chmod 700 "$S"
rand() { python3 -c "import secrets; print(secrets.token_urlsafe(32))"; }
[ -f "$S/airflow_db_password" ] || rand >"$S/airflow_db_password"
[ -f "$S/deflect_db_password" ] || rand >"$S/deflect_db_password"
[ -f "$S/deflect_person_key" ] || rand >"$S/deflect_person_key"
[ -f "$S/jwt_secret" ] || rand >"$S/jwt_secret"
[ -f "$S/fernet_key" ] || python3 -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())" >"$S/fernet_key"
[ -f "$S/sftp_host_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -C sftp-staging -f "$S/sftp_host_ed25519"
[ -f "$S/deflect_sftp_key" ] || ssh-keygen -q -t ed25519 -N "" -C deflect-pipeline -f "$S/deflect_sftp_key"
cp "$S/deflect_sftp_key.pub" "$S/deflect_sftp_authorized_keys"
pw=$(cat "$S/airflow_db_password"); dpw=$(cat "$S/deflect_db_password")
echo "postgresql+psycopg://airflow:$pw@postgres:5432/airflow" >"$S/airflow_db_url"
echo "db+postgresql+psycopg://airflow:$pw@postgres:5432/airflow" >"$S/celery_result_backend"
echo "postgres:5432:deflect:deflect:$dpw" >"$S/deflect_pgpass"
chmod 600 "$S"/*
echo "secrets in $S"
