"""Shared metadata conventions and column helpers."""

from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel
from sqlmodel import SQLModel

# Constraint names the same on SQLite and PostgreSQL, so migrations can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Aware UTC now (SQLModel stores aware datetimes and returns them in UTC)."""
    return datetime.now(UTC)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a filtered list."""

    items: list[T]
    total: int
    limit: int
    offset: int
