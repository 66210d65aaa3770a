"""Print jobs: label PDFs rendered in the background, with progress for the page and the API."""

from datetime import datetime
from typing import Literal

from sqlalchemy import JSON, CheckConstraint, String
from sqlmodel import Field, SQLModel

from models.base import FORBID_EXTRA, Id, Int32, utcnow


class PrintJob(SQLModel, table=True):
    """A large print (labels): its selection, progress and the file it produced."""

    __tablename__ = "print_job"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("kind IN ('labels')", name="kind"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    kind: str = Field(default="labels", sa_type=String(10))
    params: dict = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="pending", sa_type=String(10))
    total: int = 0
    done: int = 0
    message: str = Field(default="", max_length=500)
    file_path: str | None = Field(
        default=None, max_length=500, description="its PDF's key in the file store"
    )
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class LabelSelection(SQLModel):
    """Which claims to print labels for (all filters combine)."""

    model_config = FORBID_EXTRA
    campaign_id: Id | None = None
    school_id: Id | None = None
    location_id: Id | None = Field(default=None, description="pickup point holding the kit")
    run_id: Id | None = Field(default=None, description="claims with a stop on this run")
    status: str | None = Field(
        default="allocated,ready",
        max_length=100,
        description="comma-separated statuses; printed claims stay selectable for a reprint",
    )


class LabelsIn(LabelSelection):
    """A label print: the selection, the sheet format and the first free position."""

    format: str = Field(default="L7160", max_length=20, description="L7160, L7163, 5160, …")
    start_position: Int32 = Field(default=1, description="first free label on the first sheet")


class PrintJobPublic(SQLModel):
    id: int
    kind: str
    status: Literal["pending", "running", "done", "failed"]
    total: int
    done: int
    message: str
    params: dict
    created_at: datetime
    finished_at: datetime | None
    file_url: str | None = None
