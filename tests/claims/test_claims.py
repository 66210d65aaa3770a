from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from app.campaigns import service as campaigns
from app.claims import actions as claim_actions
from app.claims.eligibility import AlreadyClaimed, NotEligible
from app.core.errors import Conflict, Invalid
from app.inventory import ledger
from models.campaigns import PickupSlotCreate
from models.claims import Claim, ClaimEvent
from models.inventory import StockLevel
from tests.factories import campaign_setup, move, submit, user


@pytest.fixture
def setup(session):
    return campaign_setup(session, kits=2)


def _reserved(session, item_id):
    return session.exec(
        select(func.coalesce(func.sum(StockLevel.reserved), 0)).where(StockLevel.item_id == item_id)
    ).one()


def test_roster_match_allocates_a_kit_and_records_reasons(session, settings, setup):
    c = submit(session, settings, setup)
    assert c.status == "allocated" and c.reserved_lot_id
    codes = [r["code"] for r in c.reasons]
    assert codes[:3] == ["campaign_open", "school_eligible", "roster_match"]
    assert "allocated" in codes
    assert len(c.token) == 22 and len(c.short_code) == 10
    assert _reserved(session, setup["kit"].id) == 1
    events = session.exec(select(ClaimEvent).where(ClaimEvent.claim_id == c.id)).all()
    assert [e.to_status for e in events] == ["submitted", "verified", "allocated"]
    assert ledger.check(session) == []


def test_names_match_in_any_form(session, settings, setup):
    assert submit(session, settings, setup, name_latin="zhang-san").status == "allocated"


@pytest.mark.parametrize(
    ("change", "code", "fields"),
    [
        ({"student_number": "S999"}, "roster_unknown_number", ["student_number"]),
        (
            {"birth_date": date(2001, 2, 4)},
            "roster_mismatch",
            ["birth_date", "name_zh", "name_latin"],
        ),
        ({"name_latin": "Li Si"}, "roster_mismatch", ["birth_date", "name_zh", "name_latin"]),
    ],
)
def test_roster_mismatch_stores_nothing(session, settings, setup, change, code, fields):
    with pytest.raises(NotEligible) as err:
        submit(session, settings, setup, **change)
    assert err.value.code == code and err.value.status_code == 422
    assert err.value.details == {"fields": fields}
    assert session.exec(select(func.count()).select_from(Claim)).one() == 0


def test_second_claim_is_a_409(session, settings, setup):
    submit(session, settings, setup)
    with pytest.raises(AlreadyClaimed) as err:
        submit(session, settings, setup, student_number=" s001 ")
    assert err.value.status_code == 409
    assert session.exec(select(func.count()).select_from(Claim)).one() == 1


def test_one_live_claim_is_a_database_constraint(session, settings, setup):
    from sqlalchemy.exc import IntegrityError

    c = submit(session, settings, setup)
    twin = Claim(**{**c.model_dump(exclude={"id"}), "token": "x" * 22, "short_code": "ABCDEFGHJK"})
    session.add(twin)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_cancel_releases_and_allows_a_new_claim(session, settings, setup):
    c = submit(session, settings, setup)
    claim_actions.cancel(session=session, token=c.token)
    assert _reserved(session, setup["kit"].id) == 0
    with pytest.raises(Conflict):
        claim_actions.cancel(session=session, token=c.token)
    again = submit(session, settings, setup)
    assert again.status == "allocated" and again.id != c.id
    assert ledger.check(session) == []


def test_waitlist_minors_first_then_allocated_when_kits_arrive(session, settings, setup):
    a = submit(session, settings, setup)
    b = submit(
        session,
        settings,
        setup,
        student_number="S003",
        name_latin="Wang Wu",
        birth_date=date(2000, 1, 1),
    )
    assert (a.status, b.status) == ("allocated", "allocated")
    from tests.factories import roster

    roster(
        session,
        setup["school"].id,
        [("S010", "Adult One", "1999-01-01"), ("S011", "Minor One", "2012-01-01")],
    )
    adult = submit(
        session,
        settings,
        setup,
        student_number="S010",
        name_latin="Adult One",
        birth_date=date(1999, 1, 1),
    )
    minor = submit(
        session,
        settings,
        setup,
        student_number="S011",
        name_latin="Minor One",
        birth_date=date(2012, 1, 1),
        phone="06 12 34 56 78",  # a minor's claim needs a phone
    )
    assert adult.status == minor.status == "waitlisted"
    assert minor.is_minor and claim_actions.waitlist_position(session, minor) == 1
    assert claim_actions.waitlist_position(session, adult) == 2
    move(
        session,
        "receive",
        {"item_id": setup["kit"].id, "location_id": setup["point"].id, "quantity": 1},
    )
    session.refresh(minor)
    session.refresh(adult)
    assert minor.status == "allocated" and adult.status == "waitlisted"
    assert "allocated_from_waitlist" in [r["code"] for r in minor.reasons]
    assert ledger.check(session) == []


def test_closed_campaign_and_unknown_school(session, settings, setup):
    from models.campaigns import CampaignUpdate

    with pytest.raises(NotEligible):
        submit(session, settings, setup, school_id=9999)
    campaigns.update_campaign(
        session=session, campaign_id=setup["campaign"].id, data=CampaignUpdate(status="closed")
    )
    with pytest.raises(Conflict) as err:
        submit(session, settings, setup)
    assert err.value.code == "campaign_closed"


def test_delivery_policy(session, settings, setup):
    with pytest.raises(NotEligible) as err:  # adult, not in quarantine, near the campus
        submit(
            session, settings, setup, fulfilment="delivery", address="1 rue X", lat=48.86, lon=2.36,
            phone="06 12 34 56 78",
        )  # fmt: skip
    assert err.value.code == "delivery_not_allowed"
    c = submit(
        session,
        settings,
        setup,
        phone="06 12 34 56 78",
        fulfilment="delivery",
        address="1 rue X",
        lat=48.86,
        lon=2.36,
        quarantine=True,
    )
    assert c.delivery_reason == "quarantine" and c.reserved_location_id == setup["depot"].id
    assert c.status == "waitlisted"  # nothing at the depot yet
    far = submit(
        session,
        settings,
        setup,
        student_number="S003",
        name_latin="Wang Wu",
        birth_date=date(2000, 1, 1),
        phone="+33 6 12 34 56 79",
        fulfilment="delivery",
        address="Marseille",
        lat=43.30,
        lon=5.37,
    )
    assert far.delivery_reason == "distance"


def test_slots_fill_up(session, settings, setup):
    from models.base import utcnow

    slot = campaigns.create_slot(
        session=session,
        data=PickupSlotCreate(
            location_id=setup["point"].id,
            starts_at=utcnow() + timedelta(days=1),
            ends_at=utcnow() + timedelta(days=1, hours=2),
            capacity=1,
        ),
    )
    c = submit(session, settings, setup, slot_id=slot.id)
    assert c.slot_id == slot.id
    with pytest.raises(Conflict) as err:
        submit(
            session,
            settings,
            setup,
            student_number="S003",
            name_latin="Wang Wu",
            birth_date=date(2000, 1, 1),
            slot_id=slot.id,
        )
    assert err.value.code == "slot_full"
    claim_actions.cancel(session=session, token=c.token)
    session.refresh(slot)
    assert slot.booked == 0


def test_email_mode_code_flow(session, settings, tmp_path):
    setup = campaign_setup(session, kits=1, mode="email")
    with pytest.raises(NotEligible):
        submit(session, settings, setup, student_number="", email="me@gmail.com")
    c = submit(session, settings, setup, student_number="", email="Me@Univ-Test.fr")
    assert c.status == "submitted" and c.email == "me@univ-test.fr"
    mails = list(settings.outbox_dir.glob("*.eml"))
    assert len(mails) == 1
    body = mails[0].read_text()
    import re

    code = re.search(r"\b(\d{6})\b", body).group(1)
    with pytest.raises(Invalid):
        claim_actions.verify_code(
            session=session,
            settings=settings,
            token=c.token,
            code="000000" if code != "000000" else "111111",
        )
    done = claim_actions.verify_code(session=session, settings=settings, token=c.token, code=code)
    assert done.status == "allocated"


def test_manual_review_bulk(session, settings):
    setup = campaign_setup(session, kits=1, mode="manual")
    d = user(session, "dip2")
    a = submit(session, settings, setup, student_number="X1", name_latin="A")
    b = submit(session, settings, setup, student_number="X2", name_latin="B")
    assert a.status == b.status == "submitted"
    out = claim_actions.decide_many(
        session=session, settings=settings, claim_ids=[a.id], approve=True, user_id=d.id
    )
    assert out["decided"] == [a.id]
    out = claim_actions.decide_many(
        session=session,
        settings=settings,
        claim_ids=[b.id, a.id],
        approve=False,
        user_id=d.id,
        note="not enrolled",
    )
    assert out == {"decided": [b.id], "skipped": [a.id]}
    session.refresh(a)
    session.refresh(b)
    assert a.status == "allocated" and b.status == "rejected"
    assert b.reasons[-1]["params"]["note"] == "not enrolled"


def test_rate_limit_counts_failed_attempts(session, settings, setup):
    from app.core.errors import TooManyRequests

    for _ in range(10):
        with pytest.raises(NotEligible):
            submit(session, settings, setup, birth_date=date(2001, 1, 1))
    with pytest.raises(TooManyRequests):
        submit(session, settings, setup)
