"""Delivery runs: vehicles, stops (one per claim), and their plan."""

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import FORBID_EXTRA, INT32_MAX, Id, Int32, Required, Stripped, utcnow


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
    # The staff account that drives it: only they (and diplomats) see and close its stops.
    driver_user_id: int | None = Field(
        default=None, foreign_key="user.id", index=True, ondelete="SET NULL"
    )
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


# ---------------------------------------------------------------- API schemas


class RunCreate(SQLModel):
    model_config = FORBID_EXTRA
    name: Required = Field(max_length=200)
    date: date
    depot_location_id: Id
    campaign_id: Id | None = None
    service_s: int = Field(default=300, ge=0, le=4 * 3600, description="time at each stop")


class VehicleIn(SQLModel):
    model_config = FORBID_EXTRA
    name: Required = Field(max_length=100)
    driver: Stripped = Field(default="", max_length=100)
    driver_user_id: Id | None = Field(
        default=None, description="the driver's account (role driver): only they see its stops"
    )
    capacity: Int32 = Field(description="kits the car holds; must be > 0")
    shift_start_s: Int32 = Field(description="seconds after midnight, local time (08:00 = 28800)")
    shift_end_s: Int32 = Field(description="seconds after midnight; after shift_start_s")
    max_stops: Int32 | None = None


class SelectIn(SQLModel):
    """Claims to add: by id, or by filters (delivery claims allocated/ready at the depot)."""

    model_config = FORBID_EXTRA
    claim_ids: list[Id] | None = Field(default=None, max_length=2000)
    school_id: Id | None = None
    minors_only: bool = False
    quarantine_only: bool = False
    priority: Int32 | None = Field(default=None, description="0 minors, 1 others")
    limit: int = Field(default=500, ge=1, le=2000)


class VehicleDriverIn(SQLModel):
    """Who drives a vehicle: the name on the route sheet and the account that sees its stops
    (null: no driver account; only diplomats see them)."""

    model_config = FORBID_EXTRA
    driver: Stripped = Field(default="", max_length=100)
    driver_user_id: Id | None = None


class MoveIn(SQLModel):
    model_config = FORBID_EXTRA
    vehicle_id: Id
    position: int = Field(ge=1, le=INT32_MAX, description="1 = first stop of the route")
    lock: bool = False


class LockIn(SQLModel):
    model_config = FORBID_EXTRA
    locked: bool = True


class WindowIn(SQLModel):
    """When the student is home, local time HH:MM; null clears that side."""

    model_config = FORBID_EXTRA
    start: str | None = Field(default=None, max_length=5)
    end: str | None = Field(default=None, max_length=5)


class PinIn(SQLModel):
    """Where a stop's address is: the position a diplomat placed on the map (WGS 84)."""

    model_config = FORBID_EXTRA
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class FailIn(SQLModel):
    model_config = FORBID_EXTRA
    reason: str = Field(max_length=40, description="not_home, wrong_address, refused or other")
    note: Stripped = Field(default="", max_length=500)


class TimeWindowIn(SQLModel):
    model_config = FORBID_EXTRA
    tw_start_s: Int32 | None = None
    tw_end_s: Int32 | None = None


class RunPublic(SQLModel):
    id: int
    name: str
    date: date
    campaign_id: int | None
    depot_location_id: int
    service_s: int
    status: str
    cost: int | None
    distance_m: int | None
    warnings: list
    created_at: datetime
    planned_at: datetime | None
    dispatched_at: datetime | None
    completed_at: datetime | None


class VehiclePublic(SQLModel):
    id: int
    name: str
    driver: str
    driver_user_id: int | None = None
    capacity: int
    shift_start_s: int
    shift_end_s: int
    max_stops: int | None
    distance_m: int | None
    duration_s: int | None
    kits: int = 0
    stops: int = 0


class StopPublic(SQLModel):
    id: int
    claim_id: int
    vehicle_id: int | None
    seq: int | None
    locked: bool
    planned_arrival_s: int | None
    cumulative_m: int | None
    tw_start_s: int | None
    tw_end_s: int | None
    status: str
    unassigned_reason: str | None
    fail_reason: str | None
    closed_at: datetime | None
    name_zh: str
    name_latin: str
    phone: str
    address: str
    lat: float | None
    lon: float | None
    kits: int
    is_minor: bool
    claim_status: str


class RunDetail(RunPublic):
    depot: dict
    vehicles: list[VehiclePublic]
    stops: list[StopPublic]
