"""docs/plugins.md is generated from the hook specs: it must document every hook and match
what `python -m berth.hooks.docs --write` renders now."""

from __future__ import annotations

from berth.hooks import docs, manager


def test_every_hook_is_documented() -> None:
    text = docs.DOC.read_text()
    for hook in manager.hook_names():
        assert f"### `{hook}`" in text, f"{hook} is missing from docs/plugins.md"


def test_plugins_md_is_current() -> None:
    assert docs.DOC.read_text() == docs.render(), \
        "docs/plugins.md is stale: run `python -m berth.hooks.docs --write`"


def test_reference_shows_shell_argv() -> None:
    ref = docs.reference()
    assert "Shell: `hooks/pre_deploy APP VERSION IMAGE`" in ref
    assert "Shell: `hooks/post_config_update APP KEYS...`" in ref
    assert "Shell: `hooks/router_config APP ROUTE_JSON`" in ref
    assert "### `cli_commands`" in ref and "Python only." in ref
