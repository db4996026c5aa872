#!/bin/sh
# Turn Debian's WordPress release into an app directory berth can build:
#   ./prepare.sh DIR      DIR gets WordPress + the Twenty Twenty-Three theme + this example's
#                         Dockerfile, apache-site.conf, wp-config.php and app.json
# Debian's package links to files of other packages (getid3, underscore.js ...); those links
# are listed in DIR/debian-links.txt and made again inside the image, where the packages are.
set -eu
dest=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download wordpress wordpress-theme-twentytwentythree 2>/dev/null
for deb in ./*.deb; do dpkg-deb -x "$deb" root; done
mkdir -p "$dest"
cp -a root/usr/share/wordpress/. "$dest/"
cd "$dest"
find . -type l -printf "%p %l\n" | grep -v " /etc/wordpress/" | sort > debian-links.txt
find . -type l -delete
rm -f wp-config.php
cp "$here/Dockerfile" "$here/apache-site.conf" "$here/wp-config.php" "$here/app.json" .
echo "prepared WordPress $(dpkg-deb -f "$work"/wordpress_*.deb Version) in $dest"
