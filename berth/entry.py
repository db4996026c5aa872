"""The `berth` console script. A few read-only local commands whose whole work is one store
read are answered here without loading click or the rest of berth, so `berth apps:list` costs
little more than starting Python. Everything else, and every case this module is not sure
about (--help, any other option, another actor, a store that is missing, unreadable or not
fully migrated, any error), goes to the click CLI, berth.cli.main, which prints the same
output or the error. Over SSH, commands run through `berth ssh-shell` (click) instead.
Only sys and os are imported up front."""

from __future__ import annotations

import os
import sys


def main() -> None:
    code = fast(sys.argv[1:])
    if code is None:
        from berth.cli.main import main as full

        full()
    sys.exit(code)


def fast(argv: list[str]) -> int | None:
    """Run argv here when it is a command this module answers exactly as the click CLI does
    (`[--root DIR] apps:list [--format text|json]`, `version`) and return its exit code; None
    to hand argv to the click CLI (nothing was printed then)."""
    root = None
    if argv[:1] == ["--root"] and len(argv) > 1:
        root, argv = argv[1], argv[2:]
    elif argv[:1] and argv[0].startswith("--root="):
        root, argv = argv[0][len("--root="):], argv[1:]
    if argv == ["version"] and root is None:
        return _print(version_text())
    if root == "" or argv[:1] != ["apps:list"]:
        return None
    fmt = _format(argv[1:])
    if fmt is None or os.environ.get("BERTH_ACTOR", "root") != "root":
        return None  # other actors see only their apps: the click command checks that
    return _apps_list(root, fmt)


def version_text() -> str:
    from berth import __version__

    return f"berth {__version__}\n"


def _format(args: list[str]) -> str | None:
    """The --format value of apps:list, when args are exactly that option (or nothing)."""
    if not args:
        return "text"
    if len(args) == 2 and args[0] == "--format":
        value = args[1]
    elif len(args) == 1 and args[0].startswith("--format="):
        value = args[0][len("--format="):]
    else:
        return None
    return value if value in ("text", "json") else None


def _apps_list(root: str | None, fmt: str) -> int | None:
    import sqlite3

    from berth import appslist, rootdir
    from berth.store import readonly

    base = os.path.abspath(root) if root is not None else rootdir.default_root()
    conn = readonly.open_current(os.path.join(base, rootdir.DB_NAME))
    if conn is None:
        return None
    try:
        text = appslist.render(appslist.read(conn), fmt)
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return _print(text)


def _print(text: str) -> int:
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0
