"""Database engine and sessions: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import psycopg
from psycopg.rows import namedtuple_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import event, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.sql import Executable
from sqlmodel import Session, create_engine

from app.core.capacity import CONNECTIONS, IN_FLIGHT
from app.core.config import Settings

# Whether transactions begun in this context may write (SQLite only; PostgreSQL ignores it).
write_intent: ContextVar[bool] = ContextVar("kitrun_write_intent", default=True)


def make_engine(settings: Settings) -> Engine:
    """Create the engine for the configured URL with the pragmas that keep SQLite honest."""
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and ":memory:" not in url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        # Enough connections for every request in flight (app/core/capacity.py); writers then
        # queue inside SQLite (busy timeout), never for a connection.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 60},
            pool_size=CONNECTIONS,
            max_overflow=0,
            pool_timeout=60,
        )
        _sqlite_pragmas(engine)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=CONNECTIONS // 2, max_overflow=CONNECTIONS // 2
    )


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA synchronous=NORMAL")
        # erased personal data is overwritten in the file, not left in free pages
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # IMMEDIATE takes the write lock up front: a read-then-write transaction can then never
        # fail half-way with "database is locked" when another process writes; it waits instead.
        # Read-only requests (GET) begin deferred so they never queue behind writers.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


# A one-row table to hang outer joins on: one statement reads several optional rows at once
# (each part comes back None when its row is absent).
ONE_ROW = select(literal(1).label("one")).subquery("one")


def autocommit_reads(session: Session) -> None:
    """Run what this session does next, until its next commit, one statement at a time.

    On PostgreSQL the connection is taken in autocommit: a read, or a single-statement write
    such as a rate-limit counter, is one round trip with no BEGIN or COMMIT, and any row lock it
    takes is released when the statement ends. Call it only before the session's transaction
    has begun; what follows the next commit is transactional again. SQLite is left as it is.
    """
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


class Prepared:
    """A statement compiled once for PostgreSQL, run as a server-side prepared statement on the
    session's own psycopg connection (`execute`, `one`) or on one of the event-loop pool (`first`).

    For the hot paths (the scan and claim endpoints, the rate limits): it skips SQLAlchemy's
    per-execution work (statement cache lookup, parameter and result processing), about a third
    of such a request's database time in the server. Parameters go to psycopg as they are
    (ints, str, aware datetimes); rows come back as named tuples, JSON already decoded. Errors
    are psycopg's own.
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        compiled = statement.compile(dialect=postgresql.psycopg.dialect())
        self.sql = str(compiled)
        # values the statement binds itself (literals in its conditions)
        self.constants = compiled.construct_params(_check=False)

    def execute(self, session: Session, params: dict) -> psycopg.Cursor:
        conn = session.connection().connection.driver_connection
        cursor = conn.cursor(row_factory=namedtuple_row)
        return cursor.execute(self.sql, {**self.constants, **params}, prepare=True)

    def one(self, session: Session, params: dict):  # noqa: ANN201
        """The statement's one row: prepared on PostgreSQL, through the session elsewhere."""
        if session.get_bind().dialect.name == "postgresql":
            return self.execute(session, params).fetchone()
        return session.execute(self.statement, params).one()

    async def first(self, conn: psycopg.AsyncConnection, params: dict):  # noqa: ANN201
        """The first row (a named tuple) on an async connection of the event-loop pool."""
        cursor = conn.cursor(row_factory=namedtuple_row)
        await cursor.execute(self.sql, {**self.constants, **params}, prepare=True)
        return await cursor.fetchone()


# Seconds a request of the event loop waits for a pool connection. CapacityLimit admits no more
# requests than the pool has connections, so a wait this long means the database is not there.
POOL_WAIT = 5


async def open_async_pool(settings: Settings) -> AsyncConnectionPool | None:
    """PostgreSQL only: a pool of autocommit connections for the event loop, used by the scan
    and claim endpoints' fast paths (no worker thread, no session); None on SQLite.

    No check on checkout: a connection that broke (a database restart) fails its first
    statement, the caller falls back to the session path (whose pool pings), and the pool drops
    the broken connection when it is returned; the others idle in the pool are checked then
    (`app.core.faults.sweep`). Waiting for a connection gives up after POOL_WAIT seconds (the
    database is then unreachable: the session path answers, or 503), not psycopg_pool's 30.
    """
    if settings.is_sqlite:
        return None
    url = make_url(settings.sqlalchemy_url).set(drivername="postgresql")
    pool = AsyncConnectionPool(
        url.render_as_string(hide_password=False),
        min_size=1,
        max_size=IN_FLIGHT,  # at most one per request the worker admits (app/core/capacity.py)
        kwargs={"autocommit": True},
        timeout=POOL_WAIT,
        open=False,
        name="kitrun-event-loop",
    )
    await pool.open(wait=False)
    return pool


def in_autocommit(session: Session) -> bool:
    """Whether the session's current connection runs each statement as its own transaction."""
    if not session.in_transaction():
        return False
    return session.connection().get_execution_options().get("isolation_level") == "AUTOCOMMIT"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session for scripts and the CLI; the caller commits."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@dataclass(frozen=True)
class Database:
    """What work reaches the database with: the engine, the settings and, on PostgreSQL, the
    event-loop pool (None on SQLite, or before the app's lifespan opened it)."""

    engine: Engine
    settings: Settings
    pool: AsyncConnectionPool | None = None

    def session(self) -> Session:
        """A new session (the caller closes it: `with db.session() as session`)."""
        session = Session(self.engine, expire_on_commit=False)
        # services reached through hooks (e.g. waitlist mail) find the settings here
        session.info["kitrun_settings"] = self.settings
        return session
