"""Delivery runs on the road: dispatch, and closing stops (delivered by a scan, or failed).

Creating runs and choosing their claims: app/runs/service.py; planning: run_plan.py. Every
status change is a conditional UPDATE whose row count is checked.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func, insert, select, update
from sqlmodel import Session

from app.core.errors import N_, Conflict, Invalid, NotFound
from app.pickup import handover as pickup
from app.runs import drivers
from app.runs import service as runs
from models.base import utcnow
from models.claims import Claim, ClaimEvent
from models.runs import Run, RunStop, RunVehicle
from models.users import Role, User

FAIL_REASONS = {
    "not_home": N_("not at home"),
    "wrong_address": N_("wrong address"),
    "refused": N_("refused"),
    "other": N_("other"),
}


def _event(
    session: Session, claim_id: int, frm: str, to: str, reason: str, user_id: int | None, note=""
) -> None:
    session.execute(
        insert(ClaimEvent).values(
            claim_id=claim_id,
            at=utcnow(),
            user_id=user_id,
            from_status=frm,
            to_status=to,
            reasons=[reason],
            note=note,
        )
    )


def dispatch(*, session: Session, run_id: int, user: User) -> Run:
    """Send the run out: its routed claims go out for delivery, unassigned ones are released."""
    run = runs.get_run(session=session, run_id=run_id)
    if run.status != "planned":
        raise Conflict(
            N_("Only a planned run can be dispatched; run {id} is {status}. Optimise it first."),
            params={"id": run_id, "status": run.status},
        )
    routed = session.execute(
        select(RunStop.claim_id, Claim.status)
        .join(Claim, Claim.id == RunStop.claim_id)
        .where(RunStop.run_id == run.id, RunStop.vehicle_id.is_not(None))
    ).all()
    if not routed:
        raise Invalid(N_("Run {id} has no routed stops to dispatch."), params={"id": run_id})
    done = session.execute(
        update(Run)
        .where(Run.id == run.id, Run.status == "planned")
        .values(status="dispatched", dispatched_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        session.rollback()
        raise Conflict(N_("Run {id} was changed meanwhile; reload it."), params={"id": run_id})
    ids = [r.claim_id for r in routed]
    moved = session.execute(
        update(Claim)
        .where(Claim.id.in_(ids), Claim.run_id == run.id, Claim.status.in_(runs.SELECTABLE))
        .values(status="out_for_delivery", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != len(ids):
        session.rollback()
        raise Conflict(
            N_("Some claims of run {id} changed (cancelled or handed over): optimise it again."),
            params={"id": run_id},
        )
    for r in routed:
        _event(session, r.claim_id, r.status, "out_for_delivery", "dispatched", user.id)
    # Claims no car could take return to be planned on another run.
    unassigned = select(RunStop.claim_id).where(
        RunStop.run_id == run.id, RunStop.vehicle_id.is_(None)
    )
    session.execute(
        update(Claim)
        .where(Claim.id.in_(unassigned), Claim.run_id == run.id)
        .values(run_id=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(RunStop)
        .where(RunStop.run_id == run.id, RunStop.vehicle_id.is_(None))
        .values(
            status="unassigned",
            unassigned_reason=func.coalesce(RunStop.unassigned_reason, "no_room_left"),
        )
    )
    session.commit()
    session.refresh(run)
    return run


def _maybe_complete(session: Session, run_id: int) -> None:
    open_stop = exists().where(RunStop.run_id == run_id, RunStop.status == "planned")
    session.execute(
        update(Run)
        .where(and_(Run.id == run_id, Run.status == "dispatched", ~open_stop))
        .values(status="complete", completed_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _close_stop(session: Session, stop_id: int, run_id: int, at: datetime) -> None:
    """Inside the scan's hand-over transaction: the stop is delivered."""
    session.execute(
        update(RunStop)
        .where(RunStop.id == stop_id, RunStop.status == "planned")
        .values(status="delivered", closed_at=at)
        .execution_options(synchronize_session=False)
    )
    _maybe_complete(session, run_id)


def resolve_stop(
    session: Session, run_stop_id: int, user_id: int, role: str
) -> pickup.Target | str:
    """The pickup flow's target for a scan at a run stop (registered with pickup): only the
    driver of the stop's vehicle, or a diplomat, may close it ("not_your_vehicle" else)."""
    row = session.execute(
        select(
            RunStop.id,
            RunStop.claim_id,
            RunStop.vehicle_id,
            RunVehicle.driver_user_id,
            Run.id.label("run_id"),
            Run.status,
            Run.depot_location_id,
        )
        .join(Run, Run.id == RunStop.run_id)
        .outerjoin(RunVehicle, RunVehicle.id == RunStop.vehicle_id)
        .where(RunStop.id == run_stop_id)
    ).first()
    if row is None:
        return "unknown_point"
    if not drivers.may_drive(user_id=user_id, role=role, driver_user_id=row.driver_user_id):
        return "not_your_vehicle"
    if row.vehicle_id is None or row.status not in ("dispatched", "complete"):
        return "unknown_point"
    run_id = row.run_id

    def on_handover(s: Session, at: datetime, user_id: int) -> None:
        _close_stop(s, run_stop_id, run_id, at)

    return pickup.Target(
        location_id=row.depot_location_id,
        run_stop_id=run_stop_id,
        statuses=("out_for_delivery",),
        claim_id=row.claim_id,
        on_handover=on_handover,
    )


if resolve_stop not in pickup.run_stop_resolvers:
    pickup.run_stop_resolvers.append(resolve_stop)


def fail_stop(
    *,
    session: Session,
    run_id: int,
    stop_id: int,
    reason: str,
    note: str = "",
    user: User,
    vehicle_id: int | None = None,
) -> RunStop:
    """The driver could not deliver: the stop fails and its claim returns to be planned again.
    Only the driver of the stop's vehicle (of `vehicle_id`, when given) or a diplomat (403)."""
    run = runs.get_run(session=session, run_id=run_id)
    stop = drivers.require_stop(session=session, user=user, run_id=run.id, stop_id=stop_id)
    if vehicle_id is not None and stop.vehicle_id != vehicle_id:
        raise NotFound(
            N_("Vehicle {vehicle} has no stop {id}."), params={"vehicle": vehicle_id, "id": stop_id}
        )
    if reason not in FAIL_REASONS:
        raise Invalid(
            N_("Unknown reason {reason}: use one of {choices}."),
            params={"reason": reason, "choices": ", ".join(FAIL_REASONS)},
        )
    if len(note) > 500:
        raise Invalid(N_("The note is at most 500 characters."))
    if run.status != "dispatched":
        raise Conflict(
            N_("Run {id} is {status}: only stops of a dispatched run can fail."),
            params={"id": run_id, "status": run.status},
        )
    open_stop = [
        RunStop.id == stop.id,
        RunStop.status == "planned",
        RunStop.vehicle_id.is_not(None),
    ]
    if user.role != Role.diplomat:
        # the assignment is part of the update: a driver swapped meanwhile closes nothing
        mine = select(RunVehicle.id).where(RunVehicle.driver_user_id == user.id)
        open_stop.append(RunStop.vehicle_id.in_(mine))
    closed = session.execute(
        update(RunStop)
        .where(*open_stop)
        .values(status="failed", fail_reason=reason, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:
        session.rollback()
        drivers.require_stop(session=session, user=user, run_id=run.id, stop_id=stop_id)
        raise Conflict(N_("Stop {id} is already closed."), params={"id": stop_id})
    back = session.execute(
        update(Claim)
        .where(Claim.id == stop.claim_id, Claim.status == "out_for_delivery")
        .values(status="allocated", run_id=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if back.rowcount != 1:
        session.rollback()
        raise Conflict(
            N_("The claim of stop {id} is no longer out for delivery."), params={"id": stop_id}
        )
    _event(
        session,
        stop.claim_id,
        "out_for_delivery",
        "allocated",
        f"delivery_{reason}",
        user.id,
        note.strip(),
    )
    _maybe_complete(session, run.id)
    session.commit()
    session.refresh(stop)
    return stop
