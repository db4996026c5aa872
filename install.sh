#!/usr/bin/env bash
# Bring berth up on this Debian/Ubuntu host (as root) and deploy the bundled example app
# through a real `git push`. Safe to run again; fast when everything is already there.
#   ./install.sh               install, start, deploy the example, print its URL
#   ./install.sh --no-example  install and start only
set -euo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
EXAMPLE=1
[ "${1:-}" = "--no-example" ] && EXAMPLE=0
[ "$(id -u)" = 0 ] || { echo " !     run install.sh as root" >&2; exit 1; }

step() { printf -- '-----> %s\n' "$*"; }

# shellcheck source=scripts/host.sh
source "$HERE/scripts/host.sh"

install_packages
start_docker
start_sshd
install_berth "$HERE"
create_ssh_user
start_server

step "Building stack images (skipped when up to date)"
berth stacks:build

if [ "$EXAMPLE" = 1 ]; then
    deploy_example "$HERE/berth/data/example"
fi
