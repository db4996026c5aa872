#!/bin/sh
# berth's redis service entrypoint (run as root by the stack image, mounted read-only).
# Persistence: append-only file (fsync every second) in /data; AUTH with $REDIS_PASSWORD.
set -eu
mkdir -p /data
chown -R redis:redis /data
conf=$(mktemp)
{
    echo "bind 0.0.0.0"
    echo "protected-mode no"
    echo "port 6379"
    echo "dir /data"
    echo "appendonly yes"
    echo "appendfsync everysec"
    echo "requirepass $REDIS_PASSWORD"
} > "$conf"
chown redis "$conf"
chmod 600 "$conf"
exec setpriv --reuid=redis --regid=redis --init-groups -- redis-server "$conf"
