"""A database session per request, and the request's `Database` for the domains' hot paths."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.core.db import Database


def database(request: Request) -> Database:
    """The app's engine, settings and event-loop pool, as the domains take them."""
    state = request.app.state
    return Database(state.engine, state.settings, state.async_pool)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request.

    An async dependency on purpose: its close (a ROLLBACK, never a wait) runs on the event loop,
    so a finished request gives its connection back even when every worker thread is busy
    waiting for one; a sync teardown would need a free thread and could deadlock under load.
    """
    session = request_session(request)
    try:
        yield session
    finally:
        session.close()


def request_session(request: Request) -> Session:
    """A new session for a request (the caller closes it: `with request_session(request)`)."""
    return database(request).session()


# scope="function": the session closes as soon as the endpoint returns, before the response is
# serialised (which may need a worker thread), so a connection never waits on a busy thread pool.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
