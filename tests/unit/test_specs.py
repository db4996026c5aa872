from berth.models import Release
from berth.schedulers import specs
from berth.schedulers.base import runnable_types


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
    assert runnable_types(r, {"web": 2, "worker": 0, "gone": 1}) == {"web": 2}


def test_limits_and_mounts_in_the_process_spec():
    from berth.models import Limits, Mount

    spec = specs.process_spec(rel(), "web", 1,
                              limits=Limits(memory=512 * 1024 ** 2, cpu=0.5,
                                            memory_reservation=256 * 1024 ** 2,
                                            cpu_reservation=0.25),
                              mounts=[Mount("/var/lib/berth/storage/d", "/data"),
                                      Mount("/srv/conf", "/conf", read_only=True)])
    assert spec["mem_limit"] == 536870912
    assert spec["nano_cpus"] == 500_000_000
    assert spec["mem_reservation"] == 268435456
    assert spec["cpu_shares"] == 256
    assert spec["volumes"] == ["/var/lib/berth/storage/d:/data:rw", "/srv/conf:/conf:ro"]


def test_no_limits_no_mounts_add_nothing():
    from berth.models import Limits

    plain = specs.process_spec(rel(), "web", 1)
    assert specs.process_spec(rel(), "web", 1, limits=Limits(), mounts=()) == plain
    assert not {"mem_limit", "nano_cpus", "volumes", "cpu_shares"} & set(plain)


def test_oneoff_spec_interactive_and_labelled(monkeypatch):
    from berth.models import Limits, Mount

    monkeypatch.setattr(specs, "prefix", lambda: "berth")
    spec = specs.oneoff_spec(rel(), ["bash"], name="berth.myapp.run.4821", role="run",
                             index=4821, interactive=True, tty=True,
                             limits=Limits(memory=64 * 1024 ** 2),
                             mounts=[Mount("/s/d", "/data")],
                             extra_labels={"berth.cron": "abc"})
    assert spec["stdin_open"] is True and spec["tty"] is True
    assert spec["environment"]["DYNO"] == "run.4821"
    assert spec["labels"]["berth.role"] == "oneoff" and spec["labels"]["berth.cron"] == "abc"
    assert spec["labels"]["berth.process"] == "run" and spec["labels"]["berth.index"] == "4821"
    assert spec["mem_limit"] == 64 * 1024 ** 2 and spec["volumes"] == ["/s/d:/data:rw"]
    assert "restart_policy" not in spec
    plain = specs.oneoff_spec(rel(), ["true"], name="n", role="release")
    assert "stdin_open" not in plain and "tty" not in plain


def test_run_options_merge_type_over_default():
    from berth.models import DEFAULT_TYPE, Limits, RunOptions

    opts = RunOptions(limits={DEFAULT_TYPE: Limits(memory=100, cpu=1.0),
                              "worker": Limits(memory=50, memory_reservation=10)})
    assert opts.limits_for("web") == Limits(memory=100, cpu=1.0)
    assert opts.limits_for("worker") == Limits(memory=50, cpu=1.0, memory_reservation=10)
    assert RunOptions().limits_for("web") == Limits()


def test_read_only_spec_keeps_a_writable_tmp():
    spec = specs.process_spec(rel(), "web", 1, read_only=True)
    assert spec["read_only"] is True and "/tmp" in spec["tmpfs"]
    assert "read_only" not in specs.process_spec(rel(), "web", 1)
