#!/usr/bin/env bash
# A Docker engine for machines where none runs and no registry is reachable (Debian's dockerd,
# as root): its own data and exec roots under DEFLECT_DOCKER_ROOT, the default socket, overlay2
# storage and the default bridge. `start` prints "started" or "running" (already up: leave it);
# `stop` stops only an engine this script started (its pid file).
#   sudo apt-get install -y --no-install-recommends docker.io debootstrap iptables
set -euo pipefail
ROOT=${DEFLECT_DOCKER_ROOT:-/var/tmp/deflect-dockerd}
case "${1:-}" in
  start)
    if docker info >/dev/null 2>&1; then echo running; exit 0; fi
    command -v dockerd >/dev/null || { echo "no dockerd binary (apt-get install docker.io)" >&2; exit 2; }
    [ "$(id -u)" = 0 ] || { echo "dockerd needs root" >&2; exit 2; }
    mkdir -p "$ROOT/data" "$ROOT/exec"
    nohup dockerd --data-root "$ROOT/data" --exec-root "$ROOT/exec" --pidfile "$ROOT/dockerd.pid" \
      >"$ROOT/dockerd.log" 2>&1 &
    for _ in $(seq 60); do
      if docker info >/dev/null 2>&1; then echo started; exit 0; fi
      sleep 1
    done
    echo "dockerd did not answer in 60 s; see $ROOT/dockerd.log" >&2; exit 1 ;;
  stop)
    [ -f "$ROOT/dockerd.pid" ] || exit 0
    pid=$(cat "$ROOT/dockerd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 1; done
    echo "dockerd $pid still running" >&2; exit 1 ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
