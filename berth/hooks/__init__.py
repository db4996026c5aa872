"""berth's plugin hooks (pluggy). Plugins mark their functions with ``@hookimpl``:

    from berth.hooks import hookimpl

    @hookimpl
    def post_deploy(ctx, app, version, url):
        ...

specs.py lists every hook; manager.py loads plugins (built-ins, entry points of the group
``berth.plugins``, installed Python modules, $BERTH_PLUGINS, and shell hook scripts under
ROOT/plugins/NAME/hooks/) and calls them.
"""

from __future__ import annotations

import pluggy

PROJECT = "berth"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["PROJECT", "hookimpl", "hookspec"]
