"""The git pre-receive hook: decide whether a push deploys, then run the pipeline. Its output
reaches the pushing client live; a non-zero exit rejects the push."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from berth import names
from berth.context import Ctx
from berth.errors import BerthError
from berth.paths import Paths
from berth.store import apps as store_apps
from berth.store.db import transaction

ZERO = "0" * 40
DEFAULT_BRANCHES = ("main", "master")


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def plan(updates: list[tuple[str, str, str]], deploy_branch: str | None
         ) -> tuple[str | None, str | None, list[str]]:
    """(branch to deploy, sha, messages) for a push's ref updates; raises on a refused one."""
    messages = []
    target: tuple[str, str] | None = None
    for _old, new, ref in updates:
        if not ref.startswith("refs/heads/"):
            messages.append(f"-----> {ref} accepted (not a branch; nothing to deploy)")
            continue
        branch = ref.removeprefix("refs/heads/")
        wanted = deploy_branch or (branch if branch in DEFAULT_BRANCHES else None)
        if new == ZERO:
            if branch == wanted:
                raise BerthError(f"refusing to delete the deploy branch {branch!r}")
            messages.append(f"-----> {branch} deleted")
            continue
        if branch == wanted and target is None:
            target = (branch, new)
            deploy_branch = branch
        else:
            messages.append(f"-----> Pushed {branch}; not deploying it "
                            f"(the deploy branch is {deploy_branch or 'main or master'})")
    return (target[0], target[1], messages) if target else (None, None, messages)


def pre_receive(ctx: Ctx, app_name: str, stdin: str) -> int:
    from berth.deploy import deploy_push

    updates = []
    for line in stdin.splitlines():
        parts = line.split()
        if len(parts) == 3:
            updates.append((parts[0], parts[1], parts[2]))
    app = store_apps.get(ctx.conn, app_name)
    configured = store_apps.get_setting(ctx.conn, app, "deploy-branch")
    branch, sha, messages = plan(updates, configured)
    for m in messages:
        ctx.out(m)
    if branch is None or sha is None:
        return 0
    if configured is None:
        with transaction(ctx.conn):
            store_apps.set_setting(ctx.conn, app, "deploy-branch", branch)
    old = next(o for o, n, r in updates if r == f"refs/heads/{branch}" and n == sha)
    deploy_push(ctx, app_name, sha, expect=(branch, old))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="berth-hook")
    parser.add_argument("--root", required=True)
    parser.add_argument("hook", choices=["pre-receive"])
    args = parser.parse_args(argv)
    os.environ["BERTH_ROOT"] = args.root
    repo = Path(os.environ.get("GIT_DIR", ".")).resolve()
    ctx = Ctx(paths=Paths(Path(args.root)), actor=os.environ.get("BERTH_ACTOR", "root"),
              out=_out)
    try:
        app = names.app_name(repo.name.removesuffix(".git"))
        return pre_receive(ctx, app, sys.stdin.read())
    except BerthError as e:
        _out(f" !     {e}")
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug: say so plainly, keep the traceback for the log
        import traceback

        from berth.engine import failure

        if (message := failure(e)) is not None:
            _out(f" !     {message}; the previous release keeps serving")
            return 1
        traceback.print_exc()
        _out(f" !     internal error ({e.__class__.__name__}: {e}); the previous release "
             "keeps serving")
        return 1


if __name__ == "__main__":
    sys.exit(main())
