"""The claim endpoint's fast path on PostgreSQL (claim_fast.try_submit): the same rules, row,
events, reservation and answer as claims.submit, on the event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import func, select
from sqlmodel import Session

from app.campaigns import notices
from app.campaigns import service as campaigns
from app.claims import fast as claim_fast
from app.claims import queries as claim_views
from app.claims.eligibility import AlreadyClaimed, NotEligible, NoticeChanged
from app.core import ratelimit
from app.core.config import Settings
from app.core.db import open_async_pool
from app.core.errors import Invalid, NotFound, TooManyRequests
from app.inventory import ledger
from models.base import utcnow
from models.campaigns import Campaign, PickupSlotCreate
from models.claims import Claim, ClaimEvent
from models.inventory import StockMovement
from models.privacy import NoticeIn
from tests import aio
from tests.factories import campaign_setup, claim_in, roster, submit

VOLATILE = {
    "id", "token", "short_code", "submitted_at", "updated_at", "decided_at", "allocated_at",
    "consented_at",
}  # fmt: skip


@pytest.fixture
def world(pg):  # noqa: ANN001, ANN201
    settings, session = pg
    setup = campaign_setup(session, kits=1)
    roster(session, setup["school"].id, [("S004", "Zhao Liu", "2002-03-04")])
    return settings, session, setup


def fast(settings: Settings, setup: dict, public_id: str | None = None, **kw):  # noqa: ANN003, ANN201
    """try_submit with a pool opened (and closed) on a fresh event loop."""
    locale = kw.pop("locale", "zh_CN")

    async def run():  # noqa: ANN202
        pool = await open_async_pool(settings)
        try:
            return await claim_fast.try_submit(
                pool,
                settings=settings,
                public_id=public_id or setup["campaign"].public_id,
                data=claim_in(setup, **kw),
                locale=locale,
                address="10.0.0.9",
            )
        finally:
            await pool.close()

    return aio.run(run())


def stored(session: Session, token: str) -> tuple[dict, list[tuple]]:
    session.rollback()
    c = session.scalars(select(Claim).where(Claim.token == token)).one()
    row = {k: v for k, v in c.model_dump().items() if k not in VOLATILE}
    events = session.execute(
        select(ClaimEvent.from_status, ClaimEvent.to_status, ClaimEvent.reasons)
        .where(ClaimEvent.claim_id == c.id)
        .order_by(ClaimEvent.id)
    ).all()
    return row, [tuple(e) for e in events]


def counted(session: Session, settings: Settings, address: str = "10.0.0.9") -> int:
    session.rollback()
    window = settings.claim_rate_window_seconds
    return ratelimit.count(session, f"claim:ip:{address}", window_seconds=window)


def test_fast_and_slow_paths_store_the_same_claim_and_answer_alike(world):
    settings, session, setup = world
    answer, was_counted, token = fast(settings, setup)
    assert was_counted and answer["status"] == "allocated" and answer["waitlist_position"] is None
    assert token == answer["token"]
    other = submit(
        session, settings, setup, student_number="S004", name_latin="Zhao Liu",
        birth_date=date(2002, 3, 4),
    )  # fmt: skip
    assert other.status == "waitlisted"  # the campaign had one kit
    fast_row, fast_events = stored(session, answer["token"])
    slow_row, slow_events = stored(session, other.token)
    differ = {k for k in fast_row if fast_row[k] != slow_row[k]}
    # only what the students typed differs, and what allocation decided
    assert differ == {
        "student_key", "student_number", "name_latin", "birth_date", "status", "reserved_lot_id",
        "reasons",
    }  # fmt: skip
    assert fast_row["reasons"][:-1] == slow_row["reasons"][:-1]
    assert [r["code"] for r in fast_row["reasons"][-1:] + slow_row["reasons"][-1:]] == [
        "allocated", "no_stock",
    ]  # fmt: skip
    # both record the consent to the campaign's current notice, and when
    notice = notices.current(session, setup["campaign"].id)
    assert fast_row["notice_id"] == slow_row["notice_id"] == notice.id is not None
    for t in (answer["token"], other.token):
        at = session.scalars(select(Claim.consented_at).where(Claim.token == t)).one()
        assert at is not None and abs(notices.as_utc(at) - utcnow()) < timedelta(minutes=1)
    assert [e[:2] for e in fast_events] == [
        (None, "submitted"), (None, "verified"), ("verified", "allocated"),
    ]  # fmt: skip
    assert [e[:2] for e in slow_events] == [
        (None, "submitted"), (None, "verified"), ("verified", "waitlisted"),
    ]  # fmt: skip
    # the answer is the status page's, read back through the session
    claim = session.scalars(select(Claim).where(Claim.token == answer["token"])).one()
    view = claim_views.holder_view(session=session, claim=claim, locale="zh_CN")
    assert answer == view
    assert session.scalar(select(func.count()).where(StockMovement.kind == "reserve")) == 1
    assert ledger.check(session) == []


EXTRAS = {"phone": "0612345678", "wechat": "zs-wx", "address": "1 rue X", "lat": 48.9, "lon": 2.4}


def _contact(session: Session, token: str) -> tuple:
    session.rollback()
    c = session.scalars(select(Claim).where(Claim.token == token)).one()
    return c.phone, c.wechat, c.address, c.lat, c.lon


def test_both_paths_keep_only_what_a_pickup_needs(world):
    """A pickup sent with a phone, a WeChat ID and an address (a script, an old form): neither
    path stores what the campaign does not ask; what it asks, both keep."""
    settings, session, setup = world
    answer, *_ = fast(settings, setup, **EXTRAS)
    slow = submit(session, settings, setup, student_number="S004", name_latin="Zhao Liu",
                  birth_date=date(2002, 3, 4), **EXTRAS)  # fmt: skip
    assert _contact(session, answer["token"]) == _contact(session, slow.token)
    assert _contact(session, answer["token"]) == ("", "", "", None, None)
    c = session.get(Campaign, setup["campaign"].id)
    c.asks_phone = c.asks_wechat = True
    session.add(c)
    session.commit()
    asked, *_ = fast(settings, setup, student_number="S003", name_latin="Wang Wu",
                     birth_date=date(2000, 1, 1), **EXTRAS)  # fmt: skip
    slow = submit(session, settings, setup, student_number="S002", name_latin="Li Si",
                  name_zh="李四", birth_date=date(2009, 5, 6), **EXTRAS)  # fmt: skip
    assert _contact(session, asked["token"]) == _contact(session, slow.token)
    assert _contact(session, asked["token"]) == ("+33612345678", "zs-wx", "", None, None)


def test_a_stale_notice_version_is_refused_on_both_paths(world):
    settings, session, setup = world
    campaign_id = setup["campaign"].id
    v2 = notices.publish(
        session=session, campaign_id=campaign_id, data=NoticeIn(text_zh="二", text_en="two"),
        user_id=None,
    )  # fmt: skip
    assert v2.version == 2
    with pytest.raises(NoticeChanged) as err:
        fast(settings, setup, notice_version=1)
    assert err.value.status_code == 409 and err.value.code == "notice_changed"
    with pytest.raises(NoticeChanged):
        submit(session, settings, setup, student_number="S004", name_latin="Zhao Liu",
               birth_date=date(2002, 3, 4), notice_version=1)  # fmt: skip
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Claim)) == 0
    answer, *_ = fast(settings, setup, notice_version=2)
    slow = submit(session, settings, setup, student_number="S004", name_latin="Zhao Liu",
                  birth_date=date(2002, 3, 4), notice_version=2)  # fmt: skip
    ids = session.scalars(select(Claim.notice_id).order_by(Claim.id)).all()
    assert ids == [v2.id, v2.id] and slow.notice_id == v2.id and answer["status"] == "allocated"


def test_a_waitlisted_claim_answers_its_position(world):
    settings, session, setup = world
    submit(session, settings, setup, student_number="S004", name_latin="Zhao Liu",
         birth_date=date(2002, 3, 4))  # fmt: skip
    minor, *_ = fast(settings, setup, student_number="S002", name_latin="Li Si", name_zh="李四",
                    birth_date=date(2009, 5, 6), phone="0612345678")  # fmt: skip
    adult, *_ = fast(settings, setup)
    assert (minor["status"], adult["status"]) == ("waitlisted", "waitlisted")
    assert (minor["waitlist_position"], adult["waitlist_position"]) == (1, 2)
    claim = session.scalars(select(Claim).where(Claim.token == adult["token"])).one()
    assert claim_views.holder_view(session=session, claim=claim, locale="zh_CN") == adult


def test_a_slot_is_booked_and_named(world):
    settings, session, setup = world
    starts = utcnow() + timedelta(days=1)
    slot = campaigns.create_slot(
        session=session,
        data=PickupSlotCreate(
            location_id=setup["point"].id, starts_at=starts, ends_at=starts + timedelta(hours=1),
            capacity=1,
        ),
    )  # fmt: skip
    answer, *_ = fast(settings, setup, slot_id=slot.id, locale="en")
    assert answer["slot"] and answer["pickup_point"] == setup["point"].name_en
    session.refresh(slot)
    assert slot.booked == 1
    with pytest.raises(campaigns.SlotFull):
        fast(settings, setup, slot_id=slot.id, student_number="S003", name_latin="Wang Wu",
             birth_date=date(2000, 1, 1))  # fmt: skip
    with pytest.raises(Invalid):  # a slot of no such point
        fast(settings, setup, slot_id=slot.id + 99, student_number="S004", name_latin="Zhao Liu",
             birth_date=date(2002, 3, 4))  # fmt: skip


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"student_number": "S999"}, NotEligible),
        ({"consent": False}, Invalid),
        ({"pickup_location_id": 999_999}, Invalid),  # no such point (-5 is refused by ClaimIn)
    ],
)
def test_refusals_store_no_claim_but_count_the_attempt(world, change, error):
    settings, session, setup = world
    with pytest.raises(error):
        fast(settings, setup, **change)
    assert counted(session, settings) == 1
    assert session.scalar(select(func.count()).select_from(Claim)) == 0


def test_a_second_claim_is_refused(world):
    settings, session, setup = world
    fast(settings, setup)
    with pytest.raises(AlreadyClaimed):
        fast(settings, setup)


def test_an_unknown_or_closed_campaign(world):
    settings, session, setup = world
    with pytest.raises(NotFound):
        fast(settings, setup, public_id="no-such-campaign")
    c = session.get(Campaign, setup["campaign"].id)
    c.closes_at = utcnow() - timedelta(minutes=1)
    session.add(c)
    session.commit()
    with pytest.raises(campaigns.CampaignClosed):
        fast(settings, setup)
    assert session.scalar(select(func.count()).select_from(Claim)) == 0


def test_the_rate_limit_holds_and_a_fallback_does_not_count_twice(world):
    settings, session, setup = world
    settings.claim_rate_per_student = 2
    with pytest.raises(NotEligible):
        fast(settings, setup, birth_date=date(1999, 1, 1))
    # the fast path gave way after counting: the session path is told not to count again
    c = submit(session, settings, setup, counted=True)
    assert c.status == "allocated" and counted(session, settings) == 1
    with pytest.raises(AlreadyClaimed):  # the second attempt counted: at the limit
        fast(settings, setup)
    with pytest.raises(TooManyRequests):
        fast(settings, setup)
    assert counted(session, settings) == 3


def test_only_pickups_without_mail_take_the_fast_path(world):
    _, _, setup = world
    assert claim_fast.applies(claim_in(setup))
    assert not claim_fast.applies(claim_in(setup, email="a@univ-test.fr"))
    assert not claim_fast.applies(
        claim_in(setup, fulfilment="delivery", address="1 rue", lat=48.0, lon=2.0)
    )


def test_only_the_counting_statement_skips_the_wait_for_the_disk(world):
    """The counters' commit is asynchronous (set for that statement alone); the claim's and
    every later statement's on the connection wait for the disk as always."""
    settings, session, setup = world

    async def run():  # noqa: ANN202
        # one connection, so the claim's statements and the check below share it
        async with one_connection(settings) as pool:
            answer, *_ = await _try(pool, settings, setup)
            async with pool.connection() as conn:
                setting = await (await conn.execute("SHOW synchronous_commit")).fetchone()
            return answer, setting[0]

    answer, setting = aio.run(run())
    assert answer["status"] == "allocated" and setting == "on"


def test_a_claim_stored_before_the_answer_was_lost_is_the_fallbacks_answer(world):
    """The fast path sent the claim's write and lost its connection: claims.submit, given its
    token, answers with that claim instead of a 409; any other token still gets the 409."""
    settings, session, setup = world
    answer, *_ = fast(settings, setup)
    with pytest.raises(AlreadyClaimed):
        submit(session, settings, setup, counted=True, token="not-the-one")
    again = submit(session, settings, setup, counted=True, token=answer["token"])
    assert again.token == answer["token"] and again.status == "allocated"
    assert session.scalar(select(func.count()).select_from(Claim)) == 1


def test_a_broken_connection_leaves_the_claim_to_the_session_path(world):
    """A pool connection that died (a database restart) fails the first statement: nothing was
    counted or sent, the caller's claims.submit does it all."""
    settings, session, setup = world

    async def run():  # noqa: ANN202
        async with one_connection(settings) as pool:
            async with pool.connection() as conn:
                pid = conn.info.backend_pid
            with psycopg.connect(pool.conninfo, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            return await _try(pool, settings, setup)

    assert aio.run(run()) == (None, False, None)
    assert counted(session, settings) == 0
    c = submit(session, settings, setup)
    assert c.status == "allocated" and counted(session, settings) == 1


@asynccontextmanager
async def one_connection(settings: Settings) -> AsyncIterator[AsyncConnectionPool]:
    """An event-loop pool of one connection (as app.core.db.open_async_pool's, but never two)."""
    url = settings.sqlalchemy_url.replace("postgresql+psycopg", "postgresql")
    pool = AsyncConnectionPool(url, min_size=1, max_size=1, kwargs={"autocommit": True}, open=False)
    await pool.open()
    try:
        yield pool
    finally:
        await pool.close()


async def _try(pool: AsyncConnectionPool, settings: Settings, setup: dict) -> claim_fast.Outcome:
    return await claim_fast.try_submit(
        pool,
        settings=settings,
        public_id=setup["campaign"].public_id,
        data=claim_in(setup),
        locale="en",
        address="10.0.0.9",
    )
