"""Shared metadata conventions and column helpers."""

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
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


# ---------------------------------------------------------------- bounded input

# Every integer column is an SQL INTEGER: a wider Python int fails in the driver (an
# OverflowError on SQLite, an error on PostgreSQL), so input is checked against this range.
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
"""A row id, in a path, a query or a body."""
Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
"""Any other integer stored in an INTEGER column."""
Offset = Annotated[int, Field(ge=0, le=INT32_MAX)]
"""How many rows of a list to skip."""

# Refuse input fields the model does not have (a misspelt field is an error, not ignored).
FORBID_EXTRA = ConfigDict(extra="forbid")

_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}  # controls, format characters (U+200B), spaces


def _visible(value: str) -> str:
    if not any(unicodedata.category(ch) not in _INVISIBLE for ch in value):
        raise ValueError("must not be blank")
    return value


Stripped = Annotated[str, StringConstraints(strip_whitespace=True)]
"""Text without leading or trailing white space (tabs, ideographic spaces U+3000 too)."""
Required = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_visible)
]
"""Stripped text with at least one visible character."""


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a filtered list."""

    items: list[T]
    total: int
    limit: int
    offset: int


# ---------------------------------------------------------------- the one error shape


class ErrorInfo(BaseModel):
    """What went wrong: a stable code for programs, a message for people, and the details."""

    code: str = Field(description="stable, e.g. not_found, validation_error, rate_limited")
    message: str = Field(description="in the caller's language (Accept-Language)")
    details: Any = Field(
        default=None, description="validation: a list of {field, message}; else per code"
    )
    request_id: str | None = Field(
        default=None, description="the request's id (X-Request-ID), as in the server's logs"
    )


class ErrorBody(BaseModel):
    """Every error answer of the API (4xx, 5xx): `{"error": {"code", "message", "details",
    "request_id"}}`."""

    error: ErrorInfo
