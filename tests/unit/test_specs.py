from berth.models import Release
from berth.schedulers import docker_local, specs


def rel(**kw):
    base = dict(app="myapp", version=3, image="sha256:abc", git_sha="f" * 40,
                config={"SECRET": "s3cr3t"}, processes={"web": "python app.py", "worker": "w"},
                formation={"web": 1}, app_json={}, port=None, description="Deploy fffffff",
                status="pending", created_at=0.0)
    base.update(kw)
    return Release(**base)


def test_process_spec_is_exact(monkeypatch):
    monkeypatch.setattr(specs, "prefix", lambda: "berth")
    assert specs.process_spec(rel(), "web", 2, suffix="next") == {
        "image": "sha256:abc",
        "name": "berth.myapp.web.2.next",
        "command": ["/bin/sh", "-c", "python app.py"],
        "environment": {"SECRET": "s3cr3t", "PORT": "5000", "DYNO": "web.2",
                        "BERTH_APP": "myapp", "BERTH_RELEASE": "v3"},
        "labels": {"berth.app": "myapp", "berth.process": "web", "berth.index": "2",
                   "berth.release": "3", "berth.port": "5000", "berth.role": "process",
                   "berth.instance": "berth"},
        "network": "berth-myapp",
        "hostname": "myapp-web-2",
        "restart_policy": {"Name": "unless-stopped"},
        "security_opt": ["no-new-privileges"],
        "cap_drop": ["AUDIT_WRITE", "MKNOD", "NET_RAW", "SETFCAP", "SETPCAP", "SYS_CHROOT"],
        "init": True,
        "log_config": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}},
    }


def test_secrets_never_in_labels_or_command():
    spec = specs.process_spec(rel(), "web", 1)
    assert "s3cr3t" not in repr(spec["labels"]) + repr(spec["command"])


def test_port_from_config_then_image_then_default():
    assert specs.port_of(rel(config={"PORT": "8080"}, port=3000)) == 8080
    assert specs.port_of(rel(port=3000)) == 3000
    assert specs.port_of(rel(config={"PORT": "nope"})) == 5000


def test_image_cmd_used_without_procfile_entry():
    assert specs.command(rel(processes={}), "web") is None


def test_runnable_types_skips_zero_and_unknown():
    r = rel(processes={"worker": "w"})
    assert docker_local.runnable_types(r, {"web": 2, "worker": 0, "gone": 1}) == {"web": 2}
