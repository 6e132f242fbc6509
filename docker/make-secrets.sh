#!/usr/bin/env bash
# Creates the secrets the compose file mounts (once; existing files are kept) under
# ../var/docker-secrets, which git ignores. Production replaces these with its secret store.
#
# Values are written without a trailing newline: Airflow's `*_CMD: cat ...` settings and
# PostgreSQL's *_FILE variables take a file's bytes as they are ("airflow\n" is another name).
#
# Compose mounts file secrets with the host file's owner and mode, so each file is owned by the
# account that reads it inside its container, mode 0400:
#   uid 999    deflect_db_password (read by PostgreSQL's init script, run as `postgres`, uid 999
#              in the official image and in the local stand-in)
#   uid 50000  everything else: the Airflow components and the SFTP account (uid 50000; sshd reads
#              authorized keys as the user logging in). airflow_db_password and the host key are
#              read by root (PostgreSQL's entrypoint before it drops privileges; sshd), which
#              reads any owner's file.
# Run as root to set the owners; otherwise the files stay yours and the script says what to run.
set -euo pipefail
cd "$(dirname "$0")/.."
S=${DEFLECT_SECRETS_DIR:-var/docker-secrets}
mkdir -p "$S" && chmod 700 "$S"
put() { [ -f "$S/$1" ] || printf '%s' "$2" >"$S/$1"; }  # no trailing newline
rand() { python3 -c "import secrets; print(secrets.token_urlsafe(32), end='')"; }
put airflow_db_password "$(rand)"
put deflect_db_password "$(rand)"
put deflect_person_key "$(rand)"
put jwt_secret "$(rand)"
put fernet_key "$(python3 -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode(), end='')")"
[ -f "$S/sftp_host_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -C sftp-staging -f "$S/sftp_host_ed25519"
[ -f "$S/deflect_sftp_key" ] || ssh-keygen -q -t ed25519 -N "" -C deflect-pipeline -f "$S/deflect_sftp_key"
# derived files are written again every time (removed first: they are read-only)
rm -f "$S/deflect_sftp_authorized_keys" "$S/airflow_db_url" "$S/celery_result_backend" \
  "$S/deflect_pgpass" "$S/airflow_conn_deflect_drop"
cp "$S/deflect_sftp_key.pub" "$S/deflect_sftp_authorized_keys"
pw=$(cat "$S/airflow_db_password"); dpw=$(cat "$S/deflect_db_password")
printf '%s' "postgresql+psycopg://airflow:$pw@postgres:5432/airflow" >"$S/airflow_db_url"
printf '%s' "db+postgresql+psycopg://airflow:$pw@postgres:5432/airflow" >"$S/celery_result_backend"
printf '%s\n' "postgres:5432:deflect:deflect:$dpw" >"$S/deflect_pgpass"  # a .pgpass is lines
# The drop server as an Airflow connection (JSON form of AIRFLOW_CONN_DEFLECT_DROP): host, login,
# the private key and the pinned host key in the extras, as Airflow's SFTP provider reads them.
python3 - "$S" <<'PY'
import json, sys
from pathlib import Path
s = Path(sys.argv[1])
host_key = " ".join((s / "sftp_host_ed25519.pub").read_text().split()[:2])
conn = {"conn_type": "sftp", "host": "sftp", "port": 22, "login": "deflect",
        "extra": {"host_key": host_key, "private_key": (s / "deflect_sftp_key").read_text()}}
(s / "airflow_conn_deflect_drop").write_text(json.dumps(conn))
PY
chmod 400 "$S"/*
if [ "$(id -u)" = 0 ]; then
  chown 50000:50000 "$S"/*
  chown 999:999 "$S/deflect_db_password"
  echo "secrets in $S"
else
  echo "secrets in $S; set their owners as root:"
  echo "  chown 50000:50000 $S/* && chown 999:999 $S/deflect_db_password"
fi
