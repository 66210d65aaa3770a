"""A vehicle's driver account: only that driver and diplomats see its stops (names, phones,
addresses and coordinates of minors), close them by scan or mark them failed (issue 15: any
volunteer, even one assigned to no point, could do all three)."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from app.runs import delivery as run_delivery
from app.runs import plan as run_plan
from app.runs import service as runs
from models.audit import AuditEntry
from models.claims import Claim
from models.pickup import Scan
from models.runs import RunStop, RunVehicle
from tests import factories as f
from tests.conftest import ROOT
from tests.runs import factories as rf

H8, H20 = 8 * 3600, 20 * 3600


def _dispatched(client) -> dict:  # noqa: ANN001
    """A dispatched run with two cars: car 1 driven by `drv1`, car 2 by `drv2`."""
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        claims = rf.scattered(s, setup, 6, radius_km=20)
        dip = f.user(s, "dip", "diplomat")
        drv1, drv2 = f.user(s, "drv1", "driver"), f.user(s, "drv2", "driver")
        run = runs.create_run(
            session=s, name="Run", run_date=date.today(), depot_location_id=setup["depot"].id
        )
        cars = [
            runs.add_vehicle(
                session=s,
                run_id=run.id,
                name=name,
                capacity=3,
                shift_start_s=H8,
                shift_end_s=H20,
                driver_user_id=d.id,
            )
            for name, d in (("Car 1", drv1), ("Car 2", drv2))
        ]
        runs.select_claims(session=s, run_id=run.id, claim_ids=[c.id for c in claims])
        run_plan.optimise(session=s, settings=client.app.state.settings, run_id=run.id)
        run_delivery.dispatch(session=s, run_id=run.id, user=dip)
        stops = {
            car.id: s.exec(
                select(RunStop).where(RunStop.vehicle_id == car.id).order_by(RunStop.seq)
            ).all()
            for car in cars
        }
    assert all(len(v) == 3 for v in stops.values())
    return {"run": run, "cars": cars, "stops": stops, "setup": setup}


def _login(client, username: str, role: str | None = None) -> None:  # noqa: ANN001
    """Log in through the form (creating the account when a role is given)."""
    if role is not None:
        with Session(client.app.state.engine) as s:
            f.user(s, username, role)
    client.cookies.clear()
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": f.PASSWORD,
            "next": "/",
            "csrf_token": client.cookies.get("kitrun_csrf"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def _csrf(client, url: str) -> str:  # noqa: ANN001
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text).group(1)


def _token(client, username: str) -> dict:  # noqa: ANN001
    r = client.post("/api/v1/auth/token", json={"username": username, "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _code(client, stop: RunStop) -> str:  # noqa: ANN001
    with Session(client.app.state.engine) as s:
        return s.get(Claim, stop.claim_id).short_code


def _status(client, stop: RunStop) -> str:  # noqa: ANN001
    with Session(client.app.state.engine) as s:
        return s.get(RunStop, stop.id).status


def test_a_volunteer_cannot_open_act_on_or_scan_a_vehicle(client) -> None:  # noqa: ANN001
    w = _dispatched(client)
    run, car = w["run"], w["cars"][0]
    stop = w["stops"][car.id][0]
    _login(client, "vol", "volunteer")  # assigned to no point, like the attacker
    page = f"/driver/runs/{run.id}/{car.id}"
    r = client.get(page)
    assert r.status_code == 403
    with Session(client.app.state.engine) as s:
        claim = s.get(Claim, stop.claim_id)
    assert claim.phone not in r.text and claim.address not in r.text
    csrf = _csrf(client, "/volunteer")
    r = client.post(f"{page}/stops/{stop.id}/fail", data={"reason": "not_home", "csrf_token": csrf})
    assert r.status_code == 403
    r = client.post(
        f"{page}/scan",
        data={"stop_id": stop.id, "code": _code(client, stop), "nonce": "n1", "csrf_token": csrf},
    )
    assert r.status_code == 403
    # the API's scan with the stop's id is refused in its answer, and recorded
    r = client.post(
        "/api/v1/scans",
        json={
            "code": _code(client, stop),
            "run_stop_id": stop.id,
            "nonce": uuid.uuid4().hex,
            "scanned_at": datetime.now(UTC).isoformat(),
        },
        headers=_token(client, "vol"),
    )
    assert r.status_code == 200 and r.json()["result"] == "not_your_vehicle", r.text
    assert "claim" not in r.json() or not r.json()["claim"]
    r = client.post(
        f"/api/v1/runs/{run.id}/stops/{stop.id}/fail",
        json={"reason": "not_home"},
        headers=_token(client, "vol"),
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_your_vehicle"
    assert _status(client, stop) == "planned"
    with Session(client.app.state.engine) as s:
        scan = s.exec(select(Scan).where(Scan.run_stop_id == stop.id)).one()
        assert scan.result == "not_your_vehicle" and scan.claim_id is None


def test_a_driver_sees_and_closes_only_their_own_vehicle(client) -> None:  # noqa: ANN001
    w = _dispatched(client)
    run, (car1, car2) = w["run"], w["cars"]
    mine, theirs = w["stops"][car1.id], w["stops"][car2.id]
    _login(client, "drv1")
    assert client.get("/", follow_redirects=False).headers["location"] == "/driver"
    home = client.get("/driver")
    assert f"/driver/runs/{run.id}/{car1.id}" in home.text
    assert f"/driver/runs/{run.id}/{car2.id}" not in home.text
    r = client.get(f"/driver/runs/{run.id}/{car1.id}")
    assert r.status_code == 200 and "geo:" in r.text
    assert client.get(f"/driver/runs/{run.id}/{car2.id}").status_code == 403
    nonce = re.search(r'name="nonce" value="(\w+)"', r.text).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
    # the other car's stop, posted through my car's page: refused by the scan itself
    r = client.post(
        f"/driver/runs/{run.id}/{car1.id}/scan",
        data={"stop_id": theirs[0].id, "code": _code(client, theirs[0]), "nonce": nonce,
              "csrf_token": csrf},
    )  # fmt: skip
    assert r.status_code == 200 and "alert error" in r.text
    assert _status(client, theirs[0]) == "planned"
    # my own stop: delivered
    r = client.post(
        f"/driver/runs/{run.id}/{car1.id}/scan",
        data={"stop_id": mine[0].id, "code": _code(client, mine[0]), "nonce": uuid.uuid4().hex,
              "csrf_token": csrf},
    )  # fmt: skip
    assert r.status_code == 200 and "alert ok" in r.text
    assert _status(client, mine[0]) == "delivered"
    # failing: my stop through my page; the other car's stop neither through my page (its
    # stop is not on my car) nor through the API
    r = client.post(
        f"/driver/runs/{run.id}/{car1.id}/stops/{theirs[1].id}/fail",
        data={"reason": "not_home", "csrf_token": csrf},
    )
    assert r.status_code == 403
    api = _token(client, "drv1")
    r = client.post(
        f"/api/v1/runs/{run.id}/stops/{theirs[1].id}/fail", json={"reason": "refused"}, headers=api
    )
    assert r.status_code == 403
    assert _status(client, theirs[1]) == "planned"
    r = client.post(
        f"/api/v1/runs/{run.id}/stops/{mine[1].id}/fail", json={"reason": "refused"}, headers=api
    )
    assert r.status_code == 200 and r.json()["status"] == "failed", r.text
    # the rest of the run stays the diplomats'
    assert client.get(f"/api/v1/runs/{run.id}", headers=api).status_code == 403
    assert client.get(f"/admin/runs/{run.id}", follow_redirects=False).status_code == 403


def test_diplomats_assign_drivers_and_reassign_them_on_the_road(client) -> None:  # noqa: ANN001
    w = _dispatched(client)
    run, (car1, car2) = w["run"], w["cars"]
    dip = _token(client, "dip")
    with Session(client.app.state.engine) as s:
        vol = f.user(s, "vol", "volunteer")
        drv1 = s.exec(select(RunVehicle).where(RunVehicle.id == car1.id)).one().driver_user_id
    # a volunteer is not a driver account
    r = client.put(
        f"/api/v1/runs/{run.id}/vehicles/{car2.id}/driver",
        json={"driver": "Wang", "driver_user_id": vol.id},
        headers=dip,
    )
    assert r.status_code == 422 and "driver" in r.json()["error"]["message"]
    # car 2 goes to drv1 too (drivers swap cars on the road); drv2 loses it at once
    r = client.put(
        f"/api/v1/runs/{run.id}/vehicles/{car2.id}/driver",
        json={"driver": "Li", "driver_user_id": drv1},
        headers=dip,
    )
    assert r.status_code == 200, r.text
    assert r.json()["driver_user_id"] == drv1 and r.json()["driver"] == "Li"
    assert r.json()["stops"] == 3
    _login(client, "drv2")
    assert client.get(f"/driver/runs/{run.id}/{car2.id}").status_code == 403
    _login(client, "drv1")
    assert client.get(f"/driver/runs/{run.id}/{car2.id}").status_code == 200
    with Session(client.app.state.engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "vehicle.driver")).one()
        assert entry.after == {"driver": "Li", "driver_user_id": drv1}
    # the run page's form
    _login(client, "dip")
    page = client.get(f"/admin/runs/{run.id}")
    assert 'name="driver_user_id"' in page.text and "(drv2)" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        f"/admin/runs/{run.id}/vehicles/{car2.id}/driver",
        data={"driver": "", "driver_user_id": "", "csrf_token": csrf},
    )
    assert r.status_code == 200
    with Session(client.app.state.engine) as s:
        assert s.get(RunVehicle, car2.id).driver_user_id is None


def test_a_vehicle_is_added_with_its_driver_account(client) -> None:  # noqa: ANN001
    dip = f.api_headers(client)
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        drv = f.user(s, "drv", "driver")
    r = client.post(
        "/api/v1/runs",
        json={"name": "R", "date": "2026-05-05", "depot_location_id": setup["depot"].id},
        headers=dip,
    )
    run_id = r.json()["id"]
    body = {"name": "Car", "capacity": 5, "shift_start_s": H8, "shift_end_s": H20}
    r = client.post(
        f"/api/v1/runs/{run_id}/vehicles", json={**body, "driver_user_id": 999999}, headers=dip
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/runs/{run_id}/vehicles", json={**body, "driver_user_id": drv.id}, headers=dip
    )
    assert r.status_code == 201 and r.json()["driver_user_id"] == drv.id
    # and through the run page's form
    _login(client, "dip")
    page = client.get(f"/admin/runs/{run_id}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        f"/admin/runs/{run_id}/vehicles",
        data={"name": "Car 2", "capacity": "4", "driver_user_id": str(drv.id), "csrf_token": csrf},
    )
    assert r.status_code == 200
    with Session(client.app.state.engine) as s:
        cars = s.exec(select(RunVehicle).where(RunVehicle.run_id == run_id)).all()
        assert [c.driver_user_id for c in cars] == [drv.id, drv.id]


def test_kitrun_creates_driver_accounts(tmp_path) -> None:  # noqa: ANN001
    env = {"PATH": "/usr/bin:/bin", "KITRUN_DATA_DIR": str(tmp_path)}

    def kitrun(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert kitrun("migrate").returncode == 0
    out = kitrun("user", "create", "--username", "li", "--role", "driver", "--password", "x" * 10)
    assert out.returncode == 0 and "created driver li" in out.stdout, out.stderr
