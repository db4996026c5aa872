# Host setup steps shared by install.sh and test.sh. Each is idempotent and quick when done.
# shellcheck shell=bash

BERTH_VENV=${BERTH_VENV:-/opt/berth/venv}
BERTH_LOG_DIR=${BERTH_LOG_DIR:-/var/log/berth}
SYSTEM_ROOT=/var/lib/berth

has_systemd() { [ -d /run/systemd/system ] && [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; }

install_packages() {
    local want=(docker.io openssh-server openssh-client git debootstrap sudo curl ca-certificates
                python3-venv procps)
    # nginx for `router:set nginx`; any flavour already installed will do
    [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || want+=(nginx-light)
    local missing=()
    for p in "${want[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        step "Installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        if [[ " ${missing[*]} " == *" nginx-light "* ]]; then
            # berth runs its own nginx (router:set nginx); the distribution's would take :80
            if has_systemd; then systemctl disable --now nginx >/dev/null 2>&1 || true
            elif [ -s /run/nginx.pid ]; then /usr/sbin/nginx -s quit 2>/dev/null || true; fi
        fi
    fi
}

start_docker() {
    if docker_up; then return; fi
    step "Starting the Docker engine"
    if has_systemd; then
        systemctl enable --now docker
    else
        mkdir -p "$BERTH_LOG_DIR"
        nohup dockerd >>"$BERTH_LOG_DIR/dockerd.log" 2>&1 &
    fi
    for _ in $(seq 1 60); do docker_up && return; sleep 0.5; done
    echo " !     the Docker engine did not start; see $BERTH_LOG_DIR/dockerd.log" >&2
    return 1
}

docker_up() { [ -S /var/run/docker.sock ] && /usr/bin/docker version >/dev/null 2>&1; }

start_sshd() {
    [ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -A >/dev/null
    if pgrep -x sshd >/dev/null; then return; fi
    step "Starting sshd"
    if has_systemd; then
        systemctl enable --now ssh
    else
        mkdir -p /run/sshd
        /usr/sbin/sshd
    fi
}

# Python >= 3.11 for the venv: the system's (the berth SSH user must be able to run it, so
# not one under /root), else python3 on PATH.
pick_python() {
    for py in /usr/bin/python3 python3; do
        if command -v "$py" >/dev/null && "$py" -c 'import sys, venv; assert sys.version_info >= (3, 11)' 2>/dev/null; then
            command -v "$py"; return
        fi
    done
    echo " !     berth needs Python 3.11 or newer" >&2
    return 1
}

install_berth() {
    local src=$1 stamp new py base
    py=$(pick_python)
    base=$("$py" -c 'import sys; print(sys.base_prefix)')
    if [ "$("$BERTH_VENV/bin/python" -c 'import sys; print(sys.base_prefix)' 2>/dev/null)" != "$base" ]; then
        rm -rf "$BERTH_VENV"
        "$py" -m venv "$BERTH_VENV"
    fi
    # pip 25.2 and later write console scripts that do not import re, ~4 ms of every `berth`
    # start. Not fatal: with an older pip berth only starts a little slower.
    if ! "$BERTH_VENV/bin/python" -c 'import pip, sys; sys.exit(tuple(map(int, pip.__version__.split(".")[:2])) < (25, 2))' 2>/dev/null; then
        step "Upgrading pip in $BERTH_VENV"
        "$BERTH_VENV/bin/pip" install -q --disable-pip-version-check --upgrade "pip>=25.2" 2>&1 \
            | grep -v "^WARNING: Location" || true
    fi
    # the stamp holds pip's version too: a new pip rewrites the console script
    new=$(cd "$src" && find pyproject.toml berth -type f \( -name '*.py' -o -name '*.sql' -o -name '*.toml' -o -path '*/data/*' \) -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
    new="$new pip-$("$BERTH_VENV/bin/python" -c 'import pip; print(pip.__version__)' 2>/dev/null || true)"
    stamp="$BERTH_VENV/.berth-source"
    if [ -x "$BERTH_VENV/bin/berth" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$new" ]; then
        BERTH_UPDATED=0
    else
        step "Installing berth into $BERTH_VENV"
        "$BERTH_VENV/bin/pip" install -q --disable-pip-version-check "$src" 2>&1 \
            | grep -v "^WARNING: Location" || true
        [ -x "$BERTH_VENV/bin/berth" ] || { echo " !     pip install failed" >&2; return 1; }
        echo "$new" >"$stamp"
        BERTH_UPDATED=1
    fi
    ln -sf "$BERTH_VENV/bin/berth" /usr/local/bin/berth
    export BERTH_UPDATED
}

create_ssh_user() {
    if ! id berth >/dev/null 2>&1; then
        step "Creating the berth SSH user"
        useradd --system --create-home --home-dir /home/berth --shell /bin/sh berth
    fi
    install -d -o berth -g berth -m 700 /home/berth/.ssh
    touch /home/berth/.ssh/authorized_keys
    chown berth:berth /home/berth/.ssh/authorized_keys
    chmod 600 /home/berth/.ssh/authorized_keys
    # The berth user may run exactly one thing as root: the forced command of its keys.
    local rule=/etc/sudoers.d/berth
    cat >"$rule.tmp" <<SUDO
# Written by berth's install.sh
Defaults:berth env_keep += "SSH_ORIGINAL_COMMAND", !requiretty
berth ALL=(root) NOPASSWD: /usr/local/bin/berth ssh-shell --user *
SUDO
    chmod 440 "$rule.tmp"
    visudo -cf "$rule.tmp" >/dev/null && mv "$rule.tmp" "$rule"
}

server_pid() { cat "$SYSTEM_ROOT/run/server.pid" 2>/dev/null || true; }

start_server() {
    if has_systemd; then
        install -m 644 "$HERE/scripts/berth.service" /etc/systemd/system/berth.service
        systemctl daemon-reload
        if [ "${BERTH_UPDATED:-0}" = 1 ]; then systemctl restart berth; fi
        systemctl enable --now berth
        return
    fi
    local pid
    pid=$(server_pid)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        [ "${BERTH_UPDATED:-0}" = 1 ] || return 0
        step "Restarting berth server (new version)"
        kill "$pid"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    else
        step "Starting berth server"
    fi
    mkdir -p "$BERTH_LOG_DIR"
    nohup /usr/local/bin/berth server >>"$BERTH_LOG_DIR/server.log" 2>&1 &
    for _ in $(seq 1 50); do [ -n "$(server_pid)" ] && return 0; sleep 0.2; done
    echo " !     berth server did not start; see $BERTH_LOG_DIR/server.log" >&2
    return 1
}

deploy_example() {
    local app_src=$1 key=/root/.ssh/berth_example_ed25519 work url fingerprint
    mkdir -p /root/.ssh && chmod 700 /root/.ssh
    [ -f "$key" ] || ssh-keygen -q -t ed25519 -N '' -C berth-example -f "$key"
    # this key, not just any admin key: root's key may be new while berth's state is kept
    fingerprint=$(ssh-keygen -lf "$key.pub" | cut -d' ' -f2)
    if ! berth ssh-keys:list --format json | grep -qF "\"$fingerprint\""; then
        berth ssh-keys:add admin <"$key.pub"
    fi
    work=$(mktemp -d)
    cp -r "$app_src/." "$work/"
    git -C "$work" init -q -b main
    git -C "$work" -c user.name=berth -c user.email=berth@localhost add -A
    git -C "$work" -c user.name=berth -c user.email=berth@localhost commit -q -m "Example app"
    step "Deploying the example app with git push berth@localhost:hello"
    GIT_SSH_COMMAND="ssh -i $key -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/root/.ssh/known_hosts" \
        git -C "$work" push --force "berth@localhost:hello" main
    rm -rf "$work"
    url=$(berth apps:report hello --format json | sed -n 's/.*"url": "\(.*\)".*/\1/p')
    curl -fsS --max-time 10 --resolve "hello.localhost:80:127.0.0.1" "$url" >/dev/null
    echo
    echo "=====> berth is up. The example app answers at $url"
    echo "       Add your key:  berth ssh-keys:add you < ~/.ssh/id_ed25519.pub"
    echo "       Then push:     git remote add berth berth@$(hostname -f 2>/dev/null || hostname):myapp && git push berth main"
}
