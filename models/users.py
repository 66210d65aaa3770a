"""Staff accounts, their sessions and API tokens, and rate-limit counters."""

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlalchemy import CheckConstraint, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import utcnow


class Role(StrEnum):
    diplomat = "diplomat"
    volunteer = "volunteer"
    driver = "driver"  # sees and closes the stops of the vehicles assigned to them


class User(SQLModel, table=True):
    __table_args__ = (CheckConstraint("role IN ('diplomat', 'volunteer', 'driver')", name="role"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, sa_column_kwargs={"unique": True}, index=False)
    display_name: str = Field(default="", max_length=200)
    role: str = Field(sa_column=Column(String(20), nullable=False))
    password_hash: str = Field(max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class UserPublic(SQLModel):
    id: int
    username: str
    display_name: str
    role: str
    active: bool


class UserToken(SQLModel, table=True):
    """A login session (cookie) or an API bearer token; only its SHA-256 is stored."""

    __tablename__ = "user_token"
    __table_args__ = (CheckConstraint("kind IN ('session', 'api')", name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    kind: str = Field(max_length=10)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None


class RateBucket(SQLModel, table=True):
    """A fixed-window counter; the upsert on (key, window_start) makes it atomic across workers."""

    __tablename__ = "rate_bucket"
    __table_args__ = (UniqueConstraint("key", "window_start"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    window_start: int = Field(index=True)
    count: int = 0


class LoginThrottle(SQLModel, table=True):
    """Log-in attempts of one key (an account from an address, or an address): counted before
    the password is checked, in the statement that decides whether the attempt may proceed
    (app/accounts/throttle.py); `not_before` (epoch seconds) grows exponentially."""

    __tablename__ = "login_throttle"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_login_throttle_since", "since"),
    )

    key: str = Field(max_length=200, primary_key=True)
    attempts: int = 0
    not_before: int = 0
    since: int = Field(default=0, description="epoch seconds: when this count began")


class TokenRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class TokenResponse(SQLModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
