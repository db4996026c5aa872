"""An engine that goes away in the middle of a command (stopped, restarted) gives a plain
message and exit status 1, not a traceback: in the CLI and in the push hook."""

from __future__ import annotations

from pathlib import Path

import docker.errors
import pytest
import requests.exceptions

from berth import apps, engine
from berth.cli import main
from berth.context import Ctx
from berth.paths import Paths


def test_engine_failures_are_named_and_others_are_not() -> None:
    lost = engine.failure(requests.exceptions.ConnectionError("reset"))
    assert lost is not None and "lost the connection to the Docker engine" in lost
    api = engine.failure(docker.errors.APIError("500 Server Error"))
    assert api is not None and "500 Server Error" in api
    assert engine.failure(ValueError("a bug")) is None


def test_cli_says_the_engine_went_away(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    monkeypatch.setenv("BERTH_ROOT", str(root))
    apps.create(Ctx(paths=Paths(root), out=lambda line: None), "web1")

    def gone(*args: object, **kwargs: object) -> list[object]:
        raise requests.exceptions.ConnectionError("('Connection aborted.', ...)")

    monkeypatch.setattr(engine, "containers", gone)
    assert main.run(["apps:report", "web1"]) == 1
    err = capsys.readouterr().err
    assert "lost the connection to the Docker engine" in err and "Traceback" not in err


def test_other_errors_still_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    monkeypatch.setenv("BERTH_ROOT", str(root))
    apps.create(Ctx(paths=Paths(root), out=lambda line: None), "web1")

    def bug(*args: object, **kwargs: object) -> list[object]:
        raise ValueError("a bug")

    monkeypatch.setattr(engine, "containers", bug)
    with pytest.raises(ValueError):
        main.run(["apps:report", "web1"])
