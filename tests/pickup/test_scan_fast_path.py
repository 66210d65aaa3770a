"""The scan endpoint's fast path on PostgreSQL (redeem.try_fast): the winning scan and every
refusal on the event loop, with the same answer and scan row as redeem; an unknown caller, a
recipe not yet read are left to redeem, with nothing written."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.accounts import service as accounts
from app.core.config import Settings
from app.core.db import open_async_pool
from app.pickup import handover as pickup
from app.pickup import redeem
from models.claims import Claim
from models.inventory import StockLevel, StockMovement
from models.pickup import Scan
from tests import aio
from tests.pickup import factories as pf


def fast(settings: Settings, code: str, token: str, point_id: int, **kw):  # noqa: ANN003, ANN201
    """try_fast with a pool opened (and closed) on a fresh event loop."""

    async def run():  # noqa: ANN202
        pool = await open_async_pool(settings)
        try:
            return await redeem.try_fast(
                pool,
                code=code,
                nonce=kw.pop("nonce", uuid.uuid4().hex),
                scanned_at=datetime.now(UTC),
                token=token,
                token_kind=kw.pop("kind", "api"),
                location_id=point_id,
                **kw,
            )
        finally:
            await pool.close()

    return aio.run(run())


def counts(session: Session) -> tuple[int, int]:
    session.rollback()
    scans = session.scalar(select(func.count()).select_from(Scan))
    moves = session.scalar(select(func.count()).where(StockMovement.kind == "issue"))
    return scans, moves


@pytest.fixture
def world(pg):  # noqa: ANN001, ANN201
    settings, session = pg
    w = pf.world(session)
    raw, _ = accounts.issue_token(session=session, user=w.volunteer, kind="api", days=1)
    pickup.kit_contents(session, item_id=w.kit.id, kits=1)  # the recipe as a worker caches it
    return settings, session, w, raw


def test_the_winning_scan_hands_over_in_one_go(world):
    settings, session, w, raw = world
    c = pf.claim(session, w)
    ok = fast(settings, c.token, raw, w.point.id)
    assert ok["result"] == "ok" and ok["claim"]["kit"]["contents"][0]["quantity"] == 20
    session.rollback()
    stored = session.get(Claim, c.id)
    session.refresh(stored)
    assert stored.status == "handed_over" and stored.handed_over_by == w.volunteer.id
    assert counts(session) == (1, 1)
    row = session.scalars(select(Scan)).one()
    # stored as answered, but the full name and birth year, which only the live answer has
    assert ok.pop("identity")["name_latin"] == "Zhang San"
    assert row.result == "ok" and row.user_id == w.volunteer.id and row.response == ok
    level = session.scalars(select(StockLevel).where(StockLevel.location_id == w.point.id)).one()
    assert (level.on_hand, level.reserved) == (9, 0)


def test_a_session_cookie_is_a_caller_too_but_not_as_an_api_token(world):
    settings, session, w, raw = world
    cookie, _ = accounts.issue_token(session=session, user=w.volunteer, kind="session", days=1)
    c1, c2 = pf.claim(session, w), pf.claim(session, w)
    assert fast(settings, c1.token, raw, w.point.id, kind="session") is None
    assert fast(settings, c1.token, cookie, w.point.id, kind="api") is None
    assert counts(session) == (0, 0)
    assert fast(settings, c2.token, cookie, w.point.id, kind="session")["result"] == "ok"
    assert counts(session) == (1, 1)


def slow(session: Session, code: str, raw: str, point_id: int, nonce: str) -> dict:
    """The same scan through redeem, in a session."""
    return redeem.redeem(
        session=session,
        code=code,
        location_id=point_id,
        nonce=nonce,
        scanned_at=datetime.now(UTC),
        bearer=raw,
    )


def last_row(session: Session) -> dict:
    session.rollback()
    row = session.scalars(select(Scan).order_by(Scan.id.desc())).first()
    kept = ("claim_id", "code_hash", "user_id", "location_id", "run_stop_id", "result", "conflict")
    return {**{k: getattr(row, k) for k in kept}, "response": row.response}


REFUSALS = {
    "handed_over": "already_handed_over",
    "other_point": "not_your_point",
    "unknown_point": "unknown_point",
    "not_ready": "not_ready",
    "cancelled": "cancelled",
    "wrong_point": "wrong_point",
    "garbled": "invalid",
    "unknown_code": "invalid",
    "campaign_closed": "campaign_closed",
    "nonce_reused": "nonce_reused",
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_refusal_is_answered_on_the_fast_path_as_redeem_answers_it(world, case):
    settings, session, w, raw = world
    status = {"not_ready": "waitlisted", "cancelled": "cancelled"}.get(case, "allocated")
    located = w.other_point if case == "wrong_point" else None
    c = pf.claim(session, w, status=status, location=located)
    point, code = w.point.id, c.token
    if case == "handed_over":
        assert fast(settings, c.token, raw, w.point.id)["result"] == "ok"
    if case == "other_point":
        point = w.other_point.id  # the volunteer is not assigned there
    if case == "unknown_point":
        point = 999_999
    if case == "garbled":
        code = c.token[:-1]
    if case == "unknown_code":
        code = "K-ZZZZ-ZZZZ"
    if case == "campaign_closed":
        w.campaign.status = "closed"
        session.add(w.campaign)
        session.commit()
    nonces = [uuid.uuid4().hex, uuid.uuid4().hex]
    if case == "nonce_reused":
        for nonce in nonces:  # each nonce first names another claim's scan
            other = pf.claim(session, w)
            assert fast(settings, other.token, raw, w.point.id, nonce=nonce)["result"] == "ok"
    before = counts(session)

    by_fast = fast(settings, code, raw, point, nonce=nonces[0])
    assert by_fast is not None and by_fast["result"] == REFUSALS[case]
    fast_row = last_row(session)
    by_redeem = slow(session, code, raw, point, nonces[1])
    assert counts(session) == (before[0] + 2, before[1])  # two attempts logged, nothing issued
    assert by_fast == by_redeem
    assert fast_row == last_row(session)
    if case == "handed_over":
        assert by_fast["handed_over"]["location"]["name_en"] == "Point A"
        assert by_fast["handed_over"]["by"] == (w.volunteer.display_name or "vol")
    if case == "wrong_point":
        assert by_fast["kit_location"]["name_en"] == "Point B"


def test_a_retried_nonce_gets_its_first_answer_with_nothing_written(world):
    settings, session, w, raw = world
    c = pf.claim(session, w, status="waitlisted")
    nonce = uuid.uuid4().hex
    first = fast(settings, c.token, raw, w.point.id, nonce=nonce)
    assert first["result"] == "not_ready"
    before = counts(session)
    assert fast(settings, c.token, raw, w.point.id, nonce=nonce) == first
    assert counts(session) == before


def test_a_late_scan_of_a_kit_handed_over_is_a_conflict_on_both_paths(world):
    settings, session, w, raw = world
    c = pf.claim(session, w)
    assert fast(settings, c.token, raw, w.point.id)["result"] == "ok"
    late = fast(settings, c.token, raw, w.point.id, queued=True)
    assert late["result"] == "already_handed_over" and late["conflict"] is True
    assert last_row(session)["conflict"] is True


@pytest.mark.parametrize("case", ["unknown_token", "cookie_as_api_token"])
def test_an_unknown_caller_is_left_to_redeem_with_nothing_written(world, case):
    settings, session, w, raw = world
    c = pf.claim(session, w)
    token = "not-a-token"
    if case == "cookie_as_api_token":
        token, _ = accounts.issue_token(session=session, user=w.volunteer, kind="session", days=1)
    before = counts(session)
    assert fast(settings, c.token, token, w.point.id) is None
    assert counts(session) == before


def test_a_recipe_not_yet_read_is_left_to_redeem(world):
    settings, session, w, raw = world
    pickup._recipes.clear()
    c = pf.claim(session, w)
    assert fast(settings, c.token, raw, w.point.id) is None
    assert counts(session) == (0, 0)
    answer = redeem.redeem(
        session=session,
        code=c.token,
        location_id=w.point.id,
        nonce=uuid.uuid4().hex,
        scanned_at=datetime.now(UTC),
        bearer=raw,
    )
    assert answer["result"] == "ok" and counts(session) == (1, 1)
