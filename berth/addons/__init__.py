"""Add-on services (postgres, mysql, redis, or a plugin's type) that apps link to.

base.py is the interface every type implements; services.py the operations; cli.py the
TYPE:* commands; reconcile.py keeps service containers running and on their apps' networks;
plugin.py wires all of it in through ordinary hooks."""
