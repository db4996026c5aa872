#!/usr/bin/env bash
# What the benchmarks need beyond ./install.sh: wrk (Debian's package) for load, and the
# `bench` optional dependencies of pyproject.toml (matplotlib for the chart) in berth's own
# virtualenv, leaving the berth install itself alone. Run once, as root:  bench/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${BERTH_VENV:-/opt/berth/venv}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
mapfile -t DEPS < <("$VENV/bin/python" -c 'import tomllib
for d in tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["bench"]:
    print(d)')
"$VENV/bin/pip" install -q --disable-pip-version-check "${DEPS[@]}" 2>&1 \
    | grep -v "^WARNING: Location" || true
echo "-----> ready: PATH=$VENV/bin:\$PATH $VENV/bin/python -m bench [--quick]"
