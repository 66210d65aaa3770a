"""A claim records the privacy notice its student accepted, and keeps only what its fulfilment
needs (claims.submit, the path of SQLite and of every claim the fast path does not take)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, func, select

from app.campaigns import notices
from app.claims.eligibility import NoticeChanged
from models.base import utcnow
from models.campaigns import Campaign
from models.claims import Claim, ClaimEvent
from models.privacy import NoticeIn
from tests.factories import campaign_setup, submit

EXTRAS = {"phone": "0612345678", "wechat": "zs-wx", "address": "1 rue X", "lat": 48.9, "lon": 2.4}
WANG = {"student_number": "S003", "name_latin": "Wang Wu", "birth_date": date(2000, 1, 1)}


@pytest.fixture
def setup(session: Session) -> dict:
    return campaign_setup(session, kits=3)


def _publish(session: Session, setup: dict, zh: str = "二", en: str = "two"):  # noqa: ANN202
    return notices.publish(
        session=session,
        campaign_id=setup["campaign"].id,
        data=NoticeIn(text_zh=zh, text_en=en),
        user_id=None,
    )


def test_a_claim_records_the_current_notice_and_when(session, settings, setup):
    v1 = notices.current(session, setup["campaign"].id)
    assert v1 is not None and v1.version == 1
    c = submit(session, settings, setup)
    assert c.notice_id == v1.id
    assert abs(notices.as_utc(c.consented_at) - utcnow()) < timedelta(minutes=1)
    v2 = _publish(session, setup)
    later = submit(session, settings, setup, **WANG, notice_version=2)
    assert (v2.version, later.notice_id) == (2, v2.id)
    session.expire_all()
    stored = {c.notice_id for c in session.exec(select(Claim)).all()}
    assert stored == {v1.id, v2.id}


def test_a_stale_notice_version_is_a_409_and_stores_nothing(session, settings, setup):
    _publish(session, setup)
    with pytest.raises(NoticeChanged) as err:
        submit(session, settings, setup, notice_version=1)
    assert err.value.status_code == 409 and err.value.code == "notice_changed"
    assert "privacy notice has changed" in err.value.message
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Claim)) == 0
    assert session.scalar(select(func.count()).select_from(ClaimEvent)) == 0
    with pytest.raises(NoticeChanged):  # a version that never existed is no better
        submit(session, settings, setup, notice_version=7)
    assert submit(session, settings, setup, notice_version=2).status == "allocated"


def test_consent_is_still_required(session, settings, setup):
    from app.core.errors import Invalid

    with pytest.raises(Invalid):
        submit(session, settings, setup, consent=False, notice_version=1)


def test_a_pickup_keeps_no_address_and_only_the_contacts_asked(session, settings, setup):
    c = submit(session, settings, setup, **EXTRAS)
    assert (c.phone, c.wechat, c.address, c.lat, c.lon) == ("", "", "", None, None)
    campaign = session.get(Campaign, setup["campaign"].id)
    campaign.asks_phone = True
    session.add(campaign)
    session.commit()
    asked = submit(session, settings, setup, **WANG, **EXTRAS)
    assert (asked.phone, asked.wechat, asked.address, asked.lat) == ("+33612345678", "", "", None)
    session.expire_all()  # as stored, not as built
    stored = session.get(Claim, asked.id)
    assert (stored.phone, stored.wechat, stored.address) == ("+33612345678", "", "")


def test_a_delivery_keeps_its_address_and_phone(session, settings, setup):
    c = submit(
        session,
        settings,
        setup,
        fulfilment="delivery",
        quarantine=True,
        **EXTRAS,
    )
    session.expire_all()
    stored = session.get(Claim, c.id)
    assert stored.fulfilment == "delivery"
    assert (stored.phone, stored.address, stored.lat, stored.lon) == (
        "+33612345678",
        "1 rue X",
        48.9,
        2.4,
    )
    assert stored.wechat == ""  # not asked by this campaign


def test_the_campaigns_retention_gives_the_erasure_date(session, settings, setup):
    c = submit(session, settings, setup)
    campaign = session.get(Campaign, setup["campaign"].id)
    adult = notices.terms(session, campaign_id=campaign.id, notice_id=c.notice_id, minor=False)
    minor = notices.terms(session, campaign_id=campaign.id, notice_id=c.notice_id, minor=True)
    closes = notices.as_utc(campaign.closes_at)
    assert adult.notice_version == 1
    assert adult.erase_after == closes + timedelta(days=90)
    assert minor.erase_after == closes + timedelta(days=30)
