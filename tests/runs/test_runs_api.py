"""The whole delivery-run flow through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session

from app.routing import evaluate
from app.runs import plan as run_plan
from models.claims import Claim, ClaimEvent
from models.inventory import StockLevel
from models.pickup import Scan
from tests import factories as f
from tests.runs import factories as rf

H8, H20 = 8 * 3600, 20 * 3600


def _setup(client, n: int = 8):  # noqa: ANN001, ANN202
    headers = f.api_headers(client)
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        claims = rf.scattered(s, setup, n, radius_km=30)
    return headers, setup, claims


def _run(client, headers, setup) -> int:  # noqa: ANN001
    r = client.post(
        "/api/v1/runs",
        json={
            "name": "Tuesday north",
            "date": "2026-05-05",
            "depot_location_id": setup["depot"].id,
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _vehicle(client, headers, run_id, name="Car A", capacity=5, start=H8, end=H20):  # noqa: ANN001, ANN201
    return client.post(
        f"/api/v1/runs/{run_id}/vehicles",
        json={
            "name": name,
            "capacity": capacity,
            "shift_start_s": start,
            "shift_end_s": end,
            "driver": "Li",
        },
        headers=headers,
    )


def _valid(client, run_id: int) -> None:  # noqa: ANN001
    with Session(client.app.state.engine) as s:
        snap, plan = run_plan.plan_of(s, client.app.state.settings, run_id)
        assert evaluate(snap.problem, plan) == []
        assert len(plan.unassigned) + sum(len(r.stops) for r in plan.routes) == len(snap.stops)


def _scan(client, headers, stop_id, code):  # noqa: ANN001, ANN202
    return client.post(
        "/api/v1/scans",
        json={
            "code": code,
            "run_stop_id": stop_id,
            "nonce": uuid.uuid4().hex,
            "scanned_at": datetime.now(UTC).isoformat(),
        },
        headers=headers,
    )


def test_whole_flow(client) -> None:  # noqa: ANN001
    headers, setup, claims = _setup(client, 8)
    run_id = _run(client, headers, setup)
    assert _vehicle(client, headers, run_id, "Car A").status_code == 201
    assert _vehicle(client, headers, run_id, "Car B").status_code == 201
    r = client.post(
        f"/api/v1/runs/{run_id}/claims", json={"school_id": setup["school"].id}, headers=headers
    )
    assert r.status_code == 201, r.text
    assert len(r.json()) == 8

    r = client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "planned"
    routed = [s for s in body["stops"] if s["vehicle_id"] is not None]
    assert len(routed) == 8 and body["distance_m"] > 0
    for v in body["vehicles"]:
        seqs = [s["seq"] for s in routed if s["vehicle_id"] == v["id"]]
        assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) <= 5
        cum = [s["cumulative_m"] for s in routed if s["vehicle_id"] == v["id"]]
        assert cum == sorted(cum)
    _valid(client, run_id)

    # Move a stop to the front of the other car, locked; re-optimise keeps it there.
    # Move from the fuller car to the emptier one (capacities 5: 8 stops split 3..5 / 5..3).
    car_a, car_b = (v["id"] for v in sorted(body["vehicles"], key=lambda v: -v["stops"]))
    stop = next(s for s in routed if s["vehicle_id"] == car_a)
    r = client.post(
        f"/api/v1/runs/{run_id}/stops/{stop['id']}/move",
        json={"vehicle_id": car_b, "position": 1, "lock": True},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    moved = next(s for s in r.json()["stops"] if s["id"] == stop["id"])
    assert (moved["vehicle_id"], moved["seq"], moved["locked"]) == (car_b, 1, True)
    _valid(client, run_id)
    r = client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers)
    moved = next(s for s in r.json()["stops"] if s["id"] == stop["id"])
    assert (moved["vehicle_id"], moved["seq"], moved["locked"]) == (car_b, 1, True)
    _valid(client, run_id)
    # Unlock, lock again through the lock endpoint.
    r = client.post(
        f"/api/v1/runs/{run_id}/stops/{stop['id']}/lock", json={"locked": False}, headers=headers
    )
    assert (
        r.status_code == 200
        and not next(s for s in r.json()["stops"] if s["id"] == stop["id"])["locked"]
    )

    r = client.post(f"/api/v1/runs/{run_id}/dispatch", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "dispatched"
    assert {s["claim_status"] for s in body["stops"]} == {"out_for_delivery"}
    # No adjusting after dispatch.
    r = client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers)
    assert r.status_code == 409

    stops = body["stops"]
    tokens = {c.id: c for c in claims}
    first, second, rest = stops[0], stops[1], stops[2:]
    # Wrong code at a stop: invalid, nothing closed.
    r = _scan(client, headers, first["id"], tokens[second["claim_id"]].token)
    assert r.json()["result"] == "invalid"
    r = _scan(client, headers, first["id"], tokens[first["claim_id"]].short_code)
    assert r.status_code == 200 and r.json()["result"] == "ok", r.text
    r = _scan(client, headers, first["id"], tokens[first["claim_id"]].token)
    assert r.json()["result"] == "already_handed_over"

    r = client.post(
        f"/api/v1/runs/{run_id}/stops/{second['id']}/fail",
        json={"reason": "not_home", "note": "nobody answered"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "failed" and r.json()["claim_status"] == "allocated"
    r = client.post(
        f"/api/v1/runs/{run_id}/stops/{second['id']}/fail",
        json={"reason": "not_home"},
        headers=headers,
    )
    assert r.status_code == 409
    r = client.post(
        f"/api/v1/runs/{run_id}/stops/{third_id(rest)}/fail",
        json={"reason": "lost"},
        headers=headers,
    )
    assert r.status_code == 422 and "not_home" in r.json()["error"]["message"]

    for s in rest:
        assert _scan(client, headers, s["id"], tokens[s["claim_id"]].token).json()["ok"]
    body = client.get(f"/api/v1/runs/{run_id}", headers=headers).json()
    assert body["status"] == "complete" and body["completed_at"]
    assert sorted(s["status"] for s in body["stops"]) == ["delivered"] * 7 + ["failed"]

    with Session(client.app.state.engine) as s:
        failed = s.get(Claim, second["claim_id"])
        assert (failed.status, failed.run_id) == ("allocated", None)
        delivered = s.get(Claim, first["claim_id"])
        assert delivered.status == "handed_over"
        scans = s.execute(select(Scan).where(Scan.run_stop_id == first["id"])).scalars().all()
        assert [x.result for x in scans] == ["invalid", "ok", "already_handed_over"]
        level = s.execute(
            select(StockLevel).where(StockLevel.location_id == setup["depot"].id)
        ).scalar_one()
        assert (level.on_hand, level.reserved) == (400 - 7, 1)
        events = (
            s.execute(select(ClaimEvent.to_status).where(ClaimEvent.claim_id == second["claim_id"]))
            .scalars()
            .all()
        )
        assert events[-2:] == ["out_for_delivery", "allocated"]
    # The failed claim can be planned on another run.
    run2 = _run(client, headers, setup)
    r = client.post(
        f"/api/v1/runs/{run2}/claims", json={"claim_ids": [second["claim_id"]]}, headers=headers
    )
    assert r.status_code == 201, r.text


def third_id(stops: list[dict]) -> int:
    return stops[0]["id"]


def test_bad_input(client) -> None:  # noqa: ANN001
    headers, setup, claims = _setup(client, 3)
    run_id = _run(client, headers, setup)
    r = _vehicle(client, headers, run_id, capacity=0)
    assert r.status_code == 422 and "capacity" in r.json()["error"]["message"]
    r = _vehicle(client, headers, run_id, start=H20, end=H8)
    assert r.status_code == 422 and "end after" in r.json()["error"]["message"]
    # a claim without coordinates joins and waits for a pin: tests/runs/test_pins.py
    r = client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers)
    assert r.status_code == 422
    r = client.post(
        "/api/v1/runs",
        json={"name": "x", "date": "2026-05-05", "depot_location_id": 99999},
        headers=headers,
    )
    assert r.status_code == 422
    r = client.get(f"/api/v1/runs/{run_id}/route-sheet.pdf", headers=headers)
    assert r.status_code == 422 and "optimise" in r.json()["error"]["message"]
    r = client.post(f"/api/v1/runs/{run_id}/dispatch", headers=headers)
    assert r.status_code == 409


def test_more_kits_than_cars_carry(client) -> None:  # noqa: ANN001
    headers, setup, claims = _setup(client, 6)
    run_id = _run(client, headers, setup)
    _vehicle(client, headers, run_id, capacity=2)
    _vehicle(client, headers, run_id, "Car B", capacity=2)
    ids = [c.id for c in claims]
    assert (
        client.post(
            f"/api/v1/runs/{run_id}/claims", json={"claim_ids": ids}, headers=headers
        ).status_code
        == 201
    )
    body = client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers).json()
    loose = [s for s in body["stops"] if s["vehicle_id"] is None]
    assert len(loose) == 2 and {s["unassigned_reason"] for s in loose} == {"capacity"}
    assert {s["status"] for s in loose} == {"unassigned"}
    _valid(client, run_id)
    # A hand move that overloads a car is refused and changes nothing.
    car = body["vehicles"][0]["id"]
    r = client.post(
        f"/api/v1/runs/{run_id}/stops/{loose[0]['id']}/move",
        json={"vehicle_id": car, "position": 1},
        headers=headers,
    )
    assert r.status_code == 422 and "capacity" in r.json()["error"]["message"]
    # Dispatch releases the unassigned claims for another run.
    client.post(f"/api/v1/runs/{run_id}/dispatch", headers=headers)
    with Session(client.app.state.engine) as s:
        assert s.get(Claim, loose[0]["claim_id"]).run_id is None
        assert s.get(Claim, loose[0]["claim_id"]).status == "allocated"


def test_claim_on_one_active_run_and_diplomats_only(client) -> None:  # noqa: ANN001
    headers, setup, claims = _setup(client, 2)
    a, b = _run(client, headers, setup), _run(client, headers, setup)
    assert (
        client.post(
            f"/api/v1/runs/{a}/claims", json={"claim_ids": [claims[0].id]}, headers=headers
        ).status_code
        == 201
    )
    r = client.post(f"/api/v1/runs/{b}/claims", json={"claim_ids": [claims[0].id]}, headers=headers)
    assert r.status_code == 422 and f"already on run {a}" in r.json()["error"]["message"]
    vol = f.api_headers(client, "vol", "volunteer")
    assert client.get("/api/v1/runs", headers=vol).status_code == 403
    assert client.get("/api/v1/runs", headers=headers).json()["total"] == 2


def test_time_windows_when_students_are_home(client) -> None:  # noqa: ANN001
    headers, setup, claims = _setup(client, n=4)
    run_id = _run(client, headers, setup)
    assert _vehicle(client, headers, run_id, capacity=10).status_code == 201
    r = client.post(
        f"/api/v1/runs/{run_id}/claims", json={"claim_ids": [c.id for c in claims]}, headers=headers
    )
    assert r.status_code == 201, r.text
    stop = r.json()[0]
    url = f"/api/v1/runs/{run_id}/stops/{stop['id']}/window"
    assert (
        client.put(url, json={"start": "18:00", "end": "17:00"}, headers=headers).status_code == 422
    )
    assert client.put(url, json={"start": "25:61"}, headers=headers).status_code == 422
    r = client.put(url, json={"start": "15:00", "end": "16:00"}, headers=headers)
    assert r.status_code == 200, r.text
    detail = client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers).json()
    planned = next(s for s in detail["stops"] if s["id"] == stop["id"])
    assert planned["tw_start_s"] == 15 * 3600 and planned["tw_end_s"] == 16 * 3600
    assert 15 * 3600 <= planned["planned_arrival_s"] <= 16 * 3600
    _valid(client, run_id)
