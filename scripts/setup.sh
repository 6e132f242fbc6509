#!/usr/bin/env bash
# Installs everything the project and its tests need on a fresh Debian machine, idempotently:
# system packages (OpenSSH server for the SFTP tests, Redis for the Celery test), uv, and the locked Python environment.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server openssh-client)
# redis-server: the broker of the CeleryExecutor test (tests/dags/test_celery.py starts its own)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v psql >/dev/null 2>&1 && [ -d /usr/lib/postgresql ] || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v uv >/dev/null 2>&1; then
  echo "setup: installing uv" >&2
  python3 -m pip install -q uv
fi
# Compiled once here: the environment may forbid writing bytecode at run time, and every Airflow
# task and test subprocess would otherwise compile its imports again (1-4 s each).
uv sync --frozen --quiet --compile-bytecode
# Airflow's constraint files are out of reach here: the lock is the pin, and this checks it holds.
uv pip check --quiet
# Headless Chromium for the validation-report browser test.
bash scripts/install-chromium.sh
