"""`kitrun serve`: gunicorn managing uvicorn workers, each with its own socket on the port.

gunicorn's master forks the workers, replaces any that dies (however often, at once, from the
already built app), gives them `GRACE` seconds to finish requests in flight on SIGTERM/SIGINT
and stops only when asked or when a fresh worker cannot boot (exit 3). `reuse_port` makes each
worker bind the port itself with SO_REUSEPORT, so the kernel spreads new connections evenly over
them: with one shared socket whichever worker wakes first accepts every connection waiting
(50 keep-alive clients arriving together were split 33 / 17). The app is built once in the
master before forking (`preload_app`: imports, templates, catalogs and fonts warm in every
worker, and a worker replaced under load binds the port only when it can serve at once); each
worker opens its own database connections in its lifespan.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from uvicorn_worker import UvicornWorker

GRACE = 8  # seconds the workers get to finish requests in flight when stopping
BACKLOG = 2048


class Worker(UvicornWorker):
    # X-Forwarded-For is read by the app itself, trusting only KITRUN_TRUSTED_PROXIES
    # (app/main.py), so the same rule holds under any server; the access log stays off: our
    # middleware logs without the paths that may carry tokens.
    CONFIG_KWARGS = {"loop": "auto", "http": "auto", "proxy_headers": False, "access_log": False}

    def init_process(self) -> None:
        threading.Thread(target=self._follow_master, daemon=True).start()
        super().init_process()

    def _follow_master(self) -> None:
        """A master killed with -9 cannot stop its workers: each stops itself (gracefully),
        rather than serving on, orphaned, beside the workers of a restarted service."""
        while os.getppid() == self.ppid:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)


class Logging(Logger):
    """gunicorn's logs (and uvicorn's, which write through them in a worker) in our format,
    with the request id (KITRUN_LOG_FORMAT: app/core/logs.py)."""

    def setup(self, cfg) -> None:  # noqa: ANN001
        super().setup(cfg)
        from app.core import logs
        from app.core.config import get_settings

        handlers = self.error_log.handlers + self.access_log.handlers
        logs.style(handlers, get_settings().log_format)


def _child_exit(server, worker) -> None:  # noqa: ANN001
    """A worker exited: its metric files are marked (app/core/metrics.py)."""
    from app.core import metrics

    metrics.process_dead(worker.pid)


class Server(BaseApplication):
    """gunicorn run from our own command, with our options and no command line of its own."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # noqa: ANN201
        from app.core import metrics
        from app.core.config import get_settings
        from app.main import create_app, warm_up

        # before the fork: the workers count into files of one directory, emptied here
        metrics.use_directory(metrics.directory(get_settings()))
        app = create_app()
        warm_up()  # in the master: every worker forked from it starts warm
        return app


def options(*, host: str, port: int, workers: int, log_level: str) -> dict[str, Any]:
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "worker_class": f"{Worker.__module__}.{Worker.__qualname__}",
        "reuse_port": True,
        "preload_app": True,
        "backlog": BACKLOG,
        "graceful_timeout": GRACE,
        "timeout": 60,  # a worker whose loop is stuck this long is killed and replaced
        "keepalive": 5,
        "loglevel": log_level.lower(),
        "accesslog": None,
        "errorlog": "-",
        "proc_name": "kitrun",
        "control_socket_disable": True,  # no `gunicornc`: signals are the interface
        "logger_class": f"{Logging.__module__}.{Logging.__qualname__}",
        "child_exit": _child_exit,
    }


def run(*, host: str, port: int, workers: int, log_level: str) -> None:
    Server(options(host=host, port=port, workers=workers, log_level=log_level)).run()
