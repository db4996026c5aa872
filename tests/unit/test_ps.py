import pytest

from berth import ps
from berth.errors import ValidationError
from berth.models import Release


def rel(**kw):
    base = dict(app="myapp", version=3, image="sha256:abc", git_sha="f" * 40, config={},
                processes={"web": "python app.py", "worker": "w", "release": "r"},
                formation={"web": 1}, app_json={}, port=None, description="Deploy fffffff",
                status="succeeded", created_at=0.0)
    base.update(kw)
    return Release(**base)


def test_parse_scale():
    assert ps.parse_scale(["web=3", "worker=0"]) == {"web": 3, "worker": 0}


@pytest.mark.parametrize("arg,match", [
    ("web", "expected TYPE=COUNT"),
    ("web=-1", "from 0 to 100"),
    ("web=101", "from 0 to 100"),
    ("web=1.5", "from 0 to 100"),
    ("web=", "from 0 to 100"),
    ("Web=1", "invalid process type"),
    ("release=1", "runs once per release"),
    ("$(id)=1", "invalid process type"),
])
def test_parse_scale_errors(arg, match):
    with pytest.raises(ValidationError, match=match):
        ps.parse_scale([arg])


def test_parse_scale_refuses_a_type_twice():
    with pytest.raises(ValidationError, match="given twice"):
        ps.parse_scale(["web=1", "web=2"])


@pytest.mark.parametrize("value", ["no", "always", "unless-stopped", "on-failure",
                                   "on-failure:1", "on-failure:9999"])
def test_restart_policies(value):
    assert ps.validate_option("restart-policy", value) == value


@pytest.mark.parametrize("value", ["", "On-failure", "on-failure:0", "on-failure:10000",
                                   "on-failure:x", "always;id", "never"])
def test_bad_restart_policies(value):
    with pytest.raises(ValidationError, match="use no, always, unless-stopped"):
        ps.validate_option("restart-policy", value)


def test_stop_timeout():
    assert ps.validate_option("stop-timeout-seconds", "030") == "30"
    for bad in ("-1", "3601", "1.5", "x"):
        with pytest.raises(ValidationError, match="from 0 to 3600"):
            ps.validate_option("stop-timeout-seconds", bad)
    with pytest.raises(ValidationError, match="unknown process option"):
        ps.validate_option("cpu", "1")


def test_scale_slots_start_only_new_indexes():
    assert ps.scale_slots({"web": 1}, {"web": 3, "worker": 1}) == [
        ("web", 2), ("web", 3), ("worker", 1)]
    assert ps.scale_slots({"web": 3}, {"web": 1}) == []
    assert ps.scale_slots({}, {}) == []


def test_known_types_exclude_release_and_include_web():
    assert ps.known_types(rel()) == ["web", "worker"]
    assert ps.known_types(rel(processes={})) == ["web"]


def test_restart_policy_spec():
    from berth.schedulers.specs import restart_policy_spec

    assert restart_policy_spec("on-failure:5") == {"Name": "on-failure", "MaximumRetryCount": 5}
    assert restart_policy_spec("always") == {"Name": "always"}
