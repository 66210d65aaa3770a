"""Claims: a student's request for a kit in a campaign, its history, and the scan log."""

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from sqlalchemy import JSON, CheckConstraint, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.base import FORBID_EXTRA, Id, Required, Stripped, utcnow


class ClaimStatus(StrEnum):
    submitted = "submitted"  # waiting for verification (e-mail code or manual review)
    verified = "verified"  # eligible, not yet allocated (transient)
    waitlisted = "waitlisted"  # eligible, no kit yet; allocated when stock arrives
    allocated = "allocated"  # a kit is reserved at a location
    ready = "ready"  # label printed / kit at the point
    out_for_delivery = "out_for_delivery"  # on a dispatched delivery run
    handed_over = "handed_over"  # picked up or delivered
    rejected = "rejected"
    cancelled = "cancelled"
    expired = "expired"


# The one list of claim statuses is ClaimStatus; the groups below and the SQL are derived from it.
DEAD_STATUSES = tuple(
    s.value for s in (ClaimStatus.rejected, ClaimStatus.cancelled, ClaimStatus.expired)
)
HOLDS_KIT = tuple(
    s.value for s in (ClaimStatus.allocated, ClaimStatus.ready, ClaimStatus.out_for_delivery)
)

# what a holder may still cancel (a kit out for delivery or handed over is past that)
CANCELLABLE = tuple(
    s.value
    for s in (
        ClaimStatus.submitted,
        ClaimStatus.verified,
        ClaimStatus.waitlisted,
        ClaimStatus.allocated,
        ClaimStatus.ready,
    )
)


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


_LIVE = f"status NOT IN ({_sql_list(DEAD_STATUSES)})"


class Claim(SQLModel, table=True):
    __table_args__ = (
        # Invariant 2: at most one live claim per student per campaign, in the database.
        Index(
            "uq_claim_live_student",
            "campaign_id",
            "student_key",
            unique=True,
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
        UniqueConstraint("token"),
        UniqueConstraint("short_code"),
        CheckConstraint(
            f"status IN ({_sql_list(tuple(s.value for s in ClaimStatus))})",
            name="status",
        ),
        CheckConstraint("fulfilment IN ('pickup', 'delivery')", name="fulfilment"),
        Index("ix_claim_campaign_status", "campaign_id", "status"),
        Index("ix_claim_school", "school_id", "status"),
        Index("ix_claim_waitlist", "reserved_location_id", "status", "priority", "submitted_at"),
        Index("ix_claim_campaign_submitted", "campaign_id", "submitted_at"),  # dashboard per day
        Index("ix_claim_campaign_handed", "campaign_id", "handed_over_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    school_id: int = Field(foreign_key="school.id")
    student_key: str = Field(max_length=300, description="school + student number, or e-mail")
    status: str = Field(default="submitted", sa_type=String(20))
    token: str = Field(max_length=40, description="random, ≥ 128 bits; what the QR encodes")
    short_code: str = Field(max_length=12, description="for typing by hand, with a check char")
    name_zh: str = Field(default="", max_length=100)
    name_latin: str = Field(max_length=200)
    student_number: str = Field(default="", max_length=40)
    email: str | None = Field(default=None, max_length=254)
    birth_date: date | None = Field(description="None once erased")
    phone: str = Field(default="", max_length=40)
    wechat: str = Field(default="", max_length=60)
    is_minor: bool = False
    quarantine: bool = False
    priority: int = Field(default=1, description="0 minors, 1 others: the waitlist order")
    fulfilment: str = Field(default="pickup", sa_type=String(10))
    pickup_location_id: int | None = Field(default=None, foreign_key="location.id")
    slot_id: int | None = Field(default=None, foreign_key="pickup_slot.id")
    address: str = Field(default="", max_length=500)
    lat: float | None = None
    lon: float | None = None
    delivery_reason: str | None = Field(default=None, max_length=20)
    locale: str = Field(default="zh_CN", max_length=10)
    reasons: list = Field(default_factory=list, sa_type=JSON)
    reserved_item_id: int | None = Field(default=None, foreign_key="item.id")
    reserved_lot_id: int | None = Field(default=None, foreign_key="lot.id")
    reserved_location_id: int | None = Field(default=None, foreign_key="location.id")
    kits: int = 1
    email_code_hash: str | None = Field(default=None, max_length=64)
    email_code_expires_at: datetime | None = None
    email_code_attempts: int = 0
    run_id: int | None = Field(default=None, index=True)
    submitted_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    allocated_at: datetime | None = None
    ready_at: datetime | None = None
    handed_over_at: datetime | None = None
    handed_over_by: int | None = Field(default=None, foreign_key="user.id")
    handed_over_location_id: int | None = Field(default=None, foreign_key="location.id")
    updated_at: datetime = Field(default_factory=utcnow)
    notice_id: int | None = Field(default=None, foreign_key="privacy_notice.id")
    consented_at: datetime | None = None
    erased_at: datetime | None = Field(default=None, description="personal data erased")


# A claim's personal data: what an erasure empties (to these values) and an access export shows.
PERSONAL_FIELDS: dict[str, object] = {
    "name_zh": "",
    "name_latin": "",
    "student_number": "",
    "email": None,
    "birth_date": None,
    "phone": "",
    "wechat": "",
    "address": "",
    "lat": None,
    "lon": None,
}


class ClaimEvent(SQLModel, table=True):
    """Append-only history of a claim: every decision with its reasons."""

    __tablename__ = "claim_event"
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    reasons: list = Field(default_factory=list, sa_type=JSON)
    note: str = Field(default="", max_length=500)


class Fulfilment(StrEnum):
    pickup = "pickup"
    delivery = "delivery"


class ClaimIn(SQLModel):
    """What a student submits on the claim form (or a script to the public API)."""

    model_config = FORBID_EXTRA
    school_id: Id
    name_zh: Stripped = Field(default="", max_length=50)
    name_latin: Required = Field(max_length=100, description="name as in passport")
    student_number: Stripped = Field(default="", max_length=40)
    email: Stripped = Field(default="", max_length=254)
    birth_date: date
    phone: Stripped = Field(default="", max_length=40)
    wechat: Stripped = Field(default="", max_length=60)
    fulfilment: Fulfilment = Fulfilment.pickup
    pickup_location_id: Id | None = None
    slot_id: Id | None = None
    address: Stripped = Field(default="", max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    quarantine: bool = False
    consent: bool = Field(description="consent to the use of the data for the distribution")
    notice_version: int | None = Field(
        default=None,
        ge=1,
        le=100000,
        description="the privacy notice version the student read (default: the current one)",
    )


class ClaimStatusPublic(SQLModel):
    """What the holder of a claim's token may see."""

    status: str
    short_code: str
    token: str
    campaign: str
    school: str
    name_latin: str
    fulfilment: str
    pickup_point: str | None
    slot: str | None
    waitlist_position: int | None
    reasons: list
    submitted_at: datetime
    handed_over_at: datetime | None


class ClaimStaffPublic(SQLModel):
    id: int
    campaign_id: int
    school_id: int
    status: str
    short_code: str
    name_zh: str
    name_latin: str
    student_number: str
    email: str | None
    birth_date: date | None
    phone: str
    wechat: str
    is_minor: bool
    quarantine: bool
    fulfilment: str
    pickup_location_id: int | None
    slot_id: int | None
    address: str
    lat: float | None
    lon: float | None
    delivery_reason: str | None
    reserved_location_id: int | None
    reasons: list
    submitted_at: datetime
    allocated_at: datetime | None
    handed_over_at: datetime | None


class DecisionIn(SQLModel):
    model_config = FORBID_EXTRA
    claim_ids: list[Id] = Field(min_length=1, max_length=1000)
    decision: Literal["approve", "reject"]
    reason: Stripped = Field(default="", max_length=300)


class GeocodeCache(SQLModel, table=True):
    """A geocoder's answer for one normalised address (found or not), so each address is
    asked once: the provider's usage policy and a slow network both want it."""

    __tablename__ = "geocode_cache"
    __table_args__ = (UniqueConstraint("query"),)
    id: int | None = Field(default=None, primary_key=True)
    query: str = Field(max_length=600, description="the address, normalised")
    lat: float | None = None
    lon: float | None = None
    provider: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class FindIn(SQLModel):
    """A student who lost their claim's link: the facts that made the claim."""

    model_config = FORBID_EXTRA
    school_id: Id
    student_number: Stripped = Field(default="", max_length=40)
    email: Stripped = Field(default="", max_length=254)
    birth_date: date
    name: Required = Field(max_length=100, description="the Chinese or the Latin name claimed with")
    code_end: Stripped = Field(
        default="", max_length=12, description="the last 4 characters of the claim's code"
    )


class FindOut(SQLModel):
    """The answer to a search for one's claim: the token only when the code's end matched a
    claim without e-mail; otherwise the link went by e-mail, if anything matched."""

    token: str | None = None
    message: str
