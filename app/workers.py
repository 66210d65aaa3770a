"""Several uvicorn worker processes, each with its own listening socket on the same port.

uvicorn's own `--workers` shares one socket among the workers, and whichever wakes first
accepts every connection waiting: 50 keep-alive clients arriving together were split 33 / 17
(measured with `ss` under bench/scans.py), so the busier worker's clients waited twice as long
and set the p99. With SO_REUSEPORT every worker binds the port itself and the kernel spreads new
connections over the workers by a hash of the connection. The supervisor here restarts a
worker that dies and stops them all on SIGINT / SIGTERM. Linux (and BSD) only: elsewhere, and
with one worker, `kitrun serve` uses uvicorn's own.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE  # the exit code uvicorn uses for it

log = logging.getLogger("uvicorn.error")

RESTART_PAUSE = 1.0  # seconds between restarts of a worker that keeps dying
GRACE = 8.0  # seconds the workers get to finish requests in flight when stopping
BACKLOG = 2048  # uvicorn's default


def available() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, *, listen: bool = True) -> socket.socket:
    """A socket bound to host:port that other processes may bind too (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(BACKLOG)
    return sock


def _worker(options: dict[str, Any], host: str, port: int, ready: Any) -> None:  # noqa: ANN401
    parent = os.getppid()
    server = uvicorn.Server(uvicorn.Config(**options))
    # Import and build the app before binding: a socket in the port's group takes its share of
    # new connections at once, and a worker restarted under load must not hold them while it
    # is still importing (a client would wait seconds, or time out).
    server.config.load()

    def watch() -> None:
        while not server.started:  # tell the supervisor once serving
            time.sleep(0.05)
        ready.set()
        while os.getppid() == parent:  # the supervisor was killed: stop as it would have asked
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()
    server.run(sockets=[listening_socket(host, port)])


def run(options: dict[str, Any], *, host: str, port: int, workers: int) -> None:
    """Run `workers` processes serving uvicorn.Config(**options) on host:port until a signal."""
    uvicorn.Config(**options)  # sets up logging here as in the workers
    # Bind once here first (not listening, so it is never given a connection): a port already
    # taken fails now, with a clear error, not in every child.
    probe = listening_socket(host, port, listen=False)
    ctx = mp.get_context("spawn")
    stopping = False

    ready: dict[int | None, Any] = {}  # pid → event set once that worker serves

    def start() -> mp.process.BaseProcess:
        event = ctx.Event()
        proc = ctx.Process(target=_worker, args=(options, host, port, event), daemon=False)
        proc.start()
        ready[proc.pid] = event
        return proc

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    procs = [start() for _ in range(workers)]
    probe.close()  # the workers hold the port now
    log.info("Started %d worker processes on %s:%d (SO_REUSEPORT)", workers, host, port)
    code = 0
    try:
        while not stopping:
            time.sleep(0.2)
            for i, proc in enumerate(procs):
                if proc.is_alive() or stopping:
                    continue
                if not ready.pop(proc.pid).is_set():
                    # the app cannot start (configuration, database, code): say so and stop
                    log.error("worker %s could not start (%s); stopping", proc.pid, proc.exitcode)
                    stopping, code = True, STARTUP_FAILURE
                    break
                log.warning("worker %s exited (%s); starting another", proc.pid, proc.exitcode)
                time.sleep(RESTART_PAUSE)
                procs[i] = start()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn finishes requests in flight, then exits
        deadline = time.monotonic() + GRACE
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
    if code:
        raise SystemExit(code)
