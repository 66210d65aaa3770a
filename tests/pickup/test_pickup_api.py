"""The pickup API and pages through the HTTP client, on SQLite and PostgreSQL."""

import io
import uuid
from datetime import UTC, datetime

import qrcode
from sqlalchemy import func, select
from sqlmodel import Session

from app.accounts import service as accounts
from models.claims import Claim
from models.pickup import Scan
from tests.factories import PASSWORD
from tests.pickup import factories as pf


def setup(client):  # noqa: ANN001, ANN201
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        w = pf.world(s)
        c = pf.claim(s, w)
    return w, c


def bearer(client, username):  # noqa: ANN001, ANN201
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def body(code, point_id, nonce=None, **kw):  # noqa: ANN001, ANN201
    return {
        "code": code,
        "point_id": point_id,
        "nonce": nonce or str(uuid.uuid4()),
        "scanned_at": datetime.now(UTC).isoformat(),
        **kw,
    }


def scans(client):  # noqa: ANN001, ANN201
    with Session(client.app.state.engine) as s:
        return s.execute(select(func.count()).select_from(Scan)).scalar_one()


def test_redeem_over_the_api(client):
    w, c = setup(client)
    vol = bearer(client, "vol")
    r = client.post("/api/v1/scans", json=body(c.token, w.point.id, "n1"), headers=vol)
    assert r.status_code == 200 and r.json()["result"] == "ok"
    assert r.json()["message"] == "Kits to hand over: 1."
    # retry: same answer, nothing new recorded
    again = client.post("/api/v1/scans", json=body(c.token, w.point.id, "n1"), headers=vol)
    assert again.json() == r.json() and scans(client) == 1
    # the nonce with another code: 409 in the same shape, recorded as an attempt of its own
    reused = client.post("/api/v1/scans", json=body("XYZ", w.point.id, "n1"), headers=vol)
    assert reused.status_code == 409 and reused.json()["result"] == "nonce_reused"
    assert scans(client) == 2
    # and the nonce still names its first attempt
    again = client.post("/api/v1/scans", json=body(c.token, w.point.id, "n1"), headers=vol)
    assert again.json() == r.json() and scans(client) == 2
    # Chinese for the Chinese page
    zh = client.post(
        "/api/v1/scans",
        json=body(c.token, w.point.id),
        headers={**vol, "Accept-Language": "zh-CN"},
    )
    assert zh.json()["result"] == "already_handed_over"
    assert zh.json()["handed_over"]["by"] == "vol"
    # bad point: answered in the body, recorded
    r = client.post("/api/v1/scans", json=body(c.token, w.other_point.id), headers=vol)
    assert r.status_code == 200 and r.json()["result"] == "not_your_point"
    assert scans(client) == 4


def test_malformed_scans_are_422_and_change_nothing(client):
    w, c = setup(client)
    vol = bearer(client, "vol")
    bad = [
        {"code": c.token, "nonce": "a", "scanned_at": datetime.now(UTC).isoformat()},
        body(c.token, w.point.id, run_stop_id=3),
        {**body(c.token, w.point.id), "scanned_at": "2026-05-01T10:00:00"},  # no zone
        {**body(c.token, w.point.id), "scanned_at": "yesterday"},
        body(c.token, w.point.id, nonce="x" * 65),
        body("x" * 501, w.point.id),
        {"point_id": w.point.id},
    ]
    for b in bad:
        r = client.post("/api/v1/scans", json=b, headers=vol)
        assert r.status_code == 422, (b, r.text)
        assert r.json()["error"]["code"] == "validation_error"
    assert scans(client) == 0
    assert client.post("/api/v1/scans", json=body(c.token, w.point.id)).status_code == 401


def test_scan_bearer_token_is_checked_in_the_same_read(client):
    w, c = setup(client)
    vol = bearer(client, "vol")
    unknown = {"Authorization": "Bearer not-a-token-of-ours"}
    r = client.post("/api/v1/scans", json=body(c.token, w.point.id), headers=unknown)
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_unknown"
    raw = vol["Authorization"].split()[1]
    with Session(client.app.state.engine) as s:
        accounts.revoke_token(session=s, raw=raw)
    r = client.post("/api/v1/scans", json=body(c.token, w.point.id), headers=vol)
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"
    assert scans(client) == 0
    with Session(client.app.state.engine) as s:
        assert s.get(Claim, c.id).status == "allocated"
    # a fresh token works, and its owner is the one recorded
    r = client.post("/api/v1/scans", json=body(c.token, w.point.id), headers=bearer(client, "vol"))
    assert r.json()["result"] == "ok"
    with Session(client.app.state.engine) as s:
        assert s.get(Claim, c.id).handed_over_by == w.volunteer.id
        assert s.execute(select(Scan.user_id)).scalar_one() == w.volunteer.id


def test_log_csv_undo_counters_and_points(client):
    w, c = setup(client)
    vol = bearer(client, "vol")
    dip = bearer(client, "dip")
    client.post("/api/v1/scans", json=body(c.token, w.point.id), headers=vol)
    client.post("/api/v1/scans", json=body("nonsense", w.point.id), headers=vol)
    assert client.get("/api/v1/scans", headers=vol).status_code == 403
    page = client.get(f"/api/v1/scans?point_id={w.point.id}&result=ok", headers=dip).json()
    assert page["total"] == 1 and page["items"][0]["claim_id"] == c.id
    assert page["items"][0]["student_zh"] == "张*"
    assert client.get("/api/v1/scans?result=bogus", headers=dip).status_code == 422
    csv = client.get("/api/v1/scans.csv?reason=check", headers=dip)
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    assert c.token not in csv.text and "nonsense" not in csv.text

    counters = client.get(f"/api/v1/pickup-points/{w.point.id}/counters", headers=vol).json()
    assert counters["handed_out_today"] == 1 and counters["still_to_come"] == 0
    r = client.get(f"/api/v1/pickup-points/{w.other_point.id}/counters", headers=vol)
    assert r.status_code == 403
    assert client.get("/api/v1/pickup-points/999/counters", headers=dip).status_code == 404

    url = f"/api/v1/claims/{c.id}/undo-handover"
    assert client.post(url, json={"reason": "x"}, headers=vol).status_code == 403
    assert client.post(url, json={"reason": ""}, headers=dip).status_code == 422
    r = client.post(url, json={"reason": "wrong student"}, headers=dip)
    assert r.status_code == 200 and r.json()["status"] == "ready"
    assert client.post(url, json={"reason": "again"}, headers=dip).status_code == 422

    pts = f"/api/v1/volunteers/{w.volunteer.id}/points"
    r = client.put(pts, json={"location_ids": [w.other_point.id]}, headers=dip)
    assert r.status_code == 200 and r.json()["location_ids"] == [w.other_point.id]
    assert client.get(pts, headers=dip).json()["location_ids"] == [w.other_point.id]
    assert client.put(pts, json={"location_ids": [9999]}, headers=dip).status_code == 404
    r = client.put(
        f"/api/v1/volunteers/{w.diplomat.id}/points", json={"location_ids": []}, headers=dip
    )
    assert r.status_code == 422


def login(client, username):  # noqa: ANN001, ANN201
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "next": "/",
            "csrf_token": client.cookies.get("kitrun_csrf"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_scanner_page_without_javascript(client):
    w, c = setup(client)
    login(client, "vol")
    home = client.get("/volunteer")
    assert f'href="/scan/{w.point.id}"' in home.text
    assert client.get("/scan", follow_redirects=False).headers["location"] == f"/scan/{w.point.id}"
    page = client.get(f"/scan/{w.point.id}")
    assert page.status_code == 200 and 'name="csrf-token"' in page.text
    assert 'autocomplete="off"' in page.text and 'capture="environment"' in page.text
    assert client.get(f"/scan/{w.other_point.id}").status_code == 403
    csrf = client.cookies.get("kitrun_csrf")
    r = client.post(
        f"/scan/{w.point.id}", data={"code": c.short_code, "nonce": "p1", "csrf_token": csrf}
    )
    assert r.status_code == 200 and 'class="scan-result go"' in r.text
    # the volunteer at the table sees the full name and birth year (the log keeps "张*")
    assert "张三" in r.text and "Zhang San" in r.text and "2001" in r.text
    r = client.post(
        f"/scan/{w.point.id}", data={"code": c.short_code, "nonce": "p2", "csrf_token": csrf}
    )
    assert 'class="scan-result stop"' in r.text


def test_photo_upload_is_decoded_on_the_server(client):
    w, c = setup(client)
    login(client, "vol")
    csrf = client.cookies.get("kitrun_csrf")
    png = io.BytesIO()
    qrcode.make(c.token).save(png)
    r = client.post(
        f"/scan/{w.point.id}/photo",
        data={"nonce": "ph1", "csrf_token": csrf},
        files={"photo": ("qr.png", png.getvalue(), "image/png")},
    )
    assert r.status_code == 200 and 'class="scan-result go"' in r.text
    with Session(client.app.state.engine) as s:
        assert s.get(Claim, c.id).status == "handed_over"
    r = client.post(
        f"/scan/{w.point.id}/photo",
        data={"nonce": "ph2", "csrf_token": csrf},
        files={"photo": ("x.png", b"not an image", "image/png")},
    )
    assert r.status_code == 422 and "照片中没有找到二维码" in r.text


def test_diplomat_pages(client):
    w, c = setup(client)
    vol = bearer(client, "vol")
    client.post("/api/v1/scans", json=body(c.token, w.point.id), headers=vol)
    login(client, "dip")
    assert "Point A" in client.get("/admin/pickup?lang=en").text
    page = client.get("/admin/pickup/volunteers")
    assert f'value="{w.volunteer.id}:{w.point.id}" ' in page.text
    csrf = client.cookies.get("kitrun_csrf")
    r = client.post(
        "/admin/pickup/volunteers",
        data={
            "csrf_token": csrf,
            "uid": [str(w.volunteer.id)],
            "vp": [f"{w.volunteer.id}:{w.other_point.id}"],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    with Session(client.app.state.engine) as s:
        from app.pickup import volunteers

        assert volunteers.assignments(session=s) == {w.volunteer.id: {w.other_point.id}}
    log = client.get(f"/admin/pickup/scans?point_id={w.point.id}&result=ok")
    assert f"/admin/pickup/claims/{c.id}" in log.text
    assert client.get("/admin/pickup/conflicts").status_code == 200
    claim_page = client.get(f"/admin/pickup/claims/{c.id}")
    assert "/undo" in claim_page.text
    r = client.post(f"/admin/pickup/claims/{c.id}/undo", data={"csrf_token": csrf, "reason": ""})
    assert r.status_code == 422 and 'role="alert"' in r.text
    r = client.post(
        f"/admin/pickup/claims/{c.id}/undo",
        data={"csrf_token": csrf, "reason": "wrong student"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with Session(client.app.state.engine) as s:
        assert s.get(Claim, c.id).status == "ready"
