"""Exports of personal data (issue 16, point 7): the claims and scans CSVs ask for a reason
(422 without one), are in the audit trail without personal values, log the minors whose address
or phone they hold, and carry a notice on their first line, formulas still defused; the staff
pages ask for the reason before downloading."""

from __future__ import annotations

import csv
import io
import json

from sqlmodel import Session, select

from app.core import csv_out
from models.audit import AuditEntry
from models.privacy import PersonalView
from tests import factories as f
from tests.runs import factories as rf


def _world(client) -> dict:  # noqa: ANN001
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = rf.district(s, kits=10)
        minor = rf.delivery_claim(s, setup, minor=True, name="Minor Export")
        adult = rf.delivery_claim(s, setup, name="Adult Export")
        dip = f.user(s, "dip", "diplomat")
        f.user(s, "vol", "volunteer")
        f.user(s, "drv", "driver")
        out = {
            "campaign_id": setup["campaign"].id,
            "minor": (minor.id, minor.address, minor.phone, minor.name_latin),
            "adult": (adult.id, adult.address, adult.phone, adult.name_latin),
            "dip": dip.id,
        }
    return out


def _bearer(client, username: str) -> dict[str, str]:  # noqa: ANN001
    r = client.post("/api/v1/auth/token", json={"username": username, "password": f.PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _audit(client, action: str) -> list[AuditEntry]:  # noqa: ANN001
    with Session(client.app.state.engine) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def _cells(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_exports_need_a_reason(client) -> None:  # noqa: ANN001
    _world(client)
    h = _bearer(client, "dip")
    for url in ("/api/v1/claims.csv", "/api/v1/scans.csv"):
        for query in ("", "?reason=", "?reason=%20%20%20", "?reason=" + "x" * 301):
            r = client.get(url + query, headers=h)
            assert r.status_code == 422, (url, query, r.text)
        r = client.get(url, headers=h)
        error = r.json()["error"]
        assert error["code"] == "reason_required"
        assert "reason is required" in error["message"]
    assert _audit(client, "export.claims") == [] and _audit(client, "export.scans") == []
    with Session(client.app.state.engine) as s:
        assert s.exec(select(PersonalView)).all() == []


def test_claims_export_carries_a_notice_and_is_audited(client) -> None:  # noqa: ANN001
    w = _world(client)
    h = _bearer(client, "dip")
    reason = "call list for Saturday's deliveries"
    r = client.get(f"/api/v1/claims.csv?campaign_id={w['campaign_id']}&reason={reason}", headers=h)
    assert r.status_code == 200, r.text
    rows = _cells(r.content)
    [notice] = rows[0]
    assert notice.startswith("# Personal data of students: exported by dip on ")
    assert f"for: {reason}." in notice and "delete it after use" in notice
    assert rows[1][:4] == ["id", "campaign", "school", "status"] and len(rows) == 4
    assert {w["minor"][3], w["adult"][3]} <= {c for row in rows[2:] for c in row}

    [entry] = _audit(client, "export.claims")
    assert (entry.user_id, entry.object_type, entry.object_id) == (w["dip"], "export", "claims")
    assert entry.after["reason"] == reason and entry.after["rows"] == 2
    assert entry.after["filters"] == {"campaign_id": w["campaign_id"]}
    kept = json.dumps(entry.after, ensure_ascii=False)
    for value in (*w["minor"][1:], *w["adult"][1:]):
        assert value not in kept  # no personal values in the trail

    with Session(client.app.state.engine) as s:
        views = s.exec(select(PersonalView)).all()
    assert [(v.claim_id, v.user_id, v.context, v.fields) for v in views] == [
        (w["minor"][0], w["dip"], "export", "address,phone")
    ]  # the adult is not logged


def test_scans_export_carries_a_notice_and_is_audited(client) -> None:  # noqa: ANN001
    w = _world(client)
    h = _bearer(client, "dip")
    r = client.get("/api/v1/scans.csv?reason=weekly%20check&claim_id=1", headers=h)
    assert r.status_code == 200, r.text
    rows = _cells(r.content)
    assert rows[0][0].startswith("# Personal data of students: exported by dip on ")
    assert rows[1][0] == "scan_id" and len(rows) == 2
    [entry] = _audit(client, "export.scans")
    assert entry.user_id == w["dip"] and entry.after["reason"] == "weekly check"
    assert entry.after["rows"] == 0 and entry.after["filters"] == {"claim_id": 1}


def test_only_diplomats_export(client) -> None:  # noqa: ANN001
    _world(client)
    for who in ("vol", "drv"):
        h = _bearer(client, who)
        for url in ("/api/v1/claims.csv?reason=x", "/api/v1/scans.csv?reason=x"):
            assert client.get(url, headers=h).status_code == 403
    assert _audit(client, "export.claims") == []


def test_a_hostile_reason_stays_inside_the_notice(client) -> None:  # noqa: ANN001
    _world(client)
    h = _bearer(client, "dip")
    hostile = '=HYPERLINK("http://x"),@SUM(A1);-2+3\t+1\r\n=1'
    r = client.get("/api/v1/claims.csv", params={"reason": hostile}, headers=h)
    assert r.status_code == 200, r.text
    text = r.content.decode("utf-8-sig")
    first = text.split("\r\n", 1)[0]
    assert first.startswith('"# Personal data') and first.endswith('"')  # one quoted cell
    rows = _cells(r.content)
    assert len(rows[0]) == 1
    # Excel in many locales separates with `;`: that line still reads as one cell
    assert len(next(csv.reader([first], delimiter=";"))) == 1
    live = [c for row in rows for c in row if c.startswith(csv_out.TRIGGERS)]
    assert live == []


def test_notice_row_of_the_writer() -> None:
    w = csv_out.Writer(["a", "b"], notice="plain notice")
    w.writerow(["=1+2", "x"])
    lines = w.to_bytes().decode("utf-8-sig").splitlines()
    assert lines == ["# plain notice", "a,b", "'=1+2,x"] and w.rows == 1
    w = csv_out.Writer(["a"], notice="one,two")
    assert w.to_bytes().decode("utf-8-sig").splitlines()[0] == '"# one,two"'
    assert csv_out.Writer(["a"]).to_bytes().decode("utf-8-sig").splitlines() == ["a"]


def test_staff_pages_ask_for_the_reason_first(client) -> None:  # noqa: ANN001
    w = _world(client)
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": "dip",
            "password": f.PASSWORD,
            "next": "/",
            "csrf_token": client.cookies.get("kitrun_csrf"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    pages = {
        f"/admin/claims?campaign_id={w['campaign_id']}": "/api/v1/claims.csv",
        "/admin/pickup": "/api/v1/scans.csv",
        "/admin/pickup/scans": "/api/v1/scans.csv",
        f"/admin/pickup/claims/{w['minor'][0]}": "/api/v1/scans.csv",
        f"/admin/dashboard?campaign={w['campaign_id']}": "/api/v1/claims.csv",
    }
    for page, export in pages.items():
        html = client.get(page).text
        assert f'href="{export}' not in html, page  # no download without a reason
        form = html.split(f'<form method="get" action="{export}"', 1)
        assert len(form) == 2, page
        body = form[1].split("</form>", 1)[0]
        assert 'name="reason" required maxlength="300"' in body, page
    claims_form = client.get(f"/admin/claims?campaign_id={w['campaign_id']}").text.split(
        '<form method="get" action="/api/v1/claims.csv"', 1
    )[1]
    assert f'name="campaign_id" value="{w["campaign_id"]}"' in claims_form.split("</form>")[0]
