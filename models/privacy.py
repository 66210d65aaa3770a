"""Privacy: notices students consent to, who looked at a minor's contact details, redaction
permits for the append-only tables, and the schemas of erasure, access and retention."""

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import FORBID_EXTRA, Required, utcnow


class PrivacyNotice(SQLModel, table=True):
    """One version of a campaign's privacy notice (zh and en); the newest is the one shown.

    Versions are never changed: an edit is a new version, and a claim names the version its
    student accepted.
    """

    __tablename__ = "privacy_notice"
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    version: int = Field(ge=1)
    text_zh: str = Field(sa_type=Text)
    text_en: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)
    user_id: int | None = Field(default=None, foreign_key="user.id")


class PersonalView(SQLModel, table=True):
    """Someone was shown a minor's address or phone (append-only): who, when, where."""

    __tablename__ = "personal_view"
    __table_args__ = (Index("ix_personal_view_claim", "claim_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    claim_id: int = Field(foreign_key="claim.id")
    fields: str = Field(max_length=40, description="what was shown: 'address,phone'")
    context: str = Field(max_length=20, description="run, driver, claim, export, access")


class RedactionPermit(SQLModel, table=True):
    """Lets one row of an append-only table have its free-text columns redacted, inside the
    erasure's own transaction (which inserts the permit, redacts and deletes the permit)."""

    __tablename__ = "redaction_permit"
    __table_args__ = (UniqueConstraint("table_name", "row_id"),)
    id: int | None = Field(default=None, primary_key=True)
    table_name: str = Field(max_length=40)
    row_id: int


# ---------------------------------------------------------------- API schemas


class NoticeIn(SQLModel):
    """A new version of a campaign's privacy notice."""

    model_config = FORBID_EXTRA
    text_zh: Required = Field(max_length=20000)
    text_en: Required = Field(max_length=20000)


class NoticePublic(SQLModel):
    id: int
    campaign_id: int
    version: int
    text_zh: str
    text_en: str
    created_at: datetime


class NoticeText(SQLModel):
    """The notice a campaign's claim form shows (its current version), for API clients: send
    its `version` as the claim's `notice_version`."""

    version: int
    text_zh: str
    text_en: str
    created_at: datetime


class ErasureIn(SQLModel):
    model_config = FORBID_EXTRA
    reason: Required = Field(
        max_length=500, description="why (a request by the student, say); not their name"
    )


class ErasureResult(SQLModel):
    """What an erasure did: the claims and roster lines it emptied, what it kept and why."""

    claim_ids: list[int]
    roster_entries: int
    files: int = Field(description="label PDFs and outbox mails removed")
    erased: list[str] = Field(description="what was erased, in words")
    kept: list[str] = Field(description="what was kept (as anonymous counts) and why")


class PersonalViewPublic(SQLModel):
    id: int
    at: datetime
    user_id: int | None
    username: str | None
    claim_id: int
    fields: str
    context: str


class PurgeItem(SQLModel):
    campaign_id: int
    campaign: str
    closed_at: datetime
    minors: bool
    claims: int


class PurgeReport(SQLModel):
    dry_run: bool
    claims: list[PurgeItem]
    roster_entries: int
    files: int
