"""The long-running process: keeps Caddy up, serves git over HTTP, reconciles every few
seconds. One instance per root (a pid-file lock)."""

from __future__ import annotations

import signal
import threading
import time
import traceback

from berth import locks
from berth.context import Ctx
from berth.errors import BerthError
from berth.store import settings

WAKE_SETTLE = 0.2
RESTART_GRACE = 3.0


def _wait_restarts(stop: threading.Event) -> None:
    """Give the engine's restart policy up to RESTART_GRACE seconds to bring crashed
    containers back (it does in about a second), so the pass routes to them instead of
    switching the app to "no web process" and back. A crash loop just waits that long."""
    from berth import engine
    from berth.instance import prefix
    from berth.schedulers import specs

    deadline = time.monotonic() + RESTART_GRACE
    while time.monotonic() < deadline and not stop.is_set():
        try:
            rows = engine.client().api.containers(filters={
                "label": [f"{specs.LABEL_INSTANCE}={prefix()}"], "status": "restarting"})
        except Exception:  # engine away: the pass will say so
            return
        if not rows:
            return
        time.sleep(0.1)


def _listen_parts(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return (host.strip("[]") or "0.0.0.0"), int(port)


def serve(ctx: Ctx, *, interval: float = 5.0, once: bool = False,
          cron_tick: float = 5.0) -> None:
    from berth import reconcile, routing
    from berth.server import githttp, scheduler, shipper, watch

    stop = threading.Event()
    wake = threading.Event()  # a container died: reconcile now, not at the next pass

    def on_term(*_: object) -> None:
        stop.set()
        wake.set()

    signal.signal(signal.SIGTERM, on_term)
    with locks.hold(ctx.paths.run / "server.lock", what="another berth server", timeout=0.1,
                    holder="berth server"):
        (ctx.paths.run / "server.pid").write_text(f"{__import__('os').getpid()}\n")
        http_listen = settings.get(ctx.conn, "http-listen") or "127.0.0.1:7070"
        host, port = _listen_parts(http_listen)
        httpd = githttp.serve(ctx.paths.root, host, port)
        ctx.out(f"berth server: git over HTTP on {http_listen}, router on "
                f"{settings.get(ctx.conn, 'listen')}")
        # app logs to disk; cron entries and one-off cleanup
        ship = None if once else shipper.start_thread(ctx.paths.root, ctx.out)
        sched = None if once else scheduler.start_thread(ctx.paths.root, ctx.out,
                                                         tick=cron_tick)
        watcher = None if once else watch.start_thread(wake, ctx.out)
        try:
            while not stop.is_set():
                try:
                    # the selected router (caddy or nginx): restarted here if it died, and
                    # given every route again at once
                    with routing.locked(ctx):
                        started = routing.ensure_running(ctx)
                    if started:
                        ctx.out(f"berth server: started {routing.router_name(ctx)}")
                        routing.apply(ctx, force=True)
                    reconcile.reconcile(ctx)
                except BerthError as e:
                    ctx.out(f"berth server: {e}")
                except Exception:  # keep supervising whatever one pass hit
                    ctx.out("berth server: reconcile failed:\n" + traceback.format_exc())
                if once:
                    break
                if wake.wait(interval) and not stop.is_set():
                    time.sleep(WAKE_SETTLE)  # let a burst of events end in one pass
                    _wait_restarts(stop)
                wake.clear()
        finally:
            if watcher is not None:
                watcher.shutdown()
            if sched is not None:
                sched.stop.set()
            if ship is not None:
                ship.shutdown()  # saves where each container's log stopped
            httpd.shutdown()
            (ctx.paths.run / "server.pid").unlink(missing_ok=True)


def wait_forever() -> None:
    while True:
        time.sleep(3600)
