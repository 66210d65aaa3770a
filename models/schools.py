"""Schools, their rosters of enrolled students, and roster import jobs."""

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import FORBID_EXTRA, Required, Stripped, utcnow


class SchoolBase(SQLModel):
    name_zh: Required = Field(max_length=200)
    name_en: Required = Field(max_length=200)
    city: Stripped = Field(default="", max_length=120)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    email_domains: Stripped = Field(
        default="", max_length=500, description="comma-separated, e.g. 'etu.univ.fr, univ.fr'"
    )
    in_district: bool = True


class School(SchoolBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class SchoolCreate(SchoolBase):
    model_config = FORBID_EXTRA


class SchoolUpdate(SQLModel):
    """Fields to change; an omitted field keeps its value, null clears only lat and lon."""

    model_config = FORBID_EXTRA
    # Not nullable: the default None only marks "not sent" (an explicit null is refused).
    name_zh: Required = Field(default=None, max_length=200)
    name_en: Required = Field(default=None, max_length=200)
    city: Stripped = Field(default=None, max_length=120)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    email_domains: Stripped = Field(default=None, max_length=500)
    in_district: bool = None


class SchoolPublic(SchoolBase):
    # An answer shows what is stored, as it is: a name stored before names had to be visible
    # (a tab, say) must not turn every list into a 500.
    name_zh: str
    name_en: str
    id: int
    roster_size: int = 0


class RosterEntry(SQLModel, table=True):
    """One enrolled student of a school, as the school's export lists them."""

    __tablename__ = "roster_entry"
    __table_args__ = (
        UniqueConstraint("school_id", "student_number"),
        Index("ix_roster_entry_school_email", "school_id", "email"),
    )
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id")
    student_number: str = Field(max_length=40)
    name: str = Field(max_length=200)
    name_norm: str = Field(max_length=200, description="lower-case, no spaces or punctuation")
    birth_date: date | None = Field(description="None once erased")
    email: str | None = Field(default=None, max_length=254)


class RosterImport(SQLModel, table=True):
    """A roster upload: all or nothing, with progress for the page."""

    __tablename__ = "roster_import"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name="status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    filename: str = Field(default="", max_length=255)
    status: str = Field(default="pending", sa_type=String(10))
    total_lines: int = 0
    processed_lines: int = 0
    imported: int = 0
    errors: list = Field(
        default_factory=list, sa_type=JSON, description="the first 1,000 errors, by line"
    )
    bad_lines: int = Field(
        default=0, sa_column_kwargs={"server_default": "0"}, description="all of them"
    )
    message: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class RosterImportPublic(SQLModel):
    id: int
    school_id: int
    filename: str
    status: str
    total_lines: int
    processed_lines: int
    imported: int
    errors: list = Field(description="the first 1,000 errors (line, field, reason)")
    bad_lines: int = Field(default=0, description="how many lines were bad in all")
    message: str
    created_at: datetime
    finished_at: datetime | None


class RosterEntryPublic(SQLModel):
    id: int
    school_id: int
    student_number: str
    name: str
    birth_date: date | None
    email: str | None


class SchoolPublicSearch(SQLModel):
    """What the public claim form may see of a school."""

    id: int
    name_zh: str
    name_en: str
    city: str
