#!/usr/bin/env bash
# Run berth's whole test suite (unit, then integration against a real Docker engine, Caddy,
# sshd and git). Installs and starts what it needs first, via install.sh, which also deploys
# the bundled example app: that is the Quickstart's own end-to-end check.
#   ./test.sh                 everything
#   ./test.sh --unit          unit tests only (seconds, no Docker)
#   ./test.sh -- ARGS         extra pytest arguments
set -euo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
MODE=all
if [ "${1:-}" = "--unit" ]; then MODE=unit; shift; fi
[ "${1:-}" = "--" ] && shift

step() { printf -- '-----> %s\n' "$*"; }
# shellcheck source=scripts/host.sh
source "$HERE/scripts/host.sh"

if [ "$MODE" = all ]; then
    "$HERE/install.sh"
else
    install_packages
    install_berth "$HERE"
fi
PY="$BERTH_VENV/bin/python"
"$PY" -c 'import pytest, hypothesis' 2>/dev/null || \
    "$BERTH_VENV/bin/pip" install -q --disable-pip-version-check pytest hypothesis

export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$BERTH_VENV/bin:$PATH"
step "Unit tests"
"$PY" -m pytest -q tests/unit "$@"
if [ "$MODE" = all ]; then
    step "Integration tests"
    "$PY" -m pytest -q -m "integration and not disruptive" tests/integration tests/security "$@"
    step "Disruptive integration tests (the Docker engine restarts)"
    "$PY" -m pytest -q -m disruptive tests/integration tests/security "$@" || [ $? -eq 5 ]  # 5: none selected
fi
