"""A delivery claim without coordinates joins a run, waits as `needs_pin`, and is routed once a
diplomat places it on the map (API and page), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from models.audit import AuditEntry
from models.claims import Claim
from models.runs import Run, RunStop
from tests import factories as f
from tests.runs import factories as rf

H8, H20 = 8 * 3600, 20 * 3600


def _run_with_unpinned(client, headers):  # noqa: ANN001, ANN202
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        claims = rf.scattered(s, setup, 3, radius_km=20)
        nowhere = rf.delivery_claim(s, setup, lat=None, lon=None, name="No Where")
    r = client.post(
        "/api/v1/runs",
        json={"name": "Pins", "date": "2026-05-05", "depot_location_id": setup["depot"].id},
        headers=headers,
    )
    run_id = r.json()["id"]
    r = client.post(
        f"/api/v1/runs/{run_id}/vehicles",
        json={"name": "Car A", "capacity": 10, "shift_start_s": H8, "shift_end_s": H20},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"/api/v1/runs/{run_id}/claims",
        json={"claim_ids": [c.id for c in claims] + [nowhere.id]},
        headers=headers,
    )
    assert r.status_code in (200, 201), r.text
    stop_id = next(s["id"] for s in r.json() if s["claim_id"] == nowhere.id)
    return run_id, stop_id, nowhere, setup


def _stop(client, headers, run_id: int, stop_id: int) -> dict:  # noqa: ANN001
    d = client.get(f"/api/v1/runs/{run_id}", headers=headers).json()
    return next(s for s in d["stops"] if s["id"] == stop_id)


def test_unpinned_stop_waits_then_is_routed_once_pinned(client) -> None:  # noqa: ANN001
    headers = f.api_headers(client)
    run_id, stop_id, nowhere, _ = _run_with_unpinned(client, headers)

    r = client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers)
    assert r.status_code == 200, r.text
    d = r.json()
    stop = next(s for s in d["stops"] if s["id"] == stop_id)
    assert (stop["status"], stop["unassigned_reason"], stop["vehicle_id"]) == (
        "unassigned",
        "needs_pin",
        None,
    )
    routed = [s for s in d["stops"] if s["vehicle_id"] is not None]
    assert len(routed) == 3 and all(s["lat"] is not None for s in routed)

    # It cannot be moved onto a car while it has no position.
    car = d["vehicles"][0]["id"]
    r = client.post(
        f"/api/v1/runs/{run_id}/stops/{stop_id}/move",
        json={"vehicle_id": car, "position": 1},
        headers=headers,
    )
    assert r.status_code == 422 and "map" in r.json()["error"]["message"]

    # A position off the map is refused; a good one is stored on the claim and audited.
    for bad in ({"lat": 91, "lon": 2.3}, {"lat": 48.8, "lon": 181}, {"lat": 48.8}):
        r = client.post(f"/api/v1/runs/{run_id}/stops/{stop_id}/pin", json=bad, headers=headers)
        assert r.status_code == 422, bad
    r = client.post(
        f"/api/v1/runs/{run_id}/stops/{stop_id}/pin",
        json={"lat": 48.87, "lon": 2.31},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["lat"], body["lon"], body["unassigned_reason"]) == (48.87, 2.31, None)
    with Session(client.app.state.engine) as s:
        claim = s.get(Claim, nowhere.id)
        assert (claim.lat, claim.lon) == (48.87, 2.31)
        assert s.get(Run, run_id).status == "draft"  # the plan is stale: optimise again
        audit = s.execute(
            select(AuditEntry).where(
                AuditEntry.action == "claim.pin", AuditEntry.object_id == str(nowhere.id)
            )
        ).scalar_one()
        assert audit.user_id is not None and audit.after["stop_id"] == stop_id
        assert "48.87" not in str(audit.after)  # the position stays with the claim

    r = client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers)
    assert r.status_code == 200, r.text
    stop = _stop(client, headers, run_id, stop_id)
    assert stop["vehicle_id"] == car and stop["status"] == "planned" and stop["seq"] >= 1

    # Once dispatched, the run cannot be changed: no more pins.
    assert client.post(f"/api/v1/runs/{run_id}/dispatch", headers=headers).status_code == 200
    r = client.post(
        f"/api/v1/runs/{run_id}/stops/{stop_id}/pin",
        json={"lat": 48.8, "lon": 2.3},
        headers=headers,
    )
    assert r.status_code == 409


def test_only_unpinned_stops_still_plan(client) -> None:  # noqa: ANN001
    headers = f.api_headers(client)
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        nowhere = rf.delivery_claim(s, setup, lat=None, lon=None, name="No Where")
    run_id = client.post(
        "/api/v1/runs",
        json={"name": "Only", "date": "2026-05-05", "depot_location_id": setup["depot"].id},
        headers=headers,
    ).json()["id"]
    client.post(
        f"/api/v1/runs/{run_id}/vehicles",
        json={"name": "Car A", "capacity": 10, "shift_start_s": H8, "shift_end_s": H20},
        headers=headers,
    )
    r = client.post(
        f"/api/v1/runs/{run_id}/claims", json={"claim_ids": [nowhere.id]}, headers=headers
    )
    assert r.status_code in (200, 201), r.text
    r = client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers)
    assert r.status_code == 200, r.text
    [stop] = r.json()["stops"]
    assert stop["unassigned_reason"] == "needs_pin"


def test_pin_from_the_page(client) -> None:  # noqa: ANN001
    headers = f.api_headers(client, "api")
    run_id, stop_id, nowhere, _ = _run_with_unpinned(client, headers)
    client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers)
    f.login_page(client)
    page = client.get(f"/admin/runs/{run_id}")
    assert page.status_code == 200
    assert f'action="/admin/runs/{run_id}/stops/{stop_id}/pin"' in page.text
    assert 'id="runmap-data"' in page.text and "needs_pin" in page.text
    csrf = client.cookies.get("kitrun_csrf")
    r = client.post(
        f"/admin/runs/{run_id}/stops/{stop_id}/pin",
        data={"csrf_token": csrf, "lat": "200", "lon": "2.3"},
    )
    assert r.status_code == 422
    r = client.post(
        f"/admin/runs/{run_id}/stops/{stop_id}/pin",
        data={"csrf_token": csrf, "lat": "48.861", "lon": "2.335"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("#map")
    with Session(client.app.state.engine) as s:
        claim = s.get(Claim, nowhere.id)
        assert (claim.lat, claim.lon) == (48.861, 2.335)
        stop = s.get(RunStop, stop_id)
        assert stop.unassigned_reason is None
    page = client.get(f"/admin/runs/{run_id}")
    assert f'action="/admin/runs/{run_id}/stops/{stop_id}/pin"' not in page.text
