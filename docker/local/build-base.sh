#!/usr/bin/env bash
# Builds the base images the stack names, for a machine whose engine can reach no registry but
# can reach Debian's archive: a minimal Debian bookworm made with debootstrap and imported, and
# from it stand-ins for python:3.11-slim, postgres and redis (tags in images.env). An image whose
# inputs (its Dockerfile, its files, the host's extra CA certificates) have not changed is kept:
# each carries the hash of its inputs as the label deflect.inputs.
#   sudo bash docker/local/build-base.sh        # needs root, debootstrap and a running engine
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

current() {  # tag hash -> success when the image exists with that inputs hash
  [ "$(docker image inspect -f '{{index .Config.Labels "deflect.inputs"}}' "$1" 2>/dev/null)" = "$2" ]
}

# 1. Debian: debootstrap (minbase), apt caches removed, imported as an image
base_hash=$( (echo "$MIRROR"; cat "$HERE/build-base.sh") | sha256sum | cut -c1-16)
if current local/debian:bookworm "$base_hash"; then
  echo "local/debian:bookworm is current"
else
  command -v debootstrap >/dev/null || { echo "debootstrap missing (apt-get install debootstrap)" >&2; exit 2; }
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" \
    || { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }
  rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
  tar -C "$WORK/rootfs" -c . | docker import -c 'CMD ["bash"]' \
    -c "LABEL deflect.inputs=$base_hash" - local/debian:bookworm
fi

# 2. the stand-ins, FROM that base; the host's extra CA certificates go into the python one
mkdir -p "$WORK/ctx/ca"
cp /usr/local/share/ca-certificates/*.crt "$WORK/ctx/ca/" 2>/dev/null || true
cp "$HERE/postgres-entrypoint.sh" "$WORK/ctx/"
for spec in python:local/python:3.11 postgres:local/postgres:15 redis:local/redis:7.0; do
  name=${spec%%:*}; tag=${spec#*:}
  hash=$( (echo "$base_hash"; cat "$HERE/$name.Dockerfile";
           [ "$name" = postgres ] && cat "$HERE/postgres-entrypoint.sh";
           [ "$name" = python ] && cat "$WORK"/ctx/ca/* 2>/dev/null; true) | sha256sum | cut -c1-16)
  if current "$tag" "$hash"; then echo "$tag is current"; continue; fi
  docker build -q -f "$HERE/$name.Dockerfile" --build-arg DEBIAN_IMAGE=local/debian:bookworm \
    --label "deflect.inputs=$hash" -t "$tag" "$WORK/ctx"
done
