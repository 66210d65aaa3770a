"""The scan endpoint's fast path on PostgreSQL (redeem.try_hand_over): the winning scan on the
event loop; everything else is left to redeem, with nothing written."""

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
from tests import pickup_factories as pf


def fast(settings: Settings, code: str, token: str, point_id: int, **kw):  # noqa: ANN003, ANN201
    """try_hand_over with a pool opened (and closed) on a fresh event loop."""

    async def run():  # noqa: ANN202
        pool = await open_async_pool(settings)
        try:
            return await redeem.try_hand_over(
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


@pytest.mark.parametrize(
    "case", ["handed_over", "unknown_token", "nonce_used", "other_point", "not_ready", "garbled"]
)
def test_everything_else_is_left_to_redeem_with_nothing_written(world, case):
    settings, session, w, raw = world
    c = pf.claim(session, w, status="waitlisted" if case == "not_ready" else "allocated")
    nonce, point, token, code = uuid.uuid4().hex, w.point.id, raw, c.token
    if case == "handed_over":
        assert fast(settings, c.token, raw, w.point.id)["result"] == "ok"
    if case == "nonce_used":
        other = pf.claim(session, w)
        assert fast(settings, other.token, raw, w.point.id, nonce=nonce)["result"] == "ok"
    before = counts(session)
    if case == "unknown_token":
        token = "not-a-token"
    if case == "other_point":
        point = w.other_point.id  # the volunteer is not assigned there
    if case == "garbled":
        code = c.token[:-1]
    assert fast(settings, code, token, point, nonce=nonce) is None
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
