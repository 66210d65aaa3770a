"""Delivery-run pages through the HTTP client: plan, map, adjust, dispatch, driver closes a stop."""

from __future__ import annotations

import re

from sqlmodel import Session

from models.claims import Claim
from models.runs import Run, RunStop
from tests import factories as f
from tests.runs import factories as rf


def _post(client, url: str, data: dict | None = None):  # noqa: ANN001, ANN202
    body = {"csrf_token": client.cookies.get("kitrun_csrf"), **(data or {})}
    return client.post(url, data=body, follow_redirects=True)


def test_plan_dispatch_and_drive(client) -> None:  # noqa: ANN001
    f.login_page(client)
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        claims = rf.scattered(s, setup, 5, radius_km=20)
    r = client.get("/admin/runs")
    assert r.status_code == 200
    r = _post(
        client,
        "/admin/runs",
        {"name": "Run A", "run_date": "2026-05-05", "depot_location_id": setup["depot"].id},
    )
    assert r.status_code == 200
    run_id = int(re.search(r"/admin/runs/(\d+)", str(r.url)).group(1))
    r = _post(
        client,
        f"/admin/runs/{run_id}/vehicles",
        {"name": "Car 1", "capacity": "0", "shift_start": "08:00", "shift_end": "18:00"},
    )
    assert r.status_code == 422 and "capacity" in r.text
    r = _post(
        client,
        f"/admin/runs/{run_id}/vehicles",
        {"name": "Car 1", "capacity": "10", "shift_start": "25:99", "shift_end": "18:00"},
    )
    assert r.status_code == 422 and "25:99" in r.text and 'id="vehicles"' in r.text
    r = _post(
        client,
        f"/admin/runs/{run_id}/vehicles",
        {"name": "Car 1", "capacity": "10", "shift_start": "08:00", "shift_end": "18:00"},
    )
    assert r.status_code == 200 and "Car 1" in r.text
    r = _post(client, f"/admin/runs/{run_id}/claims", {"mode": "filter"})
    assert r.status_code == 200
    r = _post(client, f"/admin/runs/{run_id}/optimize")
    assert r.status_code == 200 and "<svg" in r.text and "<polyline" in r.text
    with Session(client.app.state.engine) as s:
        assert s.get(Run, run_id).status == "planned"
    r = client.get(f"/admin/runs/{run_id}/route-sheet.pdf?paper=Letter")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    r = _post(client, f"/admin/runs/{run_id}/dispatch")
    assert r.status_code == 200
    vehicle_id = int(re.search(rf"/driver/runs/{run_id}/(\d+)", r.text).group(1))
    r = client.get(f"/driver/runs/{run_id}/{vehicle_id}")
    assert r.status_code == 200 and "geo:" in r.text and "openstreetmap.org/?mlat=" in r.text
    stop_id = int(re.search(r'name="stop_id" value="(\d+)"', r.text).group(1))
    nonce = re.search(r'name="nonce" value="(\w+)"', r.text).group(1)
    with Session(client.app.state.engine) as s:
        claim = s.get(Claim, s.get(RunStop, stop_id).claim_id)
        code = claim.short_code
    r = _post(
        client,
        f"/driver/runs/{run_id}/{vehicle_id}/scan",
        {"stop_id": stop_id, "code": code, "nonce": nonce},
    )
    assert r.status_code == 200 and "alert ok" in r.text
    with Session(client.app.state.engine) as s:
        assert s.get(RunStop, stop_id).status == "delivered"
    # The next stop fails from the phone: the claim is free again.
    r = client.get(f"/driver/runs/{run_id}/{vehicle_id}")
    nxt = int(re.search(r'name="stop_id" value="(\d+)"', r.text).group(1))
    r = _post(
        client, f"/driver/runs/{run_id}/{vehicle_id}/stops/{nxt}/fail", {"reason": "wrong_address"}
    )
    assert r.status_code == 200
    with Session(client.app.state.engine) as s:
        st = s.get(RunStop, nxt)
        assert (st.status, st.fail_reason) == ("failed", "wrong_address")
        assert s.get(Claim, st.claim_id).run_id is None
    assert len(claims) == 5


def test_time_window_form(client) -> None:  # noqa: ANN001
    from sqlmodel import Session, select

    from app.runs import service as runs_service
    from models.runs import RunStop
    from tests import factories as f
    from tests.runs import factories as rf

    f.login_page(client)
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        claims = rf.scattered(s, setup, 2, radius_km=20)
    r = client.post(
        "/api/v1/runs",
        json={"name": "W", "date": "2026-05-05", "depot_location_id": setup["depot"].id},
        headers={"X-CSRF-Token": client.cookies["kitrun_csrf"]},
    )
    run_id = r.json()["id"]
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        runs_service.select_claims(session=s, run_id=run_id, claim_ids=[c.id for c in claims])
        stop = s.exec(select(RunStop)).first()
    r = client.post(
        f"/admin/runs/{run_id}/stops/{stop.id}/window",
        data={"start": "17:30", "end": "19:00", "csrf_token": client.cookies["kitrun_csrf"]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with Session(client.app.state.engine) as s:
        got = s.get(RunStop, stop.id)
        assert (got.tw_start_s, got.tw_end_s) == (17 * 3600 + 1800, 19 * 3600)
    r = client.post(
        f"/admin/runs/{run_id}/stops/{stop.id}/window",
        data={"start": "19:00", "end": "17:00", "csrf_token": client.cookies["kitrun_csrf"]},
    )
    assert r.status_code == 422
