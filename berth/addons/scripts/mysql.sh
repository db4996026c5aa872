#!/bin/sh
# berth's mysql (MariaDB) service entrypoint (run as root by the stack image, mounted read-only).
# First start: install the system tables into $DATADIR, give root@'%' the password from
# $MARIADB_ROOT_PASSWORD, create $MARIADB_DATABASE and the user $MARIADB_USER with
# $MARIADB_PASSWORD. Every start: fix ownership, then run mariadbd as `mysql`.
set -eu
DATADIR=/var/lib/mysql
mkdir -p "$DATADIR" /run/mysqld
chown mysql:mysql "$DATADIR" /run/mysqld
if [ ! -d "$DATADIR/mysql" ]; then
    mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db \
        --auth-root-authentication-method=socket >/dev/null
    {
        echo "FLUSH PRIVILEGES;"
        echo "CREATE USER 'root'@'%' IDENTIFIED BY '$MARIADB_ROOT_PASSWORD';"
        echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
        if [ -n "${MARIADB_DATABASE:-}" ]; then
            echo "CREATE DATABASE \`$MARIADB_DATABASE\` CHARACTER SET utf8mb4;"
            echo "CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY '$MARIADB_PASSWORD';"
            echo "GRANT ALL ON \`$MARIADB_DATABASE\`.* TO '$MARIADB_USER'@'%';"
        fi
    } | setpriv --reuid=mysql --regid=mysql --init-groups -- \
        mariadbd --datadir="$DATADIR" --bootstrap >/dev/null
    echo "berth: initialized $DATADIR"
fi
exec setpriv --reuid=mysql --regid=mysql --init-groups -- \
    mariadbd --datadir="$DATADIR" --bind-address=0.0.0.0 --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci
