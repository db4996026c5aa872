import pytest

from berth import appjson, procfile
from berth.errors import ValidationError


def test_procfile_parses_types_and_commands():
    text = "# comment\nweb: gunicorn app:app --bind 0.0.0.0:$PORT\n\nworker:  python w.py\n"
    assert procfile.parse(text) == {"web": "gunicorn app:app --bind 0.0.0.0:$PORT",
                                    "worker": "python w.py"}


@pytest.mark.parametrize("text,match", [
    ("web python app.py", "expected 'type: command'"),
    ("Web: x", "invalid process type"),
    ("web:", "empty command"),
    ("web: a\nweb: b", "defined twice"),
    ("x" * 70000, "64 KiB"),
])
def test_procfile_errors_name_the_line(text, match):
    with pytest.raises(ValidationError, match=match):
        procfile.parse(text)


def test_app_json_formation_and_checks():
    data = appjson.parse('{"formation": {"web": {"quantity": 2}}, "healthchecks": {"web": '
                         '[{"path": "/health", "content": "ok", "attempts": 3}]}}')
    assert appjson.formation(data) == {"web": 2}
    [check] = appjson.checks(data)["web"]
    assert (check.path, check.content, check.attempts) == ("/health", "ok", 3)


@pytest.mark.parametrize("text,match", [
    ("[]", "top level"),
    ("{", "invalid app.json"),
    ('{"formation": {"web": {"quantity": -1}}}', "quantity"),
    ('{"formation": {"web": {"quantity": true}}}', "quantity"),
    ('{"healthchecks": {"web": [{"path": "health"}]}}', "path"),
    ('{"healthchecks": {"web": [{"attempts": "x"}]}}', "attempts"),
    ('{"healthchecks": {"web": {}}}', "must be a list"),
])
def test_app_json_errors(text, match):
    with pytest.raises(ValidationError, match=match):
        appjson.parse(text)


def test_scripts():
    assert appjson.script({"scripts": {"predeploy": "x"}}, "predeploy") == "x"
    with pytest.raises(ValidationError):
        appjson.script({"scripts": {"predeploy": 1}}, "predeploy")
