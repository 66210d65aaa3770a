"""Factories for delivery-run tests: delivery claims with kits reserved at the depot."""

from __future__ import annotations

import math
import random
import uuid
from datetime import date

from sqlmodel import Session, select

from app.core.security import new_claim_token, new_short_code
from app.inventory import ledger
from app.inventory.ledger import Delta
from models.claims import Claim
from models.inventory import Lot
from tests import factories as f

DEPOT = (48.8566, 2.3522)


def district(session: Session, kits: int = 400) -> dict:
    """An open campaign (tests/factories.campaign_setup) with `kits` kits received at the depot."""
    setup = f.campaign_setup(session, kits=0)
    depot, kit = setup["depot"], setup["kit"]
    depot.lat, depot.lon = DEPOT
    session.add(depot)
    session.commit()
    f.move(session, "receive", {"item_id": kit.id, "location_id": depot.id, "quantity": kits})
    setup["lot"] = session.exec(select(Lot).where(Lot.item_id == kit.id)).first()
    return setup


def delivery_claim(
    session: Session,
    setup: dict,
    *,
    lat: float | None = 48.9,
    lon: float | None = 2.4,
    kits: int = 1,
    minor: bool = False,
    status: str = "allocated",
    name: str = "Zhang San",
    commit: bool = True,
) -> Claim:
    """An allocated delivery claim, its kits reserved at the depot through the ledger."""
    c = Claim(
        campaign_id=setup["campaign"].id,
        school_id=setup["school"].id,
        student_key=f"{setup['school'].id}:{uuid.uuid4().hex[:12]}",
        status=status,
        token=new_claim_token(),
        short_code=new_short_code(),
        name_zh="张三",
        name_latin=name,
        birth_date=date(2009 if minor else 2001, 5, 4),
        is_minor=minor,
        priority=0 if minor else 1,
        fulfilment="delivery",
        address=f"{random.randint(1, 99)} rue de Test, Paris",
        phone="+33 6 00 00 00 00",
        lat=lat,
        lon=lon,
        kits=kits,
        reserved_item_id=setup["kit"].id,
        reserved_lot_id=setup["lot"].id,
        reserved_location_id=setup["depot"].id,
        delivery_reason="minor" if minor else "distance",
    )
    mv = ledger.new_movement(session, kind="reserve", reference="claim:test")
    ledger.apply(
        session, mv, Delta(setup["kit"].id, setup["lot"].id, setup["depot"].id, reserved=kits)
    )
    session.add(c)
    if commit:
        session.commit()
        session.refresh(c)
    return c


def scattered(
    session: Session, setup: dict, n: int, radius_km: float = 40, seed: int = 7
) -> list[Claim]:
    """`n` delivery claims spread uniformly within `radius_km` of the depot."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = radius_km * math.sqrt(rng.random())
        a = rng.random() * 2 * math.pi
        lat = DEPOT[0] + (r * math.sin(a)) / 111.2
        lon = DEPOT[1] + (r * math.cos(a)) / (111.2 * math.cos(math.radians(DEPOT[0])))
        out.append(
            delivery_claim(
                session, setup, lat=lat, lon=lon, minor=i % 5 == 0, name=f"S {i}", commit=False
            )
        )
    session.commit()
    return out


def planned_run(
    session: Session,
    settings,  # noqa: ANN001
    depot_id: int,
    *,
    capacity: int,
    claim_ids: list[int] | None = None,
    run_date: date = date(2026, 5, 7),
):  # noqa: ANN201
    """ "Thursday west": two cars ("Car 1", "Car 2", driver Li, 08:00–18:00) of `capacity`
    kits, the delivery claims selected (`claim_ids`, or every one waiting), optimised."""
    from app.runs import plan as run_plan
    from app.runs import service as runs

    run = runs.create_run(
        session=session,
        name="Thursday west",
        run_date=run_date,
        depot_location_id=depot_id,
        service_s=300,
    )
    for name in ("Car 1", "Car 2"):
        runs.add_vehicle(
            session=session,
            run_id=run.id,
            name=name,
            driver="Li",
            driver_user_id=None,
            capacity=capacity,
            shift_start_s=8 * 3600,
            shift_end_s=18 * 3600,
            max_stops=None,
        )
    runs.select_claims(session=session, run_id=run.id, claim_ids=claim_ids)
    run_plan.optimise(session=session, settings=settings, run_id=run.id)
    return run
