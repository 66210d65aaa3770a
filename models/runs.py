"""Delivery runs: vehicles, stops (one per claim), and their plan."""

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import utcnow


class Run(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'planned', 'dispatched', 'complete')", name="status"),
        Index("ix_run_campaign_status", "campaign_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    date: date
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")
    depot_location_id: int = Field(foreign_key="location.id")
    service_s: int = 300
    status: str = Field(default="draft", sa_type=String(12))
    cost: int | None = None
    distance_m: int | None = None
    warnings: list = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    planned_at: datetime | None = None
    dispatched_at: datetime | None = None
    completed_at: datetime | None = None


class RunVehicle(SQLModel, table=True):
    __tablename__ = "run_vehicle"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("shift_end_s > shift_start_s", name="shift"),
    )
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    name: str = Field(max_length=100)
    driver: str = Field(default="", max_length=100)
    capacity: int
    shift_start_s: int = Field(description="seconds after midnight, local time")
    shift_end_s: int
    max_stops: int | None = None
    distance_m: int | None = None
    duration_s: int | None = None


class RunStop(SQLModel, table=True):
    __tablename__ = "run_stop"
    __table_args__ = (
        UniqueConstraint("run_id", "claim_id"),
        CheckConstraint(
            "status IN ('planned', 'unassigned', 'delivered', 'failed')", name="status"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    claim_id: int = Field(foreign_key="claim.id")
    vehicle_id: int | None = Field(default=None, foreign_key="run_vehicle.id")
    seq: int | None = None
    locked: bool = False
    planned_arrival_s: int | None = None
    cumulative_m: int | None = None
    tw_start_s: int | None = None
    tw_end_s: int | None = None
    status: str = Field(default="planned", sa_type=String(12))
    unassigned_reason: str | None = Field(default=None, max_length=40)
    fail_reason: str | None = Field(default=None, max_length=40)
    closed_at: datetime | None = None
