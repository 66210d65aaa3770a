"""Database faults: a lost connection (retried, or answered 503) told apart from real errors.

A connection is lost when the server ended it (`pg_terminate_backend`, a restart, a failover),
the network dropped it or it could not be opened; a pool that has no connection to give within
its timeout makes the database unavailable too. Such a request did nothing wrong: where it is
idempotent (a scan by its nonce, a claim by its token) it is run again once on a fresh
connection, otherwise it is answered 503 with `Retry-After` (app/main.py), never 500.
A constraint violation, a syntax error, a statement timeout are real errors and stay so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import exc as sa_exc

log = logging.getLogger("kitrun.db")

T = TypeVar("T")

# Seconds a client should wait before trying again after a 503 for an unavailable database.
RETRY_AFTER = 2

# SQLSTATEs of a connection the server ended or would not open: class 08 (connection
# exception), admin/crash shutdown, cannot connect now, too many connections.
_LOST_STATES = ("57P01", "57P02", "57P03", "53300")


def _psycopg_lost(exc: BaseException) -> bool:
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
        state = exc.sqlstate
        # no SQLSTATE: raised by the client itself (server closed the connection, connection
        # refused, "the connection is closed")
        return state is None or state.startswith("08") or state in _LOST_STATES
    return False


def connection_lost(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) is a lost or unobtainable database connection."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, sa_exc.TimeoutError):  # the engine's pool had no connection to give
            return True
        if isinstance(exc, sa_exc.DBAPIError):
            if exc.connection_invalidated:
                return True
            # SQLite and other drivers: only what SQLAlchemy itself judged a disconnect
            return _psycopg_lost(exc.orig)
        if _psycopg_lost(exc):
            return True
        exc = exc.__cause__
        seen += 1
    return False


def retry_once(attempt: Callable[[bool], T]) -> T:
    """`attempt(False)`, and once more as `attempt(True)` on a fresh session when its
    connection was lost. Only for work that is idempotent (the caller says why)."""
    try:
        return attempt(False)
    except Exception as exc:
        if not connection_lost(exc):
            raise
        log.warning("database connection lost (%s); retrying once", type(exc).__name__)
    return attempt(True)


_sweeping: set[int] = set()


def sweep(pool: AsyncConnectionPool | None) -> None:
    """After a lost connection on the event-loop pool: check its idle connections in the
    background (the pool drops the broken ones), so the next requests do not each find one.
    At most one sweep per pool at a time; the success path never calls it."""
    if pool is None or id(pool) in _sweeping:
        return
    _sweeping.add(id(pool))

    async def run() -> None:
        try:
            await pool.check()
        except Exception as exc:  # noqa: BLE001 (a sweep must never fail a request)
            log.info("pool check after a lost connection failed: %s", type(exc).__name__)
        finally:
            _sweeping.discard(id(pool))

    task = asyncio.get_running_loop().create_task(run())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


_tasks: set[asyncio.Task] = set()
