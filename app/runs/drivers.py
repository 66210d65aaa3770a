"""Who drives what: a vehicle's driver account, a driver's own vehicles, and the owner rule of
delivery runs on the road — only the vehicle's driver and diplomats see its stops (names,
phones, addresses and coordinates of minors), close them by scan or mark them failed.

A driver is a staff account with the `driver` role (`kitrun user create --role driver`),
assigned to vehicles by diplomats (`run_vehicle.driver_user_id`). Volunteers are never drivers:
their accounts stay scoped to pickup points.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from app.audit import trail as audit
from app.core.errors import N_, Conflict, Forbidden
from app.runs import service as runs
from models.runs import Run, RunStop, RunVehicle
from models.users import Role, User

NOT_YOUR_VEHICLE = N_("This vehicle is not assigned to you. Ask a consular officer to assign it.")
# Runs a driver's landing page lists: those on the road or about to be, and today's finished.
LISTED = ("planned", "dispatched")


def may_drive(*, user_id: int, role: str, driver_user_id: int | None) -> bool:
    """Whether a caller may see and close the stops of a vehicle driven by `driver_user_id`."""
    return role == Role.diplomat or (driver_user_id is not None and driver_user_id == user_id)


def require_vehicle(*, session: Session, user: User, run_id: int, vehicle_id: int) -> RunVehicle:
    """The run's vehicle when the user drives it or is a diplomat (404 unknown, 403 not theirs)."""
    runs.get_run(session=session, run_id=run_id)
    vehicle = runs.vehicle_of(session, run_id, vehicle_id)
    if not may_drive(user_id=user.id, role=user.role, driver_user_id=vehicle.driver_user_id):
        raise Forbidden(NOT_YOUR_VEHICLE, code="not_your_vehicle")
    return vehicle


def require_stop(*, session: Session, user: User, run_id: int, stop_id: int) -> RunStop:
    """The run's stop when the user drives its vehicle or is a diplomat (404 / 403)."""
    runs.get_run(session=session, run_id=run_id)
    stop = runs.stop_of(session, run_id, stop_id)
    if user.role == Role.diplomat:
        return stop
    vehicle = session.get(RunVehicle, stop.vehicle_id) if stop.vehicle_id is not None else None
    driver = vehicle.driver_user_id if vehicle is not None else None
    if not may_drive(user_id=user.id, role=user.role, driver_user_id=driver):
        raise Forbidden(NOT_YOUR_VEHICLE, code="not_your_vehicle")
    return stop


def set_driver(
    *,
    session: Session,
    run_id: int,
    vehicle_id: int,
    driver: str = "",
    driver_user_id: int | None = None,
    actor_id: int | None = None,
) -> RunVehicle:
    """Name a vehicle's driver and the account that may see its stops (also once dispatched:
    drivers swap cars); a complete run keeps who drove it."""
    run = runs.get_run(session=session, run_id=run_id)
    if run.status == "complete":
        raise Conflict(
            N_("Run {id} is complete: its drivers can no longer change."), params={"id": run_id}
        )
    vehicle = runs.vehicle_of(session, run_id, vehicle_id)
    runs.driver_account(session, driver_user_id)
    before = {"driver": vehicle.driver, "driver_user_id": vehicle.driver_user_id}
    vehicle.driver, vehicle.driver_user_id = driver.strip(), driver_user_id
    session.add(vehicle)
    audit.record(
        session,
        user_id=actor_id,
        action="vehicle.driver",
        object_type="run_vehicle",
        object_id=vehicle.id,
        before=before,
        after={"driver": vehicle.driver, "driver_user_id": driver_user_id},
    )
    session.commit()
    session.refresh(vehicle)
    return vehicle


def drivers(*, session: Session) -> list[User]:
    """Active driver accounts, by name (the run page's choices)."""
    q = select(User).where(User.role == Role.driver, User.active)
    return list(session.scalars(q.order_by(User.display_name, User.username)).all())


def assigned(*, session: Session, user: User, today: date) -> list[dict]:
    """The vehicles a driver drives on runs planned or on the road, and runs finished today:
    run, vehicle, stops and stops still open. Nothing about the students."""
    stops = (
        select(
            RunStop.vehicle_id,
            func.count().label("stops"),
            func.count().filter(RunStop.status == "planned").label("open"),
        )
        .where(RunStop.vehicle_id.is_not(None))
        .group_by(RunStop.vehicle_id)
        .subquery()
    )
    rows = session.execute(
        select(Run, RunVehicle, stops.c.stops, stops.c.open)
        .join(RunVehicle, RunVehicle.run_id == Run.id)
        .outerjoin(stops, stops.c.vehicle_id == RunVehicle.id)
        .where(
            RunVehicle.driver_user_id == user.id,
            or_(Run.status.in_(LISTED), and_(Run.status == "complete", Run.date >= today)),
        )
        .order_by(Run.date, Run.id, RunVehicle.id)
    ).all()
    return [
        {"run": run, "vehicle": vehicle, "stops": n or 0, "open": left or 0}
        for run, vehicle, n, left in rows
    ]
