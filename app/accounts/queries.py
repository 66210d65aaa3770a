"""Read side of staff accounts: the users, listed for filters and forms."""

from __future__ import annotations

from sqlmodel import Session, select

from models.users import User


def users(*, session: Session) -> list[User]:
    """Every user, by username."""
    return list(session.exec(select(User).order_by(User.username)).all())
