"""Campaigns, their eligible schools and verification modes, pickup points and their slots."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlmodel import Session, select

from app.audit import trail as audit
from app.campaigns import notices
from app.core.errors import N_, Conflict, Invalid, NotFound
from models.base import utcnow
from models.campaigns import (
    Campaign,
    CampaignCreate,
    CampaignSchool,
    CampaignSchoolIn,
    CampaignUpdate,
    PickupSlot,
    PickupSlotCreate,
)
from models.inventory import Item, Location, LocationKind
from models.schools import School


class CampaignClosed(Conflict):
    code = "campaign_closed"


class SlotFull(Conflict):
    code = "slot_full"


def _check_refs(session: Session, *, kit_item_id: int | None, depot_id: int | None) -> None:
    if kit_item_id is not None:
        kit = session.get(Item, kit_item_id)
        if kit is None or not kit.is_kit:
            raise Invalid(N_("Item {id} is not a kit with a recipe."), params={"id": kit_item_id})
    if depot_id is not None and session.get(Location, depot_id) is None:
        raise NotFound(N_("No location with id {id}."), params={"id": depot_id})


def _set_schools(session: Session, campaign: Campaign, schools: list[CampaignSchoolIn]) -> None:
    seen = set()
    for s in schools:
        if session.get(School, s.school_id) is None:
            raise NotFound(N_("No school with id {id}."), params={"id": s.school_id})
        if s.school_id in seen:
            raise Invalid(N_("School {id} is listed twice."), params={"id": s.school_id})
        seen.add(s.school_id)
    for old in session.exec(
        select(CampaignSchool).where(CampaignSchool.campaign_id == campaign.id)
    ).all():
        session.delete(old)
    session.flush()
    for s in schools:
        session.add(
            CampaignSchool(
                campaign_id=campaign.id, school_id=s.school_id, verification=s.verification.value
            )
        )


def create_campaign(
    *, session: Session, data: CampaignCreate, user_id: int | None = None
) -> Campaign:
    """Create a campaign with its eligible schools; its public id is random."""
    if data.closes_at <= data.opens_at:
        raise Invalid(N_("The campaign must close after it opens."))
    _check_refs(session, kit_item_id=data.kit_item_id, depot_id=data.depot_location_id)
    campaign = Campaign(
        **data.model_dump(exclude={"schools", "status"}),
        status=data.status.value,
        public_id=secrets.token_urlsafe(8),
    )
    if campaign.retention_days_minors > campaign.retention_days:
        raise Invalid(N_("Minors' data cannot be kept longer than the others'."))
    session.add(campaign)
    session.flush()
    _set_schools(session, campaign, data.schools)
    zh, en = notices.default_texts(
        "The consulate",
        campaign.retention_days,
        campaign.retention_days_minors,
        mission_zh="领馆",
    )
    notices.add_version(session, campaign, text_zh=zh, text_en=en, user_id=user_id)
    audit.record(
        session,
        user_id=user_id,
        action="campaign.create",
        object_type="campaign",
        object_id=campaign.id,
        after={
            **audit.snapshot(campaign, audit.CAMPAIGN_FIELDS),
            "schools": [s.model_dump(mode="json") for s in data.schools],
        },
    )
    session.commit()
    session.refresh(campaign)
    return campaign


def update_campaign(
    *, session: Session, campaign_id: int, data: CampaignUpdate, user_id: int | None = None
) -> Campaign:
    """Change a campaign's fields (and its schools when given); audited."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    before = audit.snapshot(campaign, audit.CAMPAIGN_FIELDS)
    values = data.model_dump(exclude_unset=True, exclude={"schools"})
    _check_refs(session, kit_item_id=None, depot_id=values.get("depot_location_id"))
    for key, value in values.items():
        setattr(campaign, key, value.value if key == "status" and value else value)
    if campaign.closes_at <= campaign.opens_at:
        raise Invalid(N_("The campaign must close after it opens."))
    if campaign.retention_days_minors > campaign.retention_days:
        raise Invalid(N_("Minors' data cannot be kept longer than the others'."))
    if data.schools is not None:
        _set_schools(session, campaign, data.schools)
    session.add(campaign)
    after = audit.snapshot(campaign, audit.CAMPAIGN_FIELDS)
    if data.schools is not None:
        after["schools"] = [s.model_dump(mode="json") for s in data.schools]
    audit.record(
        session,
        user_id=user_id,
        action="campaign.update",
        object_type="campaign",
        object_id=campaign.id,
        before=before,
        after=after,
    )
    session.commit()
    session.refresh(campaign)
    return campaign


def get_campaign(*, session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(N_("No campaign with id {id}."), params={"id": campaign_id})
    return campaign


def newest_first(*, session: Session) -> list[Campaign]:
    """Every campaign, the newest (highest id) first."""
    return list(session.exec(select(Campaign).order_by(Campaign.id.desc())).all())


def newest_id(*, session: Session) -> int | None:
    """The id of the newest campaign, None when there is none."""
    return session.exec(select(Campaign.id).order_by(Campaign.id.desc())).first()


# Built once: every claim reads its campaign by the link's id (the statement's construction
# and cache key cost more than running it).
_BY_PUBLIC_ID = select(Campaign).where(Campaign.public_id == bindparam("public_id"))


def by_public_id(*, session: Session, public_id: str) -> Campaign:
    campaign = session.exec(_BY_PUBLIC_ID, params={"public_id": public_id}).first()
    if campaign is None:
        raise unknown_campaign()
    return campaign


def unknown_campaign() -> NotFound:
    return NotFound(N_("This campaign link is not valid. Check the link you were sent."))


def school_modes(*, session: Session, campaign_id: int) -> dict[int, str]:
    """school_id → verification mode for the campaign's eligible schools."""
    return {
        cs.school_id: cs.verification
        for cs in session.exec(
            select(CampaignSchool).where(CampaignSchool.campaign_id == campaign_id)
        ).all()
    }


def is_open(campaign: Campaign, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return campaign.status == "open" and campaign.opens_at <= now < campaign.closes_at


def ensure_open(campaign: Campaign) -> None:
    if not is_open(campaign):
        raise CampaignClosed(N_("This campaign is not open for claims at the moment."))


# ---------------------------------------------------------------- pickup points and slots


def pickup_points(*, session: Session) -> list[Location]:
    return list(
        session.exec(
            select(Location)
            .where(Location.kind == LocationKind.pickup_point, Location.active)
            .order_by(Location.id)
        ).all()
    )


def create_slot(*, session: Session, data: PickupSlotCreate) -> PickupSlot:
    """Add an opening slot to a pickup point."""
    loc = session.get(Location, data.location_id)
    if loc is None or loc.kind != LocationKind.pickup_point:
        raise Invalid(N_("Location {id} is not a pickup point."), params={"id": data.location_id})
    if data.ends_at <= data.starts_at:
        raise Invalid(N_("A slot must end after it starts."))
    slot = PickupSlot.model_validate(data)
    session.add(slot)
    session.commit()
    session.refresh(slot)
    return slot


def slots(*, session: Session, location_id: int | None = None, upcoming: bool = True) -> list:
    q = select(PickupSlot)
    if location_id is not None:
        q = q.where(PickupSlot.location_id == location_id)
    if upcoming:
        q = q.where(PickupSlot.ends_at > utcnow())
    return list(session.exec(q.order_by(PickupSlot.starts_at, PickupSlot.id)).all())


def check_slot(session: Session, *, slot_id: int, location_id: int) -> PickupSlot:
    """The slot, when it belongs to the pickup point and is not over (400 otherwise)."""
    slot = session.get(PickupSlot, slot_id)
    slot_rules(slot and slot.location_id, slot and slot.ends_at, location_id)
    return slot


def slot_rules(slot_location_id: int | None, ends_at: datetime | None, location_id: int) -> None:
    """A slot (its point and end, None when there is no such slot) may be chosen for a pickup
    at `location_id` when it belongs to that point and is not over; 400 otherwise."""
    if slot_location_id is None or slot_location_id != location_id:
        raise Invalid(N_("Choose a time slot of the chosen pickup point."))
    if ends_at <= utcnow():
        raise Invalid(N_("That time slot is over; choose another."))


def book_slot(session: Session, *, slot_id: int, location_id: int) -> PickupSlot:
    """Take one place in a slot with a conditional update (never above capacity)."""
    slot = check_slot(session, slot_id=slot_id, location_id=location_id)
    t = PickupSlot.__table__.c
    result = session.execute(
        update(PickupSlot)
        .where(t.id == slot_id, t.booked < t.capacity)
        .values(booked=t.booked + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise SlotFull(N_("That time slot is full; choose another."))
    return slot


def release_slot(session: Session, *, slot_id: int) -> None:
    t = PickupSlot.__table__.c
    session.execute(
        update(PickupSlot)
        .where(t.id == slot_id, t.booked > 0)
        .values(booked=t.booked - 1)
        .execution_options(synchronize_session=False)
    )


def form_schools(*, session: Session, campaign_id: int, q: str = "") -> list[School]:
    """The in-district schools of a campaign for its claim form, by city and name; `q` keeps
    those whose Chinese or English name or city contains it (case ignored)."""
    schools = session.exec(
        select(School)
        .join(CampaignSchool, CampaignSchool.school_id == School.id)
        .where(CampaignSchool.campaign_id == campaign_id, School.in_district)
        .order_by(School.city, School.name_en)
    ).all()
    low = q.strip().lower()
    if not low:
        return list(schools)
    return [
        s
        for s in schools
        if low in s.name_zh.lower() or low in s.name_en.lower() or low in s.city.lower()
    ]
