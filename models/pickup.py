"""QR pickup: who may scan where, the scan log (append-only), and the scan API's schemas."""

from datetime import datetime

from pydantic import AwareDatetime, model_validator
from sqlalchemy import JSON, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.base import FORBID_EXTRA, Id, Required, Stripped, utcnow


class VolunteerPoint(SQLModel, table=True):
    """A volunteer may scan at this pickup point."""

    __tablename__ = "volunteer_point"
    __table_args__ = (UniqueConstraint("user_id", "location_id"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    location_id: int = Field(foreign_key="location.id")


class Scan(SQLModel, table=True):
    """Every scan attempt, successful or not (append-only); nonce makes retries idempotent.

    (user, nonce) is unique except for attempts that reused a nonce with another code: those
    are recorded too, and the nonce still names its first attempt.
    """

    __table_args__ = (
        Index(
            "uq_scan_user_nonce",
            "user_id",
            "nonce",
            unique=True,
            postgresql_where=text("result <> 'nonce_reused'"),
            sqlite_where=text("result <> 'nonce_reused'"),
        ),
        Index("ix_scan_location_received", "location_id", "received_at"),
        Index("ix_scan_received", "received_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    code_hash: str = Field(max_length=64)
    user_id: int = Field(foreign_key="user.id")
    location_id: int | None = Field(default=None, foreign_key="location.id")
    run_stop_id: int | None = Field(default=None, index=True)
    nonce: str = Field(max_length=64)
    scanned_at: datetime
    received_at: datetime = Field(default_factory=utcnow)
    result: str = Field(max_length=30)
    response: dict = Field(default_factory=dict, sa_type=JSON)
    conflict: bool = False


class ScanIn(SQLModel):
    model_config = FORBID_EXTRA
    code: Stripped = Field(
        max_length=500, description="what the scanner read: QR token or short code"
    )
    point_id: Id | None = Field(default=None, description="the pickup point scanned at")
    run_stop_id: Id | None = Field(default=None, description="or the delivery-run stop")
    nonce: Required = Field(max_length=64, description="client id of this attempt, e.g. a UUID")
    scanned_at: AwareDatetime = Field(description="when scanned, ISO 8601 with time zone")
    queued: bool = Field(default=False, description="sent later from the offline queue")
    confirm: bool = Field(
        default=False,
        description="the hand-over after an ID check: the same code and nonce as the scan "
        "that answered check_id",
    )

    @model_validator(mode="after")
    def _one_target(self):  # noqa: ANN202
        if (self.point_id is None) == (self.run_stop_id is None):
            raise ValueError("give exactly one of point_id and run_stop_id")
        return self


class UndoIn(SQLModel):
    model_config = FORBID_EXTRA
    reason: Required = Field(max_length=500)


class PointsIn(SQLModel):
    model_config = FORBID_EXTRA
    location_ids: list[Id] = Field(max_length=500)


class PointsPublic(SQLModel):
    user_id: int
    location_ids: list[int]


class CountersPublic(SQLModel):
    location_id: int
    handed_out_today: int
    still_to_come: int
    timezone: str


class ScanPublic(SQLModel):
    id: int
    claim_id: int | None
    code_hash: str = Field(description="first 12 hex digits of the code's SHA-256")
    user_id: int
    volunteer: str
    location_id: int | None
    location_zh: str
    location_en: str
    run_stop_id: int | None
    nonce: str
    scanned_at: datetime
    received_at: datetime
    result: str
    conflict: bool
    student_zh: str
    student_latin: str
    school_zh: str
    school_en: str
