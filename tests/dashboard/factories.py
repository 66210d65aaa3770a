"""A small campaign with known figures, built through the services (claims, pickup, campaigns)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session

from app.campaigns import service as campaigns
from app.claims import actions as claim_actions
from app.claims import submit as claims
from app.core.config import Settings
from app.pickup import handover as pickup
from app.pickup import redeem
from models.campaigns import Campaign, CampaignSchoolIn, CampaignUpdate
from models.claims import Claim
from models.inventory import Location
from models.runs import Run, RunStop
from models.schools import School
from models.users import User
from tests import factories as f


@dataclass
class Small:
    campaign: Campaign
    roster_school: School
    manual_school: School
    email_school: School
    point: Location
    depot: Location
    diplomat: User
    claims: dict[str, Claim]


def _submit(session: Session, settings: Settings, setup: dict, **kw) -> Claim:  # noqa: ANN003
    return claims.submit(
        session=session,
        settings=settings,
        campaign=setup["campaign"],
        data=f.claim_in(setup, **kw),
        locale="zh_CN",
        address=f"10.0.{len(kw)}.{uuid.uuid4().int % 250}",
    )


def small_campaign(session: Session, settings: Settings) -> Small:
    """Roster school (3 students), manual school, e-mail school without claims; 2 kits at the
    point, 2 at the depot. Claims: a1 pickup handed over; a2 (minor) delivered by a run; a3
    (quarantine) delivery failed, still allocated; b1 approved and handed over; b2 rejected;
    b3 approved but waitlisted (the point is empty)."""
    setup = f.campaign_setup(session, kits=2)
    c, kit = setup["campaign"], setup["kit"]
    f.move(session, "receive", {"item_id": kit.id, "location_id": setup["depot"].id, "quantity": 2})
    manual = f.school(session, "École Manuelle", domains="")
    email = f.school(session, "Lycée Courriel", domains="lycee-courriel.fr")
    dip = f.user(session, "dip")
    campaigns.update_campaign(
        session=session,
        campaign_id=c.id,
        user_id=dip.id,
        data=CampaignUpdate(
            schools=[
                CampaignSchoolIn(school_id=setup["school"].id, verification="roster"),
                CampaignSchoolIn(school_id=manual.id, verification="manual"),
                CampaignSchoolIn(school_id=email.id, verification="email"),
            ]
        ),
    )
    home = {
        "fulfilment": "delivery",
        "address": "1 rue X",
        "lat": 48.86,
        "lon": 2.36,
        "phone": "+33 6 12 34 56 78",
    }
    a1 = _submit(session, settings, setup)
    a2 = _submit(
        session,
        settings,
        setup,
        student_number="S002",
        name_latin="Li Si",
        name_zh="李四",
        birth_date=date(2009, 5, 6),
        **home,
    )
    a3 = _submit(
        session,
        settings,
        setup,
        student_number="S003",
        name_latin="Wang Wu",
        birth_date=date(2000, 1, 1),
        quarantine=True,
        **home,
    )
    b = [
        _submit(session, settings, setup, school_id=manual.id, student_number=f"M{i}",
                name_latin=f"Manual {i}")
        for i in (1, 2, 3)
    ]  # fmt: skip
    claim_actions.decide_many(
        session=session, settings=settings, claim_ids=[b[0].id], approve=True, user_id=dip.id
    )
    claim_actions.decide_many(
        session=session,
        settings=settings,
        claim_ids=[b[1].id],
        approve=False,
        user_id=dip.id,
        note="not enrolled",
    )
    claim_actions.decide_many(
        session=session, settings=settings, claim_ids=[b[2].id], approve=True, user_id=dip.id
    )
    for claim in (a1, b[0]):
        answer = redeem.redeem(
            session=session,
            code=claim.token,
            nonce=uuid.uuid4().hex,
            scanned_at=datetime.now(UTC),
            user=dip,
            location_id=setup["point"].id,
        )
        assert answer["result"] == "ok", answer
    run = Run(
        name="Run 1",
        date=date.today(),
        campaign_id=c.id,
        depot_location_id=setup["depot"].id,
        status="dispatched",
    )
    session.add(run)
    session.flush()
    ok = RunStop(run_id=run.id, claim_id=a2.id, seq=1, status="delivered")
    failed = RunStop(run_id=run.id, claim_id=a3.id, seq=2, status="failed", fail_reason="absent")
    session.add_all([ok, failed])
    session.flush()
    session.refresh(a2)
    target = pickup.Target(location_id=None, run_stop_id=ok.id, claim_id=a2.id)
    issue = pickup.hand_over(session, claim=a2, target=target, user_id=dip.id, at=datetime.now(UTC))
    assert issue is not None
    session.commit()
    out = {"a1": a1, "a2": a2, "a3": a3, "b1": b[0], "b2": b[1], "b3": b[2]}
    for claim in out.values():
        session.refresh(claim)
    return Small(c, setup["school"], manual, email, setup["point"], setup["depot"], dip, out)
