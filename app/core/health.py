"""Whether the database answers (/healthz), and whether this instance is ready (/readyz)."""

from __future__ import annotations

import functools

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session

from app.core import faults


def ping(*, session: Session) -> str | None:
    """The database's dialect name when it answers `SELECT 1`, None when it cannot be reached."""
    try:
        session.execute(text("SELECT 1"))
        return session.get_bind().dialect.name
    except SQLAlchemyError:
        return None


@functools.cache
def migration_heads() -> frozenset[str]:
    """The head revisions of the migration scripts (read once per process)."""
    from alembic.script import ScriptDirectory

    from app.migrate import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def readiness(*, engine: Engine) -> dict[str, str]:
    """What keeps this instance from serving, by check (empty when it is ready): the
    database answers, and its schema is at the migrations' head."""
    try:
        with engine.connect() as conn:
            current = frozenset(
                conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            )
    except DBAPIError as exc:
        if faults.connection_lost(exc):
            return {"database": "unreachable"}
        return {"migrations": "no alembic_version table: run `kitrun migrate`"}
    except SQLAlchemyError:
        return {"database": "unreachable"}
    heads = migration_heads()
    if current != heads:
        found = ", ".join(sorted(current)) or "none"
        return {
            "migrations": f"at {found}, head is {', '.join(sorted(heads))}: run `kitrun migrate`"
        }
    return {}
