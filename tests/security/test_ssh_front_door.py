"""Attacks on the SSH front door, tried over a real sshd with berth's forced command.

Each hostile command must be refused, and nothing it asked for may run: every payload tries
to create a marker file, and the test checks that no marker ever appears."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import Env

pytestmark = pytest.mark.integration

MARK = "/tmp/berth-pwned"


def payloads() -> list[str]:
    m = MARK
    return [
        f"touch {m}",                                   # not a berth command
        f"apps:list; touch {m}",                        # command separator
        f"apps:list && touch {m}",                      # and-list
        f"apps:list || touch {m}",                      # or-list
        f"apps:list | touch {m}",                       # pipe
        f"apps:list $(touch {m})",                      # command substitution
        f"apps:list `touch {m}`",                       # backticks
        f"apps:list > {m}",                             # redirection
        f"apps:report x\ntouch {m}",                    # newline
        f"git-receive-pack '../../tmp/x'; touch {m}",   # path traversal + separator
        "git-receive-pack '../etc'",                    # path traversal
        "git-upload-pack '/etc/passwd'",                # absolute path
        f"git-receive-pack 'a$(touch {m})'",            # substitution inside the repo name
        "bash -i",                                      # a shell
        "sh",                                           # a shell
        "scp -t /tmp",                                  # file copy
        "internal-sftp",                                # sftp subsystem command
        "server",                                       # internal berth command
        "ssh-shell --user root",                        # recursion with another identity
        "ssh-keys:add evil",                            # admin command not exposed over SSH
        "--root /tmp/evil apps:create x",               # global options are not commands
        "apps:list " + "A" * 10000,                     # very long line
        "unknown:command",                              # unknown command
    ]


@pytest.mark.parametrize("command", payloads())
def test_hostile_command_refused_and_nothing_ran(berth_env: Env, command: str):
    Path(MARK).unlink(missing_ok=True)
    res = berth_env.ssh(command, timeout=60)
    assert res.returncode != 0, (command, res.stdout, res.stderr)
    assert not Path(MARK).exists()


def test_no_shell_without_a_command(berth_env: Env):
    res = berth_env.ssh("")
    assert res.returncode != 0 and "no shell" in res.stderr


def test_port_forwarding_is_refused(berth_env: Env):
    import subprocess

    argv = ["ssh", "-p", str(berth_env.ssh_port), "-i", str(berth_env.key),
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "ExitOnForwardFailure=yes",
            "-L", "127.0.0.1:0:127.0.0.1:22", "-N", "root@127.0.0.1"]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert res.returncode != 0


def test_nul_byte_is_refused(berth_env: Env):
    from berth.errors import ValidationError
    from berth.ssh.shell import tokenize

    with pytest.raises(ValidationError):
        tokenize("apps:list\x00")
