"""API schemas for QR pickup (the tables are in models/claims.py)."""

from datetime import datetime

from pydantic import AwareDatetime, model_validator
from sqlmodel import Field, SQLModel


class ScanIn(SQLModel):
    code: str = Field(max_length=500, description="what the scanner read: QR token or short code")
    point_id: int | None = Field(default=None, description="the pickup point scanned at")
    run_stop_id: int | None = Field(default=None, description="or the delivery-run stop")
    nonce: str = Field(
        min_length=1, max_length=64, description="client id of this attempt, e.g. a UUID"
    )
    scanned_at: AwareDatetime = Field(description="when scanned, ISO 8601 with time zone")
    queued: bool = Field(default=False, description="sent later from the offline queue")

    @model_validator(mode="after")
    def _one_target(self):  # noqa: ANN202
        if (self.point_id is None) == (self.run_stop_id is None):
            raise ValueError("give exactly one of point_id and run_stop_id")
        return self


class UndoIn(SQLModel):
    reason: str = Field(min_length=1, max_length=500)


class PointsIn(SQLModel):
    location_ids: list[int] = Field(max_length=500)


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
