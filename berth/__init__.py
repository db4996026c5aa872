"""berth: git push to your own server; built into Docker images and routed by Caddy."""

__version__ = "0.1.0"
