"""Volunteers and pickup points: who may scan where (diplomats everywhere)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlmodel import Session

from app.core.errors import N_, Forbidden, Invalid, NotFound
from app.pickup.redeem import point_target
from models.inventory import Location, LocationKind
from models.pickup import VolunteerPoint
from models.users import Role, User


def pickup_point(session: Session, location_id: int) -> Location:
    """A pickup point by id (404 when there is none)."""
    loc = session.get(Location, location_id)
    if loc is None or loc.kind != LocationKind.pickup_point:
        raise NotFound(N_("No pickup point with id {id}."), params={"id": location_id})
    return loc


def _volunteer(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No user with id {id}."), params={"id": user_id})
    if user.role != Role.volunteer:
        raise Invalid(
            N_("{username} is not a volunteer; diplomats may scan at every point."),
            params={"username": user.username},
        )
    return user


def points_of(*, session: Session, user: User) -> list[Location]:
    """The pickup points a user may scan at (every active point for a diplomat)."""
    q = select(Location).where(Location.kind == LocationKind.pickup_point, Location.active)
    if user.role != Role.diplomat:
        q = q.join(VolunteerPoint, VolunteerPoint.location_id == Location.id).where(
            VolunteerPoint.user_id == user.id
        )
    return list(session.scalars(q.order_by(Location.name_en, Location.id)).all())


def assign_volunteer(*, session: Session, user_id: int, location_id: int) -> None:
    """Let a volunteer scan at a pickup point (no change when already assigned)."""
    set_volunteer_points(
        session=session,
        user_id=user_id,
        location_ids=[
            *(p.location_id for p in _assignments(session, user_id)),
            location_id,
        ],
    )


def unassign_volunteer(*, session: Session, user_id: int, location_id: int) -> None:
    """Stop a volunteer scanning at a pickup point."""
    keep = [p.location_id for p in _assignments(session, user_id) if p.location_id != location_id]
    set_volunteer_points(session=session, user_id=user_id, location_ids=keep)


def _assignments(session: Session, user_id: int) -> list[VolunteerPoint]:
    return list(
        session.scalars(select(VolunteerPoint).where(VolunteerPoint.user_id == user_id)).all()
    )


def set_volunteer_points(*, session: Session, user_id: int, location_ids: list[int]) -> list[int]:
    """Replace the points a volunteer may scan at; returns the sorted point ids."""
    return set_assignments(session=session, points_by_user={user_id: location_ids})[user_id]


def set_assignments(
    *, session: Session, points_by_user: dict[int, list[int]]
) -> dict[int, list[int]]:
    """Replace the points of several volunteers at once (one transaction)."""
    out = {}
    try:
        for user_id, location_ids in points_by_user.items():
            _volunteer(session, user_id)
            wanted = sorted(set(location_ids))
            for lid in wanted:
                pickup_point(session, lid)
            session.execute(
                delete(VolunteerPoint).where(
                    VolunteerPoint.user_id == user_id, VolunteerPoint.location_id.not_in(wanted)
                )
            )
            have = {p.location_id for p in _assignments(session, user_id)}
            for lid in wanted:
                if lid not in have:
                    session.add(VolunteerPoint(user_id=user_id, location_id=lid))
            out[user_id] = wanted
        session.commit()
    except Exception:
        session.rollback()
        raise
    return out


def assignments(*, session: Session) -> dict[int, set[int]]:
    """Every volunteer's point ids: {user_id: {location_id, ...}}."""
    out: dict[int, set[int]] = {}
    for uid, lid in session.execute(select(VolunteerPoint.user_id, VolunteerPoint.location_id)):
        out.setdefault(uid, set()).add(lid)
    return out


def may_scan_at(*, session: Session, user: User, location_id: int) -> bool:
    """Whether a user may scan (and see the counters) at a pickup point."""
    return point_target(session, user, location_id) not in (
        "not_your_point",
        "unknown_point",
    )


def require_point(*, session: Session, user: User, location_id: int) -> Location:
    """The pickup point, when the user may work there (404 unknown, 403 not assigned)."""
    loc = pickup_point(session, location_id)
    if not may_scan_at(session=session, user=user, location_id=location_id):
        raise Forbidden(N_("You are not assigned to this pickup point."), code="not_your_point")
    return loc
