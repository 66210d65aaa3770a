"""Delivery runs: create, vehicles, claim selection, stops and their time windows.

Planning (optimise, move, lock) lives in app/runs/plan.py; dispatch and closing stops
(scan or failed) in app/runs/delivery.py. Invariants are kept by the
database: a claim is on at most one active run (`claim.run_id` set by a conditional UPDATE),
status changes are conditional UPDATEs whose row counts are checked.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update
from sqlmodel import Session

from app.audit import trail
from app.core.errors import N_, Conflict, Invalid, NotFound
from models.base import utcnow
from models.campaigns import Campaign
from models.claims import Claim, ClaimEvent
from models.inventory import Location
from models.runs import Run, RunStop, RunVehicle
from models.users import Role, User

EDITABLE = ("draft", "planned")
SELECTABLE = ("allocated", "ready")
RUN_STATUSES = (N_("draft"), N_("planned"), N_("dispatched"), N_("complete"))
STOP_STATUSES = (N_("planned"), N_("unassigned"), N_("delivered"), N_("failed"))
REASON_CODES = (
    N_("capacity"),
    N_("shift"),
    N_("time_window"),
    N_("max_stops"),
    N_("no_room_left"),
    N_("needs_pin"),
)
UNASSIGNED_REASONS = {
    "capacity": N_("more kits than the cars have room for"),
    "shift": N_("too far to reach and return within a shift"),
    "time_window": N_("its time window cannot be reached"),
    "max_stops": N_("every car is at its maximum number of stops"),
    "no_room_left": N_("the other stops used the room or the time"),
    "needs_pin": N_("the address has no position yet: place it on the map"),
}


def get_run(*, session: Session, run_id: int) -> Run:
    """The run, or 404."""
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(N_("No delivery run with id {id}."), params={"id": run_id})
    return run


def editable_run(session: Session, run_id: int) -> Run:
    """The run if it may still be changed (draft or planned), else 409."""
    run = get_run(session=session, run_id=run_id)
    if run.status not in EDITABLE:
        raise Conflict(
            N_("Run {id} is {status}: it can no longer be changed."),
            params={"id": run_id, "status": run.status},
        )
    return run


def list_runs(
    *, session: Session, status: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[Run], int]:
    """Runs, newest first."""
    q = select(Run)
    if status:
        q = q.where(Run.status == status)
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = session.execute(q.order_by(Run.date.desc(), Run.id.desc()).limit(limit).offset(offset))
    return list(rows.scalars()), total


def create_run(
    *,
    session: Session,
    name: str,
    run_date: date,
    depot_location_id: int,
    campaign_id: int | None = None,
    service_s: int = 300,
) -> Run:
    """A new draft run from a depot that has coordinates."""
    depot = session.get(Location, depot_location_id)
    if depot is None:
        raise Invalid(N_("No location with id {id}."), params={"id": depot_location_id})
    if depot.lat is None or depot.lon is None:
        raise Invalid(
            N_("The depot {name} has no coordinates: add its latitude and longitude first."),
            params={"name": depot.name_en},
        )
    if not name.strip():
        raise Invalid(N_("Give the run a name."))
    if campaign_id is not None and session.get(Campaign, campaign_id) is None:
        raise Invalid(N_("No campaign with id {id}."), params={"id": campaign_id})
    if service_s < 0:
        raise Invalid(N_("The time per stop cannot be negative."))
    run = Run(
        name=name.strip(),
        date=run_date,
        depot_location_id=depot_location_id,
        campaign_id=campaign_id,
        service_s=service_s,
    )
    session.add(run)
    session.commit()
    session.refresh(run)
    return run


def _back_to_draft(session: Session, run: Run) -> None:
    """Vehicles or stops changed: the plan must be made again before dispatch."""
    if run.status == "planned":
        run.status = "draft"
        session.add(run)


def add_vehicle(
    *,
    session: Session,
    run_id: int,
    name: str,
    capacity: int,
    shift_start_s: int,
    shift_end_s: int,
    driver: str = "",
    driver_user_id: int | None = None,
    max_stops: int | None = None,
) -> RunVehicle:
    """Add a car to a run that is not dispatched yet (with its driver's account, if given)."""
    run = editable_run(session, run_id)
    driver_account(session, driver_user_id)
    if not name.strip():
        raise Invalid(N_("Give the vehicle a name."))
    if capacity <= 0:
        raise Invalid(
            N_("Vehicle {name}: the capacity must be at least 1 kit (got {capacity})."),
            params={"name": name, "capacity": capacity},
        )
    if not (0 <= shift_start_s < 48 * 3600 and 0 <= shift_end_s <= 48 * 3600):
        raise Invalid(
            N_("Vehicle {name}: shift times must be within the day."), params={"name": name}
        )
    if shift_end_s <= shift_start_s:
        raise Invalid(
            N_("Vehicle {name}: the shift must end after it starts ({start} → {end})."),
            params={"name": name, "start": hhmm(shift_start_s), "end": hhmm(shift_end_s)},
        )
    if max_stops is not None and max_stops < 1:
        raise Invalid(
            N_("Vehicle {name}: the maximum number of stops must be at least 1."),
            params={"name": name},
        )
    vehicle = RunVehicle(
        run_id=run.id,
        name=name.strip(),
        driver=driver.strip(),
        driver_user_id=driver_user_id,
        capacity=capacity,
        shift_start_s=shift_start_s,
        shift_end_s=shift_end_s,
        max_stops=max_stops,
    )
    session.add(vehicle)
    _back_to_draft(session, run)
    session.commit()
    session.refresh(vehicle)
    return vehicle


def driver_account(session: Session, user_id: int | None) -> User | None:
    """The account that may drive a vehicle: an active user with the driver role (422 else)."""
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None:
        raise Invalid(N_("No user with id {id}."), params={"id": user_id})
    if user.role != Role.driver or not user.active:
        raise Invalid(
            N_(
                "{username} is not an active driver account; create one with "
                "`kitrun user create --role driver`."
            ),
            params={"username": user.username},
        )
    return user


def vehicle_of(session: Session, run_id: int, vehicle_id: int) -> RunVehicle:
    """The run's vehicle, or 404."""
    vehicle = session.get(RunVehicle, vehicle_id)
    if vehicle is None or vehicle.run_id != run_id:
        raise NotFound(
            N_("Run {run} has no vehicle {id}."), params={"run": run_id, "id": vehicle_id}
        )
    return vehicle


def remove_vehicle(*, session: Session, run_id: int, vehicle_id: int) -> None:
    """Remove a car; its stops wait to be planned again."""
    run = editable_run(session, run_id)
    vehicle = vehicle_of(session, run.id, vehicle_id)
    session.execute(
        update(RunStop)
        .where(RunStop.vehicle_id == vehicle_id)
        .values(vehicle_id=None, seq=None, locked=False, planned_arrival_s=None, cumulative_m=None)
    )
    session.delete(vehicle)
    _back_to_draft(session, run)
    session.commit()


def hhmm(seconds: int | None) -> str:
    """Seconds after midnight as HH:MM."""
    if seconds is None:
        return ""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def parse_hhmm(text: str) -> int:
    """'08:30' → seconds after midnight; Invalid for anything else."""
    try:
        h, m = text.strip().split(":")
        value = int(h) * 3600 + int(m) * 60
        if not (0 <= int(m) < 60 and 0 <= value <= 48 * 3600):
            raise ValueError
    except ValueError:
        raise Invalid(N_("{text} is not a time: use HH:MM."), params={"text": text}) from None
    return value


# ---------------------------------------------------------------- claims


def candidates(
    session: Session,
    run: Run,
    *,
    school_id: int | None = None,
    minors_only: bool = False,
    quarantine_only: bool = False,
    priority: int | None = None,
    limit: int = 500,
) -> list[Claim]:
    """Delivery claims that may join this run: allocated/ready at its depot, on no run."""
    q = select(Claim).where(
        Claim.fulfilment == "delivery",
        Claim.status.in_(SELECTABLE),
        Claim.reserved_location_id == run.depot_location_id,
        Claim.run_id.is_(None),
    )
    if run.campaign_id is not None:
        q = q.where(Claim.campaign_id == run.campaign_id)
    if school_id is not None:
        q = q.where(Claim.school_id == school_id)
    if minors_only:
        q = q.where(Claim.is_minor.is_(True))
    if quarantine_only:
        q = q.where(Claim.quarantine.is_(True))
    if priority is not None:
        q = q.where(Claim.priority == priority)
    q = q.order_by(Claim.priority, Claim.submitted_at, Claim.id).limit(limit)
    return list(session.execute(q).scalars())


def _why_not(claim: Claim | None, claim_id: int, run: Run) -> str | None:
    if claim is None:
        return f"#{claim_id}: no such claim"
    if claim.fulfilment != "delivery":
        return f"#{claim_id} ({claim.name_latin}): not a delivery claim"
    if claim.status not in SELECTABLE:
        return f"#{claim_id} ({claim.name_latin}): status {claim.status}"
    if claim.reserved_location_id != run.depot_location_id:
        return f"#{claim_id} ({claim.name_latin}): its kit is not at this run's depot"
    if run.campaign_id is not None and claim.campaign_id != run.campaign_id:
        return f"#{claim_id} ({claim.name_latin}): another campaign"
    if claim.run_id is not None and claim.run_id != run.id:
        return f"#{claim_id} ({claim.name_latin}): already on run {claim.run_id}"
    return None


def select_claims(
    *,
    session: Session,
    run_id: int,
    claim_ids: list[int] | None = None,
    school_id: int | None = None,
    minors_only: bool = False,
    quarantine_only: bool = False,
    priority: int | None = None,
    limit: int = 500,
    user_id: int | None = None,
) -> list[RunStop]:
    """Add claims to a run, by id or by filters. The new stops; a claim without coordinates
    (an address the geocoder could not place) waits for a pin (`pin_stop`) to be routed."""
    run = editable_run(session, run_id)
    if claim_ids:
        ids = list(dict.fromkeys(claim_ids))
        found = {c.id: c for c in session.execute(select(Claim).where(Claim.id.in_(ids))).scalars()}
        problems = [p for i in ids if (p := _why_not(found.get(i), i, run))]
        if problems:
            raise Invalid(
                N_("These claims cannot join the run: {list}."),
                params={"list": "; ".join(problems[:20])},
                details=problems,
            )
        claims = [found[i] for i in ids if found[i].run_id is None]
    else:
        claims = candidates(
            session,
            run,
            school_id=school_id,
            minors_only=minors_only,
            quarantine_only=quarantine_only,
            priority=priority,
            limit=limit,
        )
    if not claims:
        return []
    ids = [c.id for c in claims]
    result = session.execute(
        update(Claim)
        .where(Claim.id.in_(ids), Claim.run_id.is_(None), Claim.status.in_(SELECTABLE))
        .values(run_id=run.id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(ids):
        session.rollback()
        raise Conflict(N_("Some of these claims were just put on another run; try again."))
    stops = [RunStop(run_id=run.id, claim_id=c.id, status="planned") for c in claims]
    session.add_all(stops)
    for c in claims:
        session.add(
            ClaimEvent(
                claim_id=c.id,
                user_id=user_id,
                from_status=c.status,
                to_status=c.status,
                reasons=["run_selected"],
                note=f"run {run.id}",
            )
        )
    _back_to_draft(session, run)
    session.commit()
    for s in stops:
        session.refresh(s)
    return stops


def remove_stop(*, session: Session, run_id: int, stop_id: int) -> None:
    """Take a claim off a run that is not dispatched yet."""
    run = editable_run(session, run_id)
    stop = stop_of(session, run.id, stop_id)
    session.execute(
        update(Claim)
        .where(Claim.id == stop.claim_id, Claim.run_id == run.id)
        .values(run_id=None, updated_at=utcnow())
    )
    session.delete(stop)
    _back_to_draft(session, run)
    session.commit()


def set_window(
    *, session: Session, run_id: int, stop_id: int, start: str | None, end: str | None
) -> RunStop:
    """When the student is home: the stop's time window (HH:MM local; empty clears it)."""
    run = editable_run(session, run_id)
    stop = stop_of(session, run.id, stop_id)
    start_s = parse_hhmm(start) if start else None
    end_s = parse_hhmm(end) if end else None
    if start_s is not None and end_s is not None and end_s <= start_s:
        raise Invalid(N_("The time window must end after it starts."))
    stop.tw_start_s, stop.tw_end_s = start_s, end_s
    session.add(stop)
    _back_to_draft(session, run)
    session.commit()
    session.refresh(stop)
    return stop


def pin_stop(
    *, session: Session, run_id: int, stop_id: int, lat: float, lon: float, user_id: int | None
) -> RunStop:
    """Place a stop's address on the map: the claim's coordinates (audited); the next
    optimisation routes it. Before dispatch only; a planned run goes back to draft."""
    run = editable_run(session, run_id)
    stop = stop_of(session, run.id, stop_id)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Invalid(N_("That position is not on the map (latitude -90…90, longitude -180…180)."))
    claim = session.get(Claim, stop.claim_id)
    had = claim.lat is not None and claim.lon is not None
    claim.lat, claim.lon = round(lat, 6), round(lon, 6)
    claim.updated_at = utcnow()
    session.add(claim)
    # The coordinates themselves stay with the claim (purged with it), not in the trail.
    trail.record(
        session,
        user_id=user_id,
        action="claim.pin",
        object_type="claim",
        object_id=claim.id,
        before={"pinned": had},
        after={"pinned": True, "run_id": run.id, "stop_id": stop.id},
    )
    if stop.status == "unassigned" and stop.unassigned_reason == "needs_pin":
        stop.unassigned_reason = None  # routable now: the next optimisation decides
        session.add(stop)
    _back_to_draft(session, run)
    session.commit()
    session.refresh(stop)
    return stop


def stop_of(session: Session, run_id: int, stop_id: int) -> RunStop:
    stop = session.get(RunStop, stop_id)
    if stop is None or stop.run_id != run_id:
        raise NotFound(N_("Run {run} has no stop {id}."), params={"run": run_id, "id": stop_id})
    return stop


def vehicles_of(*, session: Session, run_id: int) -> list[RunVehicle]:
    """A run's vehicles, in the order they were added."""
    stmt = select(RunVehicle).where(RunVehicle.run_id == run_id).order_by(RunVehicle.id)
    return list(session.execute(stmt).scalars())
