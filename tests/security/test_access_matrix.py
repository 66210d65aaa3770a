"""Every route of the app, called as every kind of caller, answers as its owner rule says.

The rules are data in routes/access.py. The test walks the app's own route table (so a new
route without a rule fails, naming it), fills path parameters with real objects of one seeded
world (the point the assigned volunteer works at, the vehicle the driver drives, a real claim
token, ...) and calls each route as anonymous, an unassigned volunteer (assigned elsewhere), the
assigned volunteer, the driver and a diplomat. Allowed: anything but 401, 403, 404 or the
redirect to /login. Refused: 401 or 403, or (pages, no account) the redirect to /login; the scan
endpoint refuses in its answer (`not_your_point`, `not_your_vehicle`, 200 as every outcome at
the table). One world and one client per database; about 800 requests each.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from starlette.routing import Mount

from app.accounts import service as accounts
from app.core.files import FileStore
from app.pickup import volunteers
from app.runs import delivery as run_delivery
from app.runs import plan as run_plan
from app.runs import service as runs
from models.printing import PrintJob
from models.runs import RunStop
from models.schools import RosterEntry, RosterImport
from routes.access import RULES, Who
from tests import factories as f
from tests.runs import factories as rf

ROLES = ("anonymous", "unassigned volunteer", "assigned volunteer", "driver", "diplomat")
ALLOWED: dict[Who, set[str]] = {
    Who.anyone: set(ROLES),
    Who.token: set(ROLES),
    Who.staff: set(ROLES) - {"anonymous"},
    Who.point: {"assigned volunteer", "diplomat"},
    Who.vehicle: {"driver", "diplomat"},
    Who.diplomat: {"diplomat"},
    Who.monitor: set(),  # the test client's address is not in KITRUN_METRICS_ALLOW
}
# Routes that end the caller's session or token run last, in this order.
LAST = ("POST /login", "POST /logout", "DELETE /api/v1/auth/token")


def app_routes(app) -> list[tuple[str, str, object]]:  # noqa: ANN001
    """(method, path, route) of every route the app answers: API routes, pages, mounts."""
    out = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, Mount):
            out.append(("GET", ctx.path, route))
            continue
        for method in sorted(ctx.methods or ()):
            if method != "HEAD":
                out.append((method, ctx.path, route))
    return out


def test_every_route_has_an_owner_rule(tmp_path) -> None:  # noqa: ANN001
    """A route added without an entry in routes/access.py fails here, by name."""
    from app.core.config import Settings
    from app.main import create_app

    app = create_app(Settings(data_dir=tmp_path, secret_key="x"))
    try:
        keys = {f"{m} {p}" for m, p, _ in app_routes(app)}
    finally:
        app.state.engine.dispose()
    missing = sorted(keys - RULES.keys())
    assert not missing, "routes without an owner rule in routes/access.py: " + ", ".join(missing)
    stale = sorted(k for k in RULES.keys() - keys if not k.startswith("GET /static/vendor/"))
    assert not stale, "rules in routes/access.py for routes that do not exist: " + ", ".join(stale)


# ---------------------------------------------------------------- the world


@dataclass
class World:
    params: dict[str, object]
    stops: list[int]
    sessions: dict[str, str] = field(default_factory=dict)  # role → session cookie
    bearers: dict[str, str] = field(default_factory=dict)  # role → API token


def seed(app) -> World:  # noqa: ANN001
    """A campaign with a pickup point and a depot; a dispatched run whose one vehicle is
    driven by the driver; a volunteer at the point, another at another point."""
    settings = app.state.settings
    with Session(app.state.engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        on_run = rf.scattered(s, setup, 4, radius_km=15)
        claim = rf.delivery_claim(s, setup)
        users = {
            "diplomat": f.user(s, "dip", "diplomat"),
            "assigned volunteer": f.user(s, "vol-in", "volunteer"),
            "unassigned volunteer": f.user(s, "vol-out", "volunteer"),
            "driver": f.user(s, "drv", "driver"),
        }
        f.user(s, "login-probe", "volunteer")
        elsewhere = f.location(s, "Elsewhere", "pickup_point")
        point = setup["point"]
        volunteers.assign_volunteer(
            session=s, user_id=users["assigned volunteer"].id, location_id=point.id
        )
        volunteers.assign_volunteer(
            session=s, user_id=users["unassigned volunteer"].id, location_id=elsewhere.id
        )
        run = runs.create_run(
            session=s, name="Matrix", run_date=date.today(), depot_location_id=setup["depot"].id
        )
        vehicle = runs.add_vehicle(
            session=s,
            run_id=run.id,
            name="Car",
            capacity=10,
            shift_start_s=8 * 3600,
            shift_end_s=20 * 3600,
            driver_user_id=users["driver"].id,
        )
        runs.select_claims(session=s, run_id=run.id, claim_ids=[c.id for c in on_run])
        run_plan.optimise(session=s, settings=settings, run_id=run.id)
        run_delivery.dispatch(session=s, run_id=run.id, user=users["diplomat"])
        stops = [
            st.id
            for st in s.exec(
                select(RunStop).where(RunStop.run_id == run.id).order_by(RunStop.seq)
            ).all()
        ]
        key = FileStore(s).put(
            "labels", "matrix.pdf", b"%PDF-1.4\n%%EOF\n", media_type="application/pdf"
        )
        job = PrintJob(status="done", total=1, done=1, file_path=key)
        imp = RosterImport(school_id=setup["school"].id, status="done", filename="r.csv")
        s.add_all([job, imp])
        s.commit()
        world = World(
            params={
                "run_id": run.id,
                "vehicle_id": vehicle.id,
                "stop_id": stops[0],
                "claim_id": claim.id,
                "point_id": point.id,
                "location_id": point.id,
                "user_id": users["assigned volunteer"].id,
                "public_id": setup["campaign"].public_id,
                "token": claim.token,
                "campaign_id": setup["campaign"].id,
                "item_id": setup["kit"].id,
                "school_id": setup["school"].id,
                "import_id": imp.id,
                "entry_id": s.exec(
                    select(RosterEntry.id).where(RosterEntry.school_id == setup["school"].id)
                ).first(),
                "job_id": job.id,
                "kind": "receive",
                "code": "en",
                "driver_user_id": users["driver"].id,
            },
            stops=stops,
        )
        for role, user in users.items():
            world.sessions[role], _ = accounts.issue_token(
                session=s, user=user, kind="session", days=1
            )
            world.bearers[role], _ = accounts.issue_token(session=s, user=user, kind="api", days=1)
    return world


# ---------------------------------------------------------------- calling as someone


class Caller:
    """One client, several identities: each call sends only that role's cookies and token."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client = client
        self.world = world
        self.jars: dict[str, dict[str, str]] = {}
        self.csrf: dict[str, str] = {}
        for role in ROLES:
            jar = {"kitrun_session": world.sessions[role]} if role in world.sessions else {}
            r = self._send(jar, "GET", "/login")
            self.jars[role] = {**jar, **dict(r.cookies)}
            self.csrf[role] = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)

    def _send(self, jar: dict, method: str, url: str, **kw):  # noqa: ANN003, ANN202
        self.client.cookies.clear()
        for k, v in jar.items():
            self.client.cookies.set(k, v)
        return self.client.request(method, url, follow_redirects=False, **kw)

    def call(self, role: str, method: str, url: str, body: dict | None):  # noqa: ANN201
        headers, kw = {}, {}
        if url.startswith("/api/"):
            jar = {}
            if role in self.world.bearers:
                headers["Authorization"] = f"Bearer {self.world.bearers[role]}"
            if method != "GET":
                kw["json"] = body if body is not None else {}
        else:
            jar = self.jars[role]
            if method != "GET":
                headers["X-CSRF-Token"] = self.csrf[role]
                kw["data"] = body or {}
        return self._send(jar, method, url, headers=headers, **kw)


def refused(r, who: Who | None = None) -> bool:  # noqa: ANN001
    if who is Who.monitor:  # to a caller who is not the monitoring server it does not exist
        return r.status_code == 404
    if r.status_code in (401, 403):
        return True
    return r.status_code in (302, 303) and r.headers.get("location", "").startswith("/login")


def allowed(r, who: Who) -> bool:  # noqa: ANN001
    if r.status_code in (401, 403, 404) or r.status_code >= 500:
        return False
    # the front door and log-out send everyone to the log-in page: their answer, not a refusal
    return who is Who.anyone or not refused(r)


def bodies(world: World) -> dict[str, dict]:
    """Bodies that reach a route's object check (the rest get an empty body: a role guard
    answers before the body is read, and an allowed caller's 422 is still allowed)."""
    other = world.stops[1]
    keep_driver = {"driver": "Li", "driver_user_id": world.params["driver_user_id"]}
    return {
        "PUT /api/v1/runs/{run_id}/vehicles/{vehicle_id}/driver": keep_driver,
        "POST /admin/runs/{run_id}/vehicles/{vehicle_id}/driver": keep_driver,
        "POST /api/v1/runs/{run_id}/stops/{stop_id}/fail": {"reason": "not_home"},
        "POST /driver/runs/{run_id}/{vehicle_id}/stops/{stop_id}/fail": {"reason": "not_home"},
        "POST /driver/runs/{run_id}/{vehicle_id}/scan": {
            "stop_id": str(other),
            "code": "NOT-A-CODE",
            "nonce": uuid.uuid4().hex,
        },
        "POST /scan/{point_id}": {"code": "NOT-A-CODE", "nonce": uuid.uuid4().hex},
        # a real account (its session goes to this caller's cookie jar, which is not kept)
        "POST /login": {"username": "login-probe", "password": f.PASSWORD, "next": "/"},
    }


def sample_path(path: str, route: object, params: dict) -> str:
    if isinstance(route, Mount):
        directory = Path(route.app.directory)
        first = next(p for p in sorted(directory.rglob("*")) if p.is_file())
        return f"{path}/{first.relative_to(directory).as_posix()}"
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: str(params[m.group(1)]), path)


def scan_probe(caller: Caller, role: str, world: World) -> list[str]:
    """POST /api/v1/scans at the assigned point and at a stop of the driver's vehicle."""
    problems = []
    probes = (
        ({"point_id": world.params["point_id"]}, {"assigned volunteer", "diplomat"}),
        ({"run_stop_id": world.stops[1]}, {"driver", "diplomat"}),
    )
    for target, who in probes:
        body = {
            "code": "NOT-A-CODE",
            "nonce": uuid.uuid4().hex,
            "scanned_at": datetime.now(UTC).isoformat(),
            **target,
        }
        r = caller.call(role, "POST", "/api/v1/scans", body)
        result = r.json().get("result") if r.status_code == 200 else None
        no = refused(r) or result in ("not_your_point", "not_your_vehicle")
        if (not allowed(r, Who.scan) or no) if role in who else not no:
            problems.append(f"POST /api/v1/scans {target} as {role}: {r.status_code} {result}")
    return problems


def _order(route: tuple) -> tuple:
    """Reads first, then writes, then what ends the caller's session (LAST, in its order)."""
    key = f"{route[0]} {route[1]}"
    return (LAST.index(key) + 1 if key in LAST else 0, route[0] != "GET")


def test_access_matrix(app) -> None:  # noqa: ANN001
    world = seed(app)
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        caller = Caller(client, world)
        special = bodies(world)
        problems, calls = [], 0
        for method, path, route in sorted(app_routes(app), key=_order):
            key = f"{method} {path}"
            who = RULES.get(key)
            if who is None:
                problems.append(f"{key}: no owner rule in routes/access.py")
                continue
            for role in ROLES:
                calls += 1
                if who is Who.scan:
                    problems += scan_probe(caller, role, world)
                    continue
                url = sample_path(path, route, world.params)
                r = caller.call(role, method, url, special.get(key))
                expected = role in ALLOWED[who]
                if not (allowed(r, who) if expected else refused(r, who)):
                    want = "allowed" if expected else "refused"
                    problems.append(
                        f"{key} as {role}: {r.status_code}, want {want} ({who}): {r.text[:300]}"
                    )
    assert not problems, f"{len(problems)} of {calls} calls break the owner rules:\n" + "\n".join(
        problems
    )
