import pytest

from berth import appjson, checks, checks_config
from berth.appjson import Check
from berth.checks import ALL, Policy
from berth.errors import ValidationError

KNOWN = ["web", "worker", "clock"]


def test_validate_settings():
    assert checks_config.validate("attempts", "7") == "7"
    assert checks_config.validate("wait", "0.5") == "0.5"
    assert checks_config.validate("wait-to-retire", "60") == "60.0"
    for key, bad in [("attempts", "0"), ("attempts", "1.5"), ("timeout", "0"),
                     ("wait", "-1"), ("wait-to-retire", "x"), ("wait", "nan"),
                     ("timeout", "inf")]:
        with pytest.raises(ValidationError, match=f"invalid {key}"):
            checks_config.validate(key, bad)
    with pytest.raises(ValidationError, match="unknown checks setting"):
        checks_config.validate("retries", "3")


def test_parse_types_accepts_commas_and_args():
    assert checks_config.parse_types(["web,worker", "clock", "web"]) == ["web", "worker", "clock"]
    with pytest.raises(ValidationError, match="invalid process type"):
        checks_config.parse_types(["web;id"])


@pytest.mark.parametrize("start,action,types,expected", [
    (([], []), "disable", [], ([ALL], [])),
    (([], [ALL]), "disable", [], ([ALL], [])),
    (([ALL], []), "skip", [], ([], [ALL])),
    (([ALL], ["web"]), "enable", [], ([], [])),
    (([], []), "disable", ["worker"], (["worker"], [])),
    ((["worker"], ["web"]), "skip", ["worker"], ([], ["web", "worker"])),
    (([], ["web", "worker"]), "disable", ["worker"], (["worker"], ["web"])),
    (([ALL], []), "enable", ["web"], (["clock", "worker"], [])),
    (([ALL], []), "skip", ["web"], (["clock", "worker"], ["web"])),
    (([ALL], []), "disable", ["web"], ([ALL], [])),
    (([], [ALL]), "enable", ["clock"], ([], ["web", "worker"])),
])
def test_apply_mode_last_command_wins(start, action, types, expected):
    assert checks_config.apply_mode(*start, action, types, KNOWN) == expected


def test_policy_modes():
    p = Policy(disabled=("worker",), skipped=(ALL,))
    assert (p.mode("worker"), p.mode("web")) == (checks.DISABLED, checks.SKIPPED)
    assert Policy().mode("web") == checks.CHECKED


def test_policy_defaults_per_type():
    p = Policy(checks={"web": (Check(path="/h"),)})
    assert p.for_type("web") == [Check(path="/h")]
    [worker] = p.for_type("worker")
    assert worker.kind == "uptime" and worker.uptime == checks.DEFAULT_UPTIME
    [web] = Policy().for_type("web")
    assert web.type == "default" and web.kind == "http"


def test_resolve_fills_only_what_is_missing():
    c = checks_config.resolve(Check(path="/", attempts=3), {"attempts": "9", "wait": "0.5"})
    assert (c.attempts, c.wait, c.timeout) == (3, 0.5, checks.BUILTIN["timeout"])
    c = checks_config.resolve(Check(path="/"), {})
    assert (c.attempts, c.wait, c.timeout) == (30, 1.0, 5.0)


def test_app_json_check_kinds():
    data = appjson.parse('{"healthchecks": {"web": [{"path": "/h", "content": "ok", '
                         '"wait": 0.5, "initialDelay": 1}], "worker": [{"command": '
                         '["/bin/sh", "-c", "test -f /tmp/ok"], "attempts": 2}, '
                         '{"uptime": 3, "name": "stays up"}]}}')
    [web] = appjson.checks(data)["web"]
    assert (web.kind, web.path, web.content, web.wait, web.initial_delay) == \
        ("http", "/h", "ok", 0.5, 1.0)
    assert web.attempts is None and web.timeout is None  # filled in from settings later
    cmd, up = appjson.checks(data)["worker"]
    assert cmd.kind == "command" and cmd.command == ("/bin/sh", "-c", "test -f /tmp/ok")
    assert (up.kind, up.uptime, up.name) == ("uptime", 3.0, "stays up")


@pytest.mark.parametrize("item,match", [
    ('{"command": "curl localhost"}', "argv"),
    ('{"command": []}', "argv"),
    ('{"command": ["ok", 3]}', "argv"),
    ('{"command": ["a\\u0000b"]}', "argv"),
    ('{"path": "/", "command": ["true"]}', "one of path, command or uptime"),
    ('{"uptime": 0}', "uptime"),
    ('{"uptime": true}', "uptime"),
    ('{"command": ["true"], "content": "x"}', "content"),
    ('{"attempts": 0}', "attempts"),
    ('{"attempts": 2.5}', "attempts"),
    ('{"timeout": 0}', "timeout"),
    ('{"initialDelay": -1}', "initialDelay"),
    ('{"name": 5}', "name"),
])
def test_app_json_check_errors(item, match):
    with pytest.raises(ValidationError, match=match):
        appjson.parse('{"healthchecks": {"web": [' + item + ']}}')


def test_app_json_scripts_validated_in_parse():
    with pytest.raises(ValidationError, match="scripts.postdeploy"):
        appjson.parse('{"scripts": {"postdeploy": ["echo"]}}')
    assert appjson.parse('{"scripts": {"predeploy": "echo hi"}}')


def test_describe():
    assert checks.describe(Check(path="/h", content="ok", attempts=3, wait=1.0, timeout=5.0),
                           5000) == "GET /h for 'ok' (3 attempts, 1s apart, timeout 5s)"
    assert checks.describe(checks.DEFAULT_HTTP, 8080).startswith("any HTTP answer on port 8080")
    # polled often (a deploy waits on it) for about a minute in all
    default = checks.DEFAULT_HTTP
    assert default.wait <= 0.1 and 55 <= default.attempts * default.wait <= 65
    assert checks.describe(Check(uptime=2.0), 5000) == "up for 2s without a restart"
    assert checks.describe(Check(command=("a b", "c"), attempts=1, wait=1.0, timeout=5.0),
                           5000).startswith("command 'a b' c")


def test_docker_time_parsing():
    assert checks._parse_time("1970-01-01T00:00:10.5Z") == 10.5
    assert checks._parse_time("2024-01-02T03:04:05.123456789Z") == pytest.approx(
        1704164645.123456789)
