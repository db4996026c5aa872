import pytest

from berth.cli.main import COMMANDS, INTERNAL
from berth.errors import BerthError
from berth.ssh.shell import classify, repo_app, tokenize

ALLOWED = set(COMMANDS) - INTERNAL


@pytest.mark.parametrize("arg,app", [("'myapp'", "myapp"), ("myapp.git", "myapp"),
                                     ("/myapp.git", "myapp"), ("~/myapp", "myapp")])
def test_git_repo_arguments(arg, app):
    assert classify(tokenize(f"git-receive-pack {arg}"), ALLOWED) == \
        ("git", ["git-receive-pack", app])


def test_berth_commands_pass_as_argv():
    assert classify(tokenize("config:set myapp 'A=x y' B=$HOME"), ALLOWED) == \
        ("berth", ["config:set", "myapp", "A=x y", "B=$HOME"])


@pytest.mark.parametrize("cmd", [
    "ls", "bash", "sh -c id", "server", "ssh-shell --user root", "ssh-keys:add x",
    "git-receive-pack ../etc", "git-receive-pack 'a;b'", "git-receive-pack a b",
    "git-upload-pack '$(id)'", "git-receive-pack `id`", "x && y", "cat /etc/passwd",
    "apps:list\nid", "apps:list\x00", "a" * 9000, "git-receive-pack 'unterminated",
    "git-receive-pack /etc/passwd", "git-receive-pack '../../x.git'",
])
def test_hostile_commands_refused(cmd):
    with pytest.raises(BerthError):
        classify(tokenize(cmd), ALLOWED)


def test_repo_app_refuses_paths():
    with pytest.raises(BerthError):
        repo_app("a/b")
