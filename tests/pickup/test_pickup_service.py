"""Redeem, undo, volunteer points and counters, on SQLite and PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.errors import Forbidden, Invalid, NotFound
from app.core.security import SHORT_ALPHABET, format_short_code
from app.inventory import ledger
from app.pickup import handover as pickup
from app.pickup import log as scan_log
from app.pickup import redeem, volunteers
from models.claims import Claim, ClaimEvent
from models.inventory import StockLevel, StockMovement
from models.pickup import Scan
from tests.pickup import factories as pf


def scan(session, w, code, *, user=None, point=None, nonce=None, at=None, **kw):  # noqa: ANN001, ANN201
    return redeem.redeem(
        session=session,
        code=code,
        location_id=(point or w.point).id,
        nonce=nonce or uuid.uuid4().hex,
        scanned_at=at or datetime.now(UTC),
        user=user or w.volunteer,
        **kw,
    )


def level(session, w, loc=None):  # noqa: ANN001, ANN201
    lv = session.execute(
        select(StockLevel.on_hand, StockLevel.reserved).where(
            StockLevel.item_id == w.kit.id, StockLevel.location_id == (loc or w.point).id
        )
    ).one()
    return tuple(lv)


def count(session, model, *where):  # noqa: ANN001, ANN201
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_ok_hands_over_once_and_issues_the_kit(session):
    w = pf.world(session)
    c = pf.claim(session, w, kits=2)
    assert level(session, w) == (10, 2)
    r = scan(session, w, c.token)
    assert r["result"] == "ok" and r["ok"]
    assert r["claim"]["name_zh"] == "张*" and r["claim"]["name_latin"] == "Z*** San"
    assert r["claim"]["school"]["name_en"] == "University of Paris"
    contents = {x["name_en"]: x["quantity"] for x in r["claim"]["kit"]["contents"]}
    assert contents == {"KN95": 40, "Gel": 2}
    # the live answer names the student in full for the ID check; the log keeps the mask
    assert r["identity"] == {
        "name_zh": "张三",
        "name_latin": "Zhang San",
        "roster_name": "",
        "birth_year": 2001,
    }
    stored = session.scalars(select(Scan.response).where(Scan.claim_id == c.id)).one()
    assert "Zhang" not in str(stored) and "张三" not in str(stored) and "2001" not in str(stored)
    session.expire_all()
    claim = session.get(Claim, c.id)
    assert claim.status == "handed_over" and claim.handed_over_by == w.volunteer.id
    assert claim.handed_over_location_id == w.point.id
    assert level(session, w) == (8, 0)
    assert count(session, StockMovement, StockMovement.kind == "issue") == 1
    assert ledger.check(session) == []
    events = session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == c.id)).all()
    assert [e.to_status for e in events] == ["handed_over"]

    again = scan(session, w, format_short_code(c.short_code).lower())
    assert again["result"] == "already_handed_over" and not again["ok"]
    assert again["handed_over"]["location"]["name_en"] == "Point A"
    assert again["handed_over"]["by"] == "vol"
    assert again.get("conflict") is None
    assert count(session, StockMovement, StockMovement.kind == "issue") == 1
    rows = session.scalars(select(Scan).where(Scan.claim_id == c.id).order_by(Scan.id)).all()
    assert [s.result for s in rows] == ["ok", "already_handed_over"]
    # never the raw code in the log
    assert all(c.token not in str(s.model_dump()) for s in rows)
    assert all(c.short_code not in str(s.model_dump()) for s in rows)


def test_same_nonce_returns_first_answer_and_records_nothing(session):
    w = pf.world(session)
    c = pf.claim(session, w)
    first = scan(session, w, c.token, nonce="n-1")
    second = scan(session, w, c.token, nonce="n-1")
    assert first == second and first["result"] == "ok"
    assert count(session, Scan) == 1
    # the nonce with another code is refused and recorded, each time
    other_code = pf.claim(session, w).token
    for _ in range(2):
        reused = scan(session, w, other_code, nonce="n-1")
        assert reused["result"] == "nonce_reused" and not reused["ok"]
    rows = session.scalars(select(Scan).where(Scan.nonce == "n-1").order_by(Scan.id)).all()
    assert [r.result for r in rows] == ["ok", "nonce_reused", "nonce_reused"]
    assert rows[1].code_hash == pickup.code_hash(other_code) != rows[0].code_hash
    assert session.get(Claim, c.id).status == "handed_over"
    assert (
        session.scalars(select(Claim.status).where(Claim.token == other_code)).one() == "allocated"
    )
    # the nonce still names its first attempt
    assert scan(session, w, c.token, nonce="n-1") == first
    assert count(session, Scan) == 3
    # another volunteer's nonce space is separate
    other = pf.claim(session, w)
    assert scan(session, w, other.token, nonce="n-1", user=w.diplomat)["result"] == "ok"


@pytest.mark.parametrize(
    ("status", "result"),
    [
        ("submitted", "not_ready"),
        ("waitlisted", "not_ready"),
        ("rejected", "not_ready"),
        ("cancelled", "cancelled"),
        ("expired", "cancelled"),
    ],
)
def test_claims_that_cannot_be_handed_over(session, status, result):
    w = pf.world(session)
    c = pf.claim(session, w, status=status, reserve=False)
    r = scan(session, w, c.token)
    assert r["result"] == result
    assert count(session, Scan, Scan.result == result, Scan.claim_id == c.id) == 1
    assert count(session, StockMovement, StockMovement.kind == "issue") == 0


def test_wrong_point_says_where_the_kit_is(session):
    w = pf.world(session)
    c = pf.claim(session, w, location=w.other_point)
    r = scan(session, w, c.token)
    assert r["result"] == "wrong_point"
    assert r["kit_location"]["name_en"] == "Point B" and r["kit_location"]["address"] == "2 rue B"
    assert session.get(Claim, c.id).status == "allocated"


def test_points_and_permissions(session):
    w = pf.world(session)
    c = pf.claim(session, w, location=w.other_point)
    r = scan(session, w, c.token, point=w.other_point)
    assert r["result"] == "not_your_point"
    assert scan(session, w, c.token, point=w.other_point, user=w.diplomat)["result"] == "ok"
    r = redeem.redeem(
        session=session,
        code=c.token,
        location_id=99999,
        nonce="x",
        scanned_at=datetime.now(UTC),
        user=w.volunteer,
    )
    assert r["result"] == "unknown_point"
    stored = session.scalars(select(Scan).where(Scan.nonce == "x")).one()
    assert stored.location_id is None and stored.result == "unknown_point"
    # a run stop cannot be scanned until delivery runs register a resolver
    r = redeem.redeem(
        session=session,
        code=c.token,
        run_stop_id=5,
        nonce="y",
        scanned_at=datetime.now(UTC),
        user=w.volunteer,
    )
    assert r["result"] == "unknown_point"
    with pytest.raises(Invalid):
        redeem.redeem(
            session=session,
            code=c.token,
            nonce="z",
            scanned_at=datetime.now(UTC),
            user=w.volunteer,
        )


def test_campaign_closed(session):
    w = pf.world(session)
    c = pf.claim(session, w)
    w.campaign.status = "closed"
    session.add(w.campaign)
    session.commit()
    assert scan(session, w, c.token)["result"] == "campaign_closed"
    assert session.get(Claim, c.id).status == "allocated"


def test_every_single_character_change_of_a_token_is_invalid(session):
    w = pf.world(session)
    c = pf.claim(session, w)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    codes = [
        c.token[:i] + ch + c.token[i + 1 :]
        for i in range(len(c.token))
        for ch in alphabet
        if ch != c.token[i]
    ]
    codes += [
        c.short_code[:i] + ch + c.short_code[i + 1 :]
        for i in range(len(c.short_code))
        for ch in SHORT_ALPHABET
        if ch != c.short_code[i]
    ]
    codes += [c.token[:-1], c.token + "A", c.short_code[:-1], "", "https://evil/" + "A" * 22]
    results = {scan(session, w, code)["result"] for code in codes}
    assert results == {"invalid"}
    assert count(session, Scan, Scan.result == "invalid") == len(codes)
    assert session.get(Claim, c.id).status == "allocated"
    assert scan(session, w, c.token)["result"] == "ok"


def test_late_upload_finding_the_kit_gone_is_a_flagged_conflict(session):
    w = pf.world(session)
    c = pf.claim(session, w)
    scan(session, w, c.token, user=w.diplomat)
    late = scan(session, w, c.token, at=datetime.now(UTC) - timedelta(minutes=10))
    assert late["result"] == "already_handed_over" and late["conflict"] is True
    queued = scan(session, w, c.token, queued=True)
    assert queued["conflict"] is True
    live = scan(session, w, c.token)
    assert "conflict" not in live
    rows, total = scan_log.list_scans(session=session, filters=scan_log.ScanFilter(conflict=True))
    assert total == 2 and {r["user_id"] for r in rows} == {w.volunteer.id}


def test_undo_handover_reserves_the_kit_again(session):
    w = pf.world(session)
    c = pf.claim(session, w)
    scan(session, w, c.token)
    with pytest.raises(Forbidden):
        pickup.undo_handover(session=session, claim_id=c.id, reason="x", user=w.volunteer)
    with pytest.raises(Invalid):
        pickup.undo_handover(session=session, claim_id=c.id, reason="  ", user=w.diplomat)
    with pytest.raises(NotFound):
        pickup.undo_handover(session=session, claim_id=999, reason="x", user=w.diplomat)
    claim = pickup.undo_handover(
        session=session, claim_id=c.id, reason="scanned the wrong student", user=w.diplomat
    )
    assert claim.status == "ready" and claim.handed_over_at is None
    assert level(session, w) == (10, 1)
    assert ledger.check(session) == []
    ev = session.scalars(select(ClaimEvent).order_by(ClaimEvent.id.desc())).first()
    assert ev.note == "scanned the wrong student" and ev.to_status == "ready"
    with pytest.raises(Invalid):
        pickup.undo_handover(session=session, claim_id=c.id, reason="again", user=w.diplomat)
    # ready claims can be handed over again
    assert scan(session, w, c.short_code)["result"] == "ok"
    assert ledger.check(session) == []


def test_counters_and_assignment(session):
    w = pf.world(session)
    a = pf.claim(session, w, kits=2)
    pf.claim(session, w)
    pf.claim(session, w, location=w.other_point)
    before = scan_log.counters(session=session, location_id=w.point.id, tz="Europe/Paris")
    assert before["handed_out_today"] == 0 and before["still_to_come"] == 3
    scan(session, w, a.token)
    after = scan_log.counters(session=session, location_id=w.point.id, tz="Europe/Paris")
    assert after["handed_out_today"] == 2 and after["still_to_come"] == 1
    with pytest.raises(Invalid):
        scan_log.counters(session=session, location_id=w.point.id, tz="Mars/Olympus")
    with pytest.raises(NotFound):
        scan_log.counters(session=session, location_id=99999)

    assert [p.id for p in volunteers.points_of(session=session, user=w.volunteer)] == [w.point.id]
    assert len(volunteers.points_of(session=session, user=w.diplomat)) == 2
    volunteers.set_volunteer_points(
        session=session, user_id=w.volunteer.id, location_ids=[w.other_point.id]
    )
    assert [p.id for p in volunteers.points_of(session=session, user=w.volunteer)] == [
        w.other_point.id
    ]
    with pytest.raises(Invalid):
        volunteers.set_volunteer_points(session=session, user_id=w.diplomat.id, location_ids=[])
    with pytest.raises(NotFound):
        volunteers.set_volunteer_points(session=session, user_id=w.volunteer.id, location_ids=[99])
    assert volunteers.assignments(session=session) == {w.volunteer.id: {w.other_point.id}}


def test_scan_log_filters_and_csv(session):
    w = pf.world(session)
    c = pf.claim(session, w)
    scan(session, w, c.token)
    scan(session, w, "garbage")
    rows, total = scan_log.list_scans(
        session=session, filters=scan_log.ScanFilter(location_id=w.point.id)
    )
    assert total == 2 and rows[0]["result"] == "invalid"
    rows, total = scan_log.list_scans(session=session, filters=scan_log.ScanFilter(result="ok"))
    assert total == 1 and rows[0]["student_zh"] == "张*" and rows[0]["claim_id"] == c.id
    rows, total = scan_log.list_scans(session=session, filters=scan_log.ScanFilter(claim_id=c.id))
    assert total == 1
    body = scan_log.scans_csv(session=session, filters=scan_log.ScanFilter())
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("scan_id,received_at_utc")
    assert "张*" in text and "张三" not in text and "Zhang San" not in text
    assert c.token not in text and c.short_code not in text and "garbage" not in text
    assert len(text.strip().splitlines()) == 3
