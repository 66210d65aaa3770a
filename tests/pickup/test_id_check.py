"""The ID check at the table: full name and birth year in the live answer only; in a campaign
with `confirm_after_id_check`, "check ID" first and the hand-over on the confirm, exactly once.
On SQLite and PostgreSQL (redeem), and on PostgreSQL's event-loop path (try_fast)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date

import qrcode
from sqlalchemy import func, select
from sqlmodel import Session

from app.accounts import service as accounts
from app.pickup import handover as pickup
from models.campaigns import Campaign
from models.claims import Claim
from models.inventory import StockMovement
from models.pickup import Scan
from models.schools import RosterEntry
from tests.pickup import factories as pf
from tests.pickup.test_pickup_api import bearer, body, login
from tests.pickup.test_pickup_service import count, level, scan
from tests.pickup.test_scan_fast_path import fast


def asks_id_check(session: Session, w: pf.World) -> None:
    w.campaign.confirm_after_id_check = True
    session.add(w.campaign)
    session.commit()


def masked_only(session: Session, claim_id: int) -> None:
    """Every stored answer of the claim keeps the masked name, and no birth date."""
    stored = session.scalars(select(Scan.response).where(Scan.claim_id == claim_id)).all()
    assert stored
    for response in stored:
        assert "identity" not in response
        assert response["claim"]["name_zh"] == "张*", response
        assert "张三" not in str(response) and "Zhang San" not in str(response)
        assert "2001" not in str(response)


def test_a_valid_scan_names_the_student_in_full_and_the_log_keeps_the_mask(session):
    w = pf.world(session)
    c = pf.claim(session, w)
    c.student_number = "S-42"
    session.add(c)
    session.add(
        RosterEntry(
            school_id=w.school.id,
            student_number="S-42",
            name="ZHANG San Feng",
            name_norm="zhangsanfeng",
            birth_date=date(2001, 5, 4),
        )
    )
    session.commit()
    r = scan(session, w, c.token)
    assert r["result"] == "ok"
    assert r["identity"] == {
        "name_zh": "张三",
        "name_latin": "Zhang San",
        "roster_name": "ZHANG San Feng",
        "birth_year": 2001,
    }
    assert r["claim"]["name_zh"] == "张*"  # the answer's claim summary stays masked
    masked_only(session, c.id)
    # refusals name no one in full
    again = scan(session, w, c.token)
    assert again["result"] == "already_handed_over" and "identity" not in again


def test_check_id_then_confirm_hands_over_exactly_once(session):
    w = pf.world(session)
    asks_id_check(session, w)
    c = pf.claim(session, w, kits=2)
    nonce = uuid.uuid4().hex
    check = scan(session, w, c.token, nonce=nonce)
    assert check["result"] == "check_id" and not check["ok"]
    assert check["identity"]["name_latin"] == "Zhang San"
    assert check["identity"]["birth_year"] == 2001
    assert check["params"] == {"kits": 2}
    # a "check ID" changes nothing and records nothing
    session.expire_all()
    assert session.get(Claim, c.id).status == "allocated"
    assert count(session, Scan) == 0 and level(session, w) == (10, 2)
    assert scan(session, w, c.token, nonce=nonce)["result"] == "check_id"  # asked again: same

    done = scan(session, w, c.token, nonce=nonce, confirm=True)
    assert done["result"] == "ok" and done["identity"]["name_zh"] == "张三"
    # the confirm's retry gets the stored answer; so does the check's
    assert scan(session, w, c.token, nonce=nonce, confirm=True)["result"] == "ok"
    assert scan(session, w, c.token, nonce=nonce)["result"] == "ok"
    # another phone's confirm (its own nonce) finds it handed over
    other = scan(session, w, c.token, nonce=uuid.uuid4().hex, confirm=True)
    assert other["result"] == "already_handed_over"
    session.expire_all()
    assert session.get(Claim, c.id).status == "handed_over"
    assert level(session, w) == (8, 0)
    assert count(session, StockMovement, StockMovement.kind == "issue") == 1
    assert [s.result for s in session.scalars(select(Scan).order_by(Scan.id))] == [
        "ok",
        "already_handed_over",
    ]
    masked_only(session, c.id)


def test_check_id_refusals_come_first(session):
    """A claim that cannot be handed over is refused at once, never asked an ID for."""
    w = pf.world(session)
    asks_id_check(session, w)
    elsewhere = pf.claim(session, w, location=w.other_point)
    assert scan(session, w, elsewhere.token)["result"] == "wrong_point"
    assert scan(session, w, "NOT-A-CODE")["result"] == "invalid"
    assert count(session, Scan) == 2


def test_the_event_loop_path_checks_and_confirms_too(pg):
    settings, session = pg
    w = pf.world(session)
    asks_id_check(session, w)
    raw, _ = accounts.issue_token(session=session, user=w.volunteer, kind="api", days=1)
    pickup.kit_contents(session, item_id=w.kit.id, kits=1)
    c = pf.claim(session, w)
    nonce = uuid.uuid4().hex
    check = fast(settings, c.token, raw, w.point.id, nonce=nonce)
    assert check["result"] == "check_id" and check["identity"]["birth_year"] == 2001
    session.rollback()
    assert count(session, Scan) == 0
    done = fast(settings, c.token, raw, w.point.id, nonce=nonce, confirm=True)
    assert done["result"] == "ok" and done["identity"]["name_latin"] == "Zhang San"
    again = fast(settings, c.token, raw, w.point.id, nonce=nonce, confirm=True)
    assert again["result"] == "ok"
    session.rollback()
    assert count(session, StockMovement, StockMovement.kind == "issue") == 1
    masked_only(session, c.id)


def test_api_check_then_confirm(client):
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        w = pf.world(s)
        asks_id_check(s, w)
        c = pf.claim(s, w)
    vol = bearer(client, "vol")
    first = body(c.token, w.point.id)
    r = client.post("/api/v1/scans", json=first, headers={**vol, "Accept-Language": "zh-CN"})
    assert r.status_code == 200 and r.json()["result"] == "check_id"
    assert r.json()["identity"]["name_zh"] == "张三"
    r = client.post("/api/v1/scans", json={**first, "confirm": True}, headers=vol)
    assert r.status_code == 200 and r.json()["result"] == "ok", r.text
    with Session(client.app.state.engine) as s:
        assert s.get(Claim, c.id).status == "handed_over"
        assert s.scalar(select(func.count()).select_from(Scan)) == 1
        masked_only(s, c.id)


def test_page_check_confirm_and_photo_redirect(client):
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        w = pf.world(s)
        asks_id_check(s, w)
        c = pf.claim(s, w)
        c2 = pf.claim(s, w, name_zh="李四", name_latin="Li Si")
    login(client, "vol")
    csrf = client.cookies.get("kitrun_csrf")
    r = client.post(
        f"/scan/{w.point.id}?lang=en",
        data={"code": c.short_code, "nonce": "n1", "csrf_token": csrf},
    )
    assert 'class="scan-result check"' in r.text and "Check ID" in r.text
    assert "张三" in r.text and "Zhang San" in r.text and "Born in 2001" in r.text
    assert 'name="confirm" value="true"' in r.text and 'value="n1"' in r.text
    r = client.post(
        f"/scan/{w.point.id}",
        data={"code": c.short_code, "nonce": "n1", "confirm": "true", "csrf_token": csrf},
    )
    assert 'class="scan-result go"' in r.text and "张三" in r.text
    # a photo: the verdict is shown at the scanner's own address after a 303
    png = io.BytesIO()
    qrcode.make(c2.token).save(png)
    r = client.post(
        f"/scan/{w.point.id}/photo",
        data={"nonce": "ph1", "csrf_token": csrf},
        files={"photo": ("qr.png", png.getvalue(), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/scan/{w.point.id}"
    assert c2.token not in r.headers["set-cookie"]  # the flash is signed, not the raw code
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and 'class="scan-result check"' in page.text
    assert "李四" in page.text and 'name="confirm" value="true"' in page.text
    # shown once; a forged flash is ignored
    assert 'class="scan-result idle"' in client.get(f"/scan/{w.point.id}").text
    client.cookies.set("kitrun_verdict", "e30.bad", path=f"/scan/{w.point.id}")
    assert 'class="scan-result idle"' in client.get(f"/scan/{w.point.id}").text
    with Session(client.app.state.engine) as s:
        assert s.get(Claim, c2.id).status == "allocated"  # not yet: the confirm hands over
        masked_only(s, c.id)


def test_photo_and_live_scans_show_times_alike(client):
    """Both in the district's zone, as YYYY-MM-DD HH:MM (scanner.js formats the same way)."""
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        w = pf.world(s)
        c = pf.claim(s, w)
    vol = bearer(client, "vol")
    client.post("/api/v1/scans", json=body(c.token, w.point.id), headers=vol)
    with Session(client.app.state.engine) as s:
        at = s.get(Claim, c.id).handed_over_at
    login(client, "vol")
    png = io.BytesIO()
    qrcode.make(c.token).save(png)
    r = client.post(
        f"/scan/{w.point.id}/photo",
        data={"nonce": "ph9", "csrf_token": client.cookies.get("kitrun_csrf")},
        files={"photo": ("qr.png", png.getvalue(), "image/png")},
    )
    assert r.url.path == f"/scan/{w.point.id}"
    tz = client.app.state.settings.timezone
    from app.pickup import log as scan_log

    when = at.replace(tzinfo=at.tzinfo or UTC).astimezone(scan_log.zone(tz))
    assert when.strftime("%Y-%m-%d %H:%M") in r.text
    assert f'data-tz="{tz}"' in r.text


def test_the_campaign_forms_set_the_id_check(client):
    from tests.factories import campaign_setup, login_page

    with Session(client.app.state.engine, expire_on_commit=False) as s:
        cid = campaign_setup(s)["campaign"].id
    login_page(client)
    page = client.get("/admin/campaigns").text
    assert page.count('name="confirm_after_id_check"') == 2  # the card's form and the new one

    def save(**fields: str) -> None:
        data = {"campaign_id": str(cid), "status": "open", **fields}
        r = client.post(
            "/admin/campaigns",
            data={**data, "csrf_token": client.cookies["kitrun_csrf"]},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text

    def stored() -> bool:
        with Session(client.app.state.engine) as s:
            return s.get(Campaign, cid).confirm_after_id_check

    save(confirm_after_id_check="true")
    assert stored() is True
    save()  # unticked
    assert stored() is False
