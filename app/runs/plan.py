"""Planning a delivery run: optimise with VROOM, move and lock stops by hand, keep totals right.

The optimiser can take seconds, so `optimise` reads the run, ends that transaction, solves, and
writes in a second transaction that first checks nothing changed meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import write_intent
from app.core.errors import N_, Conflict, Invalid
from app.routing import (
    GreatCircleProvider,
    JobSpec,
    Matrix,
    OSRMProvider,
    Plan,
    PlannedStop,
    Problem,
    RoutePlan,
    RoutingError,
    Unassigned,
    VehicleSpec,
    evaluate,
    solve,
)
from app.runs.service import editable_run, get_run, vehicles_of
from models.base import utcnow
from models.claims import Claim
from models.inventory import Location
from models.runs import Run, RunStop, RunVehicle

TIMEOUT_S = 3.5  # plus matrix, reads and writes: the whole optimise within ~5 s at 300 stops


def exploration_level(jobs: int) -> int:
    """VROOM's search depth by size: level 5 is best up to ~100 stops, too slow beyond."""
    if jobs <= 100:
        return 5
    if jobs <= 200:
        return 1
    return 0


def provider(settings: Settings) -> GreatCircleProvider | OSRMProvider:
    """OSRM if configured (falls back with a warning), else great-circle estimates."""
    gc = GreatCircleProvider(road_factor=settings.road_factor, speed_kmh=settings.average_speed_kmh)
    if settings.osrm_url:
        return OSRMProvider(base_url=settings.osrm_url, fallback=gc)
    return gc


def _priority(claim: Claim) -> int:
    # Minors first, then quarantine, when not everyone fits.
    return 50 if claim.is_minor else 20 if claim.quarantine else 0


@dataclass
class Snapshot:
    """What a plan is made from: the run, its vehicles and stops (with claims), the matrix."""

    run: Run
    vehicles: list[RunVehicle]
    stops: list[RunStop]
    claims: dict[int, Claim]
    problem: Problem
    unpinned: list[RunStop]  # no coordinates: not in the problem, unassigned as `needs_pin`

    def signature(self) -> tuple:
        """Changes to vehicles, stops, pins or locks make a computed plan stale."""
        return (
            tuple(
                sorted((v.id, v.capacity, v.shift_start_s, v.shift_end_s) for v in self.vehicles)
            ),
            tuple(sorted((s.id, s.tw_start_s, s.tw_end_s) for s in self.stops)),
            tuple(sorted((s.id, s.claim_id) for s in self.unpinned)),
            tuple(sorted(self.problem.fixed.items())),
        )


def _locked_prefixes(vehicles: list[RunVehicle], stops: list[RunStop]) -> dict[int, list[int]]:
    fixed: dict[int, list[int]] = {}
    for v in vehicles:
        mine = sorted(
            (s for s in stops if s.vehicle_id == v.id and s.seq is not None), key=lambda s: s.seq
        )
        prefix = []
        for s in mine:
            if not s.locked:
                break
            prefix.append(s.id)
        if prefix:
            fixed[v.id] = prefix
    return fixed


def snapshot(session: Session, settings: Settings, run: Run, matrix: Matrix | None = None):  # noqa: ANN201
    """Load the run into a routing Problem (one matrix index per stop, depot = 0)."""
    depot = session.get(Location, run.depot_location_id)
    vehicles = vehicles_of(session=session, run_id=run.id)
    rows = session.execute(
        select(RunStop, Claim)
        .join(Claim, Claim.id == RunStop.claim_id)
        .where(RunStop.run_id == run.id, RunStop.status.in_(("planned", "unassigned")))
        .order_by(RunStop.id)
    ).all()
    claims = {r[1].id: r[1] for r in rows}
    stops, unpinned = [], []
    for s, c in rows:
        (stops if c.lat is not None and c.lon is not None else unpinned).append(s)
    for s in unpinned:  # a stop moved by hand before its pin was removed is taken off its car
        s.vehicle_id = s.seq = s.planned_arrival_s = s.cumulative_m = None
        s.locked = False
    if matrix is None:
        points = [(depot.lat, depot.lon)] + [
            (claims[s.claim_id].lat, claims[s.claim_id].lon) for s in stops
        ]
        matrix = provider(settings).matrix(points)
    jobs = []
    for i, s in enumerate(stops, start=1):
        c = claims[s.claim_id]
        tw = []
        if s.tw_start_s is not None or s.tw_end_s is not None:
            tw = [(s.tw_start_s or 0, s.tw_end_s if s.tw_end_s is not None else 48 * 3600)]
        jobs.append(
            JobSpec(
                id=s.id,
                location_index=i,
                kits=c.kits,
                service_s=run.service_s,
                time_windows=tw,
                priority=_priority(c),
            )
        )
    problem = Problem(
        vehicles=[
            VehicleSpec(
                id=v.id,
                capacity=v.capacity,
                shift_start=v.shift_start_s,
                shift_end=v.shift_end_s,
                max_stops=v.max_stops,
            )
            for v in vehicles
        ],
        jobs=jobs,
        matrix=matrix,
        fixed=_locked_prefixes(vehicles, stops),
    )
    return Snapshot(run, vehicles, stops, claims, problem, unpinned)


def _check_ready(snap: Snapshot) -> None:
    if not snap.vehicles:
        raise Invalid(N_("Add at least one vehicle before optimising."))
    if not snap.stops and not snap.unpinned:
        raise Invalid(N_("Choose the claims to deliver before optimising."))


def optimise(*, session: Session, settings: Settings, run_id: int) -> tuple[Run, Plan]:
    """Plan (or re-plan) the run's routes; locked stops stay as each car's first stops."""
    token = write_intent.set(False)  # the read phase takes no SQLite write lock
    try:
        run = editable_run(session, run_id)
        snap = snapshot(session, settings, run)
        _check_ready(snap)
        before = snap.signature()
    finally:
        session.rollback()
        write_intent.reset(token)
    try:
        plan = solve(
            snap.problem,
            exploration_level=exploration_level(len(snap.problem.jobs)),
            nb_threads=2,
            timeout_s=TIMEOUT_S,
        )
    except RoutingError as exc:
        raise Invalid(N_("The plan cannot be made: {error}"), params={"error": str(exc)}) from exc
    run = editable_run(session, run_id)
    again = snapshot(session, settings, run, matrix=snap.problem.matrix)
    if again.signature() != before:
        session.rollback()
        raise Conflict(N_("The run changed while it was being optimised; optimise it again."))
    _store(session, again, plan)
    session.commit()
    session.refresh(run)
    return run, plan


def _store(session: Session, snap: Snapshot, plan: Plan) -> None:
    """Write the plan's order, arrivals, distances and unassigned reasons; update totals."""
    by_id = {s.id: s for s in snap.stops}
    for s in snap.unpinned:
        s.status, s.unassigned_reason = "unassigned", "needs_pin"
    for route in plan.routes:
        for st in route.stops:
            s = by_id[st.job_id]
            s.vehicle_id = route.vehicle_id
            s.seq = st.seq
            s.planned_arrival_s = st.arrival_s + st.waiting_s
            s.cumulative_m = st.distance_m
            s.status = "planned"
            s.unassigned_reason = None
            s.locked = bool(st.locked)
    for u in plan.unassigned:
        s = by_id[u.job_id]
        s.vehicle_id = s.seq = s.planned_arrival_s = s.cumulative_m = None
        s.locked = False
        s.status = "unassigned"
        s.unassigned_reason = str(u.reason)
    routes = {r.vehicle_id: r for r in plan.routes}
    for v in snap.vehicles:
        r = routes.get(v.id)
        v.distance_m = r.distance_m if r else 0
        v.duration_s = (r.end_s - r.start_s) if r else 0
    run = snap.run
    run.cost = plan.cost
    run.distance_m = sum(r.distance_m for r in plan.routes)
    run.warnings = list(snap.problem.matrix.warnings)
    run.status = "planned"
    run.planned_at = utcnow()
    session.add_all([*snap.stops, *snap.unpinned, *snap.vehicles, run])


def current_plan(snap: Snapshot) -> Plan:
    """The stored order rescheduled on the matrix: arrivals and distances recomputed."""
    jobs = {j.id: j for j in snap.problem.jobs}
    dur, dist = snap.problem.matrix.durations, snap.problem.matrix.distances
    routes, unassigned = [], []
    for v in snap.problem.vehicles:
        mine = sorted(
            (s for s in snap.stops if s.vehicle_id == v.id and s.seq is not None),
            key=lambda s: s.seq,
        )
        if not mine:
            continue
        loc, ready, cum_m, cum_s, kits, stops = 0, v.shift_start, 0, 0, 0, []
        for seq, s in enumerate(mine, start=1):
            job = jobs[s.id]
            arrival = ready + dur[loc][job.location_index]
            start = arrival
            if job.time_windows and arrival < job.time_windows[0][0]:
                start = job.time_windows[0][0]
            cum_m += dist[loc][job.location_index]
            cum_s += dur[loc][job.location_index]
            kits += job.kits
            stops.append(
                PlannedStop(
                    job_id=s.id,
                    seq=seq,
                    location_index=job.location_index,
                    arrival_s=arrival,
                    waiting_s=start - arrival,
                    service_s=job.service_s,
                    distance_m=cum_m,
                    duration_s=cum_s,
                    locked=s.locked,
                )
            )
            loc, ready = job.location_index, start + job.service_s
        end = ready + dur[loc][0]
        cum_m += dist[loc][0]
        cum_s += dur[loc][0]
        routes.append(RoutePlan(v.id, stops, cum_m, cum_s, kits, v.shift_start, end))
    for s in snap.stops:
        if s.vehicle_id is None:
            unassigned.append(Unassigned(s.id, s.unassigned_reason or "no_room_left"))
    return Plan(
        routes=routes,
        unassigned=unassigned,
        cost=sum(r.duration_s for r in routes),
        elapsed_s=0.0,
        warnings=list(snap.problem.matrix.warnings),
    )


def _apply_by_hand(session: Session, settings: Settings, run: Run, snap: Snapshot) -> Run:
    """Reschedule after a manual change; refuse plans that break capacity, shifts or windows."""
    snap.problem.fixed = {}  # a hand-made order is checked as it is
    plan = current_plan(snap)
    problems = evaluate(snap.problem, plan)
    if problems:
        session.rollback()
        names = {v.id: v.name for v in snap.vehicles}
        text = "; ".join(problems)
        for vid, name in names.items():
            text = text.replace(f"vehicle {vid!r}", name)
        raise Invalid(N_("That change breaks the plan: {problems}."), params={"problems": text})
    snap.problem.fixed = _locked_prefixes(snap.vehicles, snap.stops)
    _store(session, snap, plan)
    session.commit()
    session.refresh(run)
    return run


def _renumber(stops: list[RunStop], vehicle_id: int) -> list[RunStop]:
    mine = sorted(
        (s for s in stops if s.vehicle_id == vehicle_id and s.seq is not None), key=lambda s: s.seq
    )
    for i, s in enumerate(mine, start=1):
        s.seq = i
    return mine


def move_stop(
    *,
    session: Session,
    settings: Settings,
    run_id: int,
    stop_id: int,
    vehicle_id: int,
    position: int,
    lock: bool = False,
) -> Run:
    """Move a stop to `position` (1-based) on a vehicle's route; `lock` keeps it there on
    re-optimising (with every stop before it)."""
    run = editable_run(session, run_id)
    if run.status != "planned":
        raise Conflict(N_("Optimise the run first; then stops can be moved."))
    snap = snapshot(session, settings, run)
    stop = next((s for s in snap.stops if s.id == stop_id), None)
    if stop is None and any(s.id == stop_id for s in snap.unpinned):
        raise Invalid(N_("This address has no position yet: place it on the map first."))
    if stop is None:
        raise Invalid(N_("Run {run} has no stop {id}."), params={"run": run_id, "id": stop_id})
    if vehicle_id not in {v.id for v in snap.vehicles}:
        raise Invalid(
            N_("Run {run} has no vehicle {id}."), params={"run": run_id, "id": vehicle_id}
        )
    if position < 1:
        raise Invalid(N_("The position starts at 1."))
    old_vehicle = stop.vehicle_id
    stop.vehicle_id, stop.seq = None, None
    if old_vehicle is not None:
        _renumber(snap.stops, old_vehicle)
    target = _renumber(snap.stops, vehicle_id)
    position = min(position, len(target) + 1)
    target.insert(position - 1, stop)
    stop.vehicle_id = vehicle_id
    stop.status = "planned"
    stop.unassigned_reason = None
    for i, s in enumerate(target, start=1):
        s.seq = i
    if lock or any(s.locked for s in target[position:]):
        for s in target[:position]:
            s.locked = True
    else:
        stop.locked = False
    return _apply_by_hand(session, settings, run, snap)


def lock_stop(
    *, session: Session, settings: Settings, run_id: int, stop_id: int, locked: bool
) -> Run:
    """Lock a stop with every stop before it on its route (or unlock it and those after)."""
    run = editable_run(session, run_id)
    stop = session.get(RunStop, stop_id)
    if stop is None or stop.run_id != run.id:
        raise Invalid(N_("Run {run} has no stop {id}."), params={"run": run_id, "id": stop_id})
    if stop.vehicle_id is None:
        raise Invalid(N_("An unassigned stop cannot be locked: move it onto a vehicle first."))
    route = session.execute(
        select(RunStop).where(RunStop.run_id == run.id, RunStop.vehicle_id == stop.vehicle_id)
    ).scalars()
    for s in route:
        if locked and s.seq <= stop.seq:
            s.locked = True
        elif not locked and s.seq >= stop.seq:
            s.locked = False
        session.add(s)
    session.commit()
    session.refresh(run)
    return run


def plan_of(session: Session, settings: Settings, run_id: int) -> tuple[Snapshot, Plan]:
    """The run's stored plan, rescheduled (tests and checks use it with evaluate)."""
    run = get_run(session=session, run_id=run_id)
    snap = snapshot(session, settings, run)
    return snap, current_plan(snap)
