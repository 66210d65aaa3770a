"""Capacity per worker process: how many requests run at once, threads and connections.

Sync endpoints run in a thread pool, and FastAPI serialises their responses in the same pool
before a request's dependencies (its database session) are closed. If every thread waited for a
database connection held by requests that in turn wait for a thread, the worker would stall. So
requests beyond the limit wait here, on the event loop, before taking a thread or a connection;
the thread pool and the connection pools are sized above the limit. This bounds resources; it is
not what keeps data correct (the database does that).
"""

from __future__ import annotations

import asyncio

import anyio.to_thread

# Requests handled at once per worker process. More than a few only makes threads take turns
# holding the GIL (measured with bench/scans.py: 8 in flight gave 1.5x the scans per second of
# 32 on two cores, and a lower p99); the rest wait on the event loop, which costs nothing.
IN_FLIGHT = 8
THREADS = 48  # > IN_FLIGHT: a finishing request always finds a thread for its response
CONNECTIONS = 32  # >= IN_FLIGHT: a request never waits for a database connection


class CapacityLimit:
    """Pure ASGI middleware: at most IN_FLIGHT HTTP requests inside the app at a time."""

    def __init__(self, app, limit: int = IN_FLIGHT) -> None:  # noqa: ANN001
        self.app = app
        self.limit = limit
        self._sem: asyncio.Semaphore | None = None

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            # Static files take no thread or connection; a slow phone downloading one for seconds
            # must not hold a place that a scan waits for.
            await self.app(scope, receive, send)
            return
        if self._sem is None:  # created inside the running loop
            self._sem = asyncio.Semaphore(self.limit)
            anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        async with self._sem:
            await self.app(scope, receive, send)
