"""Factories for pickup tests: a campaign, a school, kits at a point, and allocated claims.

The claims service is written elsewhere; these create Claim rows directly, with the kit
reserved through the ledger exactly as allocation does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from app.core.security import new_claim_token, new_short_code
from app.inventory import ledger
from app.inventory import service as inventory
from app.inventory.ledger import Delta
from models.campaigns import Campaign
from models.claims import Claim
from models.inventory import Item, ItemCreate, Location, Lot
from models.schools import School
from models.users import User
from tests import factories as f


@dataclass
class World:
    campaign: Campaign
    school: School
    kit: Item
    lot: Lot
    point: Location
    other_point: Location
    diplomat: User
    volunteer: User


def world(session: Session, kits: int = 10) -> World:
    """A diplomat, a volunteer assigned to point A, an open campaign, kits received at A and B."""
    for sku, name in (("MASK", "KN95"), ("GEL", "Gel")):
        inventory.create_item(
            session=session,
            data=ItemCreate(sku=sku, name_zh=f"{name} 中文", name_en=name, tracks_lot=False),
        )
    kit = f.kit(session, {"MASK": 20, "GEL": 1})
    point = f.location(session, "Point A", kind="pickup_point", address="1 rue A")
    other = f.location(session, "Point B", kind="pickup_point", address="2 rue B")
    for loc in (point, other):
        f.move(session, "receive", {"item_id": kit.id, "location_id": loc.id, "quantity": kits})
    lot = session.exec(select(Lot).where(Lot.item_id == kit.id)).one()
    school = School(name_zh="巴黎大学", name_en="University of Paris", city="Paris")
    session.add(school)
    now = datetime.now(UTC)
    campaign = Campaign(
        name_zh="春季发放",
        name_en="Spring round",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=10),
        kit_item_id=kit.id,
        public_id=uuid.uuid4().hex[:16],
        status="open",
    )
    session.add(campaign)
    session.commit()
    dip = f.user(session, "dip", "diplomat")
    vol = f.user(session, "vol", "volunteer")
    from app.pickup import volunteers

    volunteers.assign_volunteer(session=session, user_id=vol.id, location_id=point.id)
    return World(campaign, school, kit, lot, point, other, dip, vol)


def claim(
    session: Session,
    w: World,
    *,
    status: str = "allocated",
    location: Location | None = None,
    name_zh: str = "张三",
    name_latin: str = "Zhang San",
    kits: int = 1,
    reserve: bool = True,
) -> Claim:
    """A claim with its kit reserved at a point (the ledger's reserve movement)."""
    loc = location or w.point
    c = Claim(
        campaign_id=w.campaign.id,
        school_id=w.school.id,
        student_key=f"{w.school.id}:{uuid.uuid4().hex[:12]}",
        status=status,
        token=new_claim_token(),
        short_code=new_short_code(),
        name_zh=name_zh,
        name_latin=name_latin,
        birth_date=date(2001, 5, 4),
        kits=kits,
    )
    if reserve:
        mv = ledger.new_movement(session, kind="reserve", reference="claim:test")
        ledger.apply(session, mv, Delta(w.kit.id, w.lot.id, loc.id, reserved=kits))
        c.reserved_item_id = w.kit.id
        c.reserved_lot_id = w.lot.id
        c.reserved_location_id = loc.id
        c.pickup_location_id = loc.id
    session.add(c)
    session.commit()
    session.refresh(c)
    return c
