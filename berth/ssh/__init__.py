"""The SSH front door: the forced command behind every key in authorized_keys."""
