"""Demo data for a fresh database: accounts, and whatever each capability seeds."""

from __future__ import annotations

import secrets

from sqlmodel import Session, select

from app.services import accounts
from models.users import User


def seed(*, session: Session) -> list[tuple[str, str, str]]:
    """Seed when there are no users yet; return (username, password, role) of new accounts."""
    if session.exec(select(User).limit(1)).first() is not None:
        return []
    created = []
    for username, role, name in (
        ("diplomat", "diplomat", "领事 Consul Demo"),
        ("volunteer", "volunteer", "志愿者 Volunteer Demo"),
    ):
        password = secrets.token_urlsafe(9)
        accounts.create_user(
            session=session, username=username, password=password, role=role, display_name=name
        )
        created.append((username, password, role))
    return created
