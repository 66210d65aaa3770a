"""Campaigns (distribution rounds), their eligible schools, and pickup slots."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import FORBID_EXTRA, Id, Required, utcnow


class Verification(StrEnum):
    roster = "roster"
    email = "email"
    manual = "manual"


class CampaignStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"


class CampaignBase(SQLModel):
    name_zh: Required = Field(max_length=200)
    name_en: Required = Field(max_length=200)
    opens_at: datetime
    closes_at: datetime
    kit_item_id: Id = Field(foreign_key="item.id")
    kits_per_student: int = Field(default=1, ge=1, le=10)
    delivery_minors: bool = True
    delivery_quarantine: bool = True
    delivery_distance_km: float | None = Field(default=None, gt=0, le=20000)
    depot_location_id: Id | None = Field(default=None, foreign_key="location.id")
    # What the form asks beyond the minimum (a name, a birth date, the school's number or mail):
    asks_phone: bool = Field(default=False, description="phone for pickups (delivery always)")
    asks_wechat: bool = False
    asks_passport_name: bool = Field(
        default=False, description="the Latin name as in the passport, not the student card"
    )
    confirm_after_id_check: bool = Field(
        default=False, description="a hand-over is a second tap, after the volunteer checks ID"
    )
    # How long students' personal data is kept after the campaign closes (minors' first).
    retention_days: int = Field(default=90, ge=0, le=90)
    retention_days_minors: int = Field(default=30, ge=0, le=90)


class Campaign(CampaignBase, table=True):
    __table_args__ = (
        UniqueConstraint("public_id"),
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status"),
        CheckConstraint("closes_at > opens_at", name="dates"),
        CheckConstraint("retention_days BETWEEN 0 AND 90", name="retention"),
        CheckConstraint("retention_days_minors <= retention_days", name="retention_minors"),
    )
    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=16, description="random, for public URLs")
    status: str = Field(default="draft", sa_type=String(10))
    created_at: datetime = Field(default_factory=utcnow)


class CampaignSchoolIn(SQLModel):
    model_config = FORBID_EXTRA
    school_id: Id
    verification: Verification = Verification.roster


class CampaignCreate(CampaignBase):
    model_config = FORBID_EXTRA
    status: CampaignStatus = CampaignStatus.draft
    schools: list[CampaignSchoolIn] = []


class CampaignUpdate(SQLModel):
    """Fields to change; an omitted field keeps its value, null clears only the nullable ones
    (delivery_distance_km, depot_location_id)."""

    model_config = FORBID_EXTRA
    # The default None only marks "not sent": an explicit null is refused.
    name_zh: Required = Field(default=None, max_length=200)
    name_en: Required = Field(default=None, max_length=200)
    opens_at: datetime = None
    closes_at: datetime = None
    status: CampaignStatus = None
    kits_per_student: int = Field(default=None, ge=1, le=10)
    delivery_minors: bool = None
    delivery_quarantine: bool = None
    delivery_distance_km: float | None = Field(default=None, gt=0, le=20000)
    depot_location_id: Id | None = None
    asks_phone: bool = None
    asks_wechat: bool = None
    asks_passport_name: bool = None
    confirm_after_id_check: bool = None
    retention_days: int = Field(default=None, ge=0, le=90)
    retention_days_minors: int = Field(default=None, ge=0, le=90)
    schools: list[CampaignSchoolIn] = None


class CampaignPublic(CampaignBase):
    id: int
    public_id: str
    status: str
    schools: list[CampaignSchoolIn] = []


class CampaignSchool(SQLModel, table=True):
    __tablename__ = "campaign_school"
    __table_args__ = (
        UniqueConstraint("campaign_id", "school_id"),
        CheckConstraint("verification IN ('roster', 'email', 'manual')", name="verification"),
    )
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    school_id: int = Field(foreign_key="school.id")
    verification: str = Field(default="roster", sa_type=String(10))


class PickupSlotBase(SQLModel):
    location_id: Id = Field(foreign_key="location.id")
    starts_at: datetime
    ends_at: datetime
    capacity: int = Field(ge=1, le=100000)


class PickupSlot(PickupSlotBase, table=True):
    """An opening of a pickup point; `booked` only changes by conditional updates."""

    __tablename__ = "pickup_slot"
    __table_args__ = (
        CheckConstraint("booked >= 0", name="booked_nonneg"),
        CheckConstraint("booked <= capacity", name="booked_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="times"),
    )
    id: int | None = Field(default=None, primary_key=True)
    booked: int = 0


class PickupSlotCreate(PickupSlotBase):
    model_config = FORBID_EXTRA


class PickupSlotPublic(PickupSlotBase):
    id: int
    booked: int
