"""Whether the database answers."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session


def ping(*, session: Session) -> str | None:
    """The database's dialect name when it answers `SELECT 1`, None when it cannot be reached."""
    try:
        session.execute(text("SELECT 1"))
        return session.get_bind().dialect.name
    except SQLAlchemyError:
        return None
