from berth.reconcile import Action, Actual, Facts, plan


def a(name, app="app", ptype="web", index=1, release=2, running=True, role="process"):
    return Actual(name=name, app=app, ptype=ptype, index=index, release=release,
                  running=running, role=role)


def P(name):  # noqa: N802
    return f"berth.app.{name}"


def test_nothing_to_do_when_converged(monkeypatch):
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (2, {"web": 1})}, actual=[a(P("web.1"))])
    assert plan(f) == []


def test_missing_container_is_started(monkeypatch):
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (2, {"web": 2})}, actual=[a(P("web.1"))])
    assert plan(f) == [Action("start", "app", P("web.2"), "web", 2)]


def test_stopped_container_restarted_and_old_release_removed(monkeypatch):
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (2, {"web": 1})},
              actual=[a(P("web.1"), running=False), a(P("web.1.old"), release=1)])
    assert plan(f) == [Action("remove", "app", P("web.1.old")),
                       Action("restart", "app", P("web.1"), "web", 1)]


def test_next_container_of_current_release_renamed(monkeypatch):
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (2, {"web": 1})}, actual=[a(P("web.1.next"))])
    assert plan(f) == [Action("rename", "app", P("web.1.next"), "web", 1)]


def test_duplicates_keep_the_running_canonical_one(monkeypatch):
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (2, {"web": 1})},
              actual=[a(P("web.1.next")), a(P("web.1"))])
    assert plan(f) == [Action("remove", "app", P("web.1.next"))]


def test_orphans_of_destroyed_apps_and_scaled_down_removed(monkeypatch):
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (2, {"web": 1})},
              actual=[a(P("web.1")), a(P("web.2"), index=2), a("berth.gone.web.1", app="gone")])
    assert plan(f) == [Action("remove", "app", P("web.2")),
                       Action("remove", "gone", "berth.gone.web.1")]


def test_busy_apps_and_oneoffs_left_alone(monkeypatch):
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (2, {"web": 1})},
              actual=[a(P("web.1.next"), release=3), a(P("run.1"), role="oneoff", release=1)],
              busy={"app"})
    assert plan(f) == []


def test_stopped_apps_are_kept_stopped_not_restarted(monkeypatch):
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (2, {"web": 2})},
              actual=[a(P("web.1")), a(P("web.2"), index=2, running=False)],
              stopped={"app"})
    assert plan(f) == [Action("stop", "app", P("web.1"))]


def test_pending_and_retiring_containers_heal_to_plain_names(monkeypatch):
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (2, {"web": 2})},
              actual=[a(P("web.1.retiring")), a(P("web.2.pending"), index=2)])
    assert plan(f) == [Action("rename", "app", P("web.1.retiring"), "web", 1),
                       Action("rename", "app", P("web.2.pending"), "web", 2)]


def test_pending_release_of_a_dead_deploy_is_failed(monkeypatch):
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (2, {"web": 1})}, actual=[a(P("web.1"))],
              pending={"app": [3, 4], "new": [1]})
    assert plan(f) == [Action("fail", "app", "app v3", index=3),
                       Action("fail", "app", "app v4", index=4),
                       Action("fail", "new", "new v1", index=1)]


def test_pending_release_of_a_running_deploy_is_left_alone(monkeypatch):
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (2, {"web": 1})},
              actual=[a(P("web.1")), a(P("web.1.next"), release=3)],
              pending={"app": [3]}, busy={"app"})
    assert plan(f) == []


def test_crash_after_new_containers_started_heals_to_the_old_release(monkeypatch):
    # the deploy of v3 died before the switch: its .next containers go, v3 fails
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (2, {"web": 1})},
              actual=[a(P("web.1")), a(P("web.1.next"), release=3)], pending={"app": [3]})
    assert plan(f) == [Action("fail", "app", "app v3", index=3),
                       Action("remove", "app", P("web.1.next"))]


def test_crash_during_the_switch_heals_to_the_new_release(monkeypatch):
    # the store already says v3 is current: v2's container goes, v3's takes the plain name
    monkeypatch.setattr("berth.schedulers.specs.prefix", lambda: "berth")
    f = Facts(desired={"app": (3, {"web": 1})},
              actual=[a(P("web.1")), a(P("web.1.next"), release=3)])
    assert plan(f) == [Action("remove", "app", P("web.1")),
                       Action("rename", "app", P("web.1.next"), "web", 1)]
