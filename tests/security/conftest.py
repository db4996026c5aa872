"""The security suite reuses the integration fixtures (real sshd, berth server, Caddy)."""

from tests.integration.conftest import *  # noqa: F401,F403
