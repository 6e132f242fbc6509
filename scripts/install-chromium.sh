#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the validation-report browser test, idempotently.
# Called from scripts/setup.sh; the report itself needs no browser.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "install-chromium: installing chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
