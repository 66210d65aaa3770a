"""The scan log for diplomats (filters, CSV) and the counters a pickup table shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlmodel import Session

from app.audit import looks
from app.core import csv_out
from app.core.errors import N_, Invalid
from app.pickup.handover import mask_name
from app.pickup.volunteers import pickup_point
from models.base import utcnow
from models.claims import Claim
from models.inventory import Location
from models.pickup import Scan
from models.schools import School
from models.users import User


def zone(name: str | None) -> ZoneInfo:
    """An IANA time zone by name (422 naming it when unknown)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(
            N_("Unknown time zone {tz}; use an IANA name such as Europe/Paris."),
            params={"tz": name},
        ) from exc


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where a local day starts and ends."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def counters(*, session: Session, location_id: int, tz: str | None = None) -> dict:
    """Handed out today (the local day) and still to come (allocated or ready here)."""
    pickup_point(session, location_id)
    zi = zone(tz)
    start, end = day_bounds(datetime.now(zi).date(), zi)
    today = session.execute(
        select(func.coalesce(func.sum(Claim.kits), 0)).where(
            Claim.handed_over_location_id == location_id,
            Claim.status == "handed_over",
            Claim.handed_over_at >= start,
            Claim.handed_over_at < end,
        )
    ).scalar_one()
    to_come = session.execute(
        select(func.coalesce(func.sum(Claim.kits), 0)).where(
            Claim.reserved_location_id == location_id,
            Claim.status.in_(("allocated", "ready")),
        )
    ).scalar_one()
    return {
        "location_id": location_id,
        "handed_out_today": int(today),
        "still_to_come": int(to_come),
        "timezone": zi.key,
    }


@dataclass
class ScanFilter:
    location_id: int | None = None
    claim_id: int | None = None
    user_id: int | None = None
    result: str | None = None
    conflict: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


def _query(f: ScanFilter):  # noqa: ANN202
    q = (
        select(
            Scan.id,
            Scan.claim_id,
            Scan.code_hash,
            Scan.user_id,
            Scan.location_id,
            Scan.run_stop_id,
            Scan.nonce,
            Scan.scanned_at,
            Scan.received_at,
            Scan.result,
            Scan.conflict,
            User.username,
            User.display_name,
            Location.name_zh.label("location_zh"),
            Location.name_en.label("location_en"),
            Claim.name_zh,
            Claim.name_latin,
            Claim.status.label("claim_status"),
            School.name_zh.label("school_zh"),
            School.name_en.label("school_en"),
        )
        .join(User, User.id == Scan.user_id)
        .outerjoin(Location, Location.id == Scan.location_id)
        .outerjoin(Claim, Claim.id == Scan.claim_id)
        .outerjoin(School, School.id == Claim.school_id)
    )
    conds = []
    if f.location_id is not None:
        conds.append(Scan.location_id == f.location_id)
    if f.claim_id is not None:
        conds.append(Scan.claim_id == f.claim_id)
    if f.user_id is not None:
        conds.append(Scan.user_id == f.user_id)
    if f.result:
        conds.append(Scan.result == f.result)
    if f.conflict is not None:
        conds.append(Scan.conflict == f.conflict)
    if f.since is not None:
        conds.append(Scan.received_at >= f.since)
    if f.until is not None:
        conds.append(Scan.received_at < f.until)
    return q.where(*conds), conds


def _row(r) -> dict:  # noqa: ANN001
    masked = mask_name(r.name_zh or "", r.name_latin or "") if r.claim_id else None
    return {
        "id": r.id,
        "claim_id": r.claim_id,
        "code_hash": r.code_hash[:12],
        "user_id": r.user_id,
        "volunteer": r.display_name or r.username,
        "username": r.username,
        "location_id": r.location_id,
        "location_zh": r.location_zh or "",
        "location_en": r.location_en or "",
        "run_stop_id": r.run_stop_id,
        "nonce": r.nonce,
        "scanned_at": r.scanned_at,
        "received_at": r.received_at,
        "result": r.result,
        "conflict": r.conflict,
        "student_zh": masked["name_zh"] if masked else "",
        "student_latin": masked["name_latin"] if masked else "",
        "school_zh": r.school_zh or "",
        "school_en": r.school_en or "",
        "claim_status": r.claim_status,
    }


def list_scans(
    *, session: Session, filters: ScanFilter, limit: int = 100, offset: int = 0
) -> tuple[list[dict], int]:
    """Scan attempts, newest first, with volunteer, point and the masked student; and the total."""
    q, conds = _query(filters)
    total = session.execute(select(func.count()).select_from(Scan).where(*conds)).scalar_one()
    rows = session.execute(
        q.order_by(Scan.received_at.desc(), Scan.id.desc()).limit(limit).offset(offset)
    )
    return [_row(r) for r in rows], int(total)


CSV_COLUMNS = (
    "scan_id",
    "received_at_utc",
    "scanned_at_utc",
    "result",
    "conflict",
    "point_id",
    "point",
    "run_stop_id",
    "volunteer",
    "claim_id",
    "student",
    "school",
    "code_hash",
)


def export_csv(
    *,
    session: Session,
    filters: ScanFilter,
    user: User,
    reason: str | None,
    gettext: Callable[[str], str] | None = None,
) -> bytes:
    """The scan log as CSV for staff (students' names masked, no address or phone): a reason is
    required (422), the export is in the audit trail (`export.scans`: reason, rows, filters)
    and its first line is the notice of what it holds."""
    why = looks.export_reason(reason)
    notice = looks.export_notice(username=user.username, reason=why, at=utcnow(), gettext=gettext)
    body, rows = _csv(session, filters, notice)
    looks.record_export(
        session,
        user_id=user.id,
        what="scans",
        reason=why,
        rows=rows,
        filters=asdict(filters),
    )
    return body


def scans_csv(*, session: Session, filters: ScanFilter, notice: str | None = None) -> bytes:
    """The filtered scan log as CSV (UTF-8 with BOM); codes only as a hash prefix."""
    return _csv(session, filters, notice)[0]


def _csv(session: Session, filters: ScanFilter, notice: str | None) -> tuple[bytes, int]:
    w = csv_out.Writer(CSV_COLUMNS, notice=notice)
    q, _ = _query(filters)
    for r in session.execute(q.order_by(Scan.received_at, Scan.id)):
        d = _row(r)
        w.writerow(
            [
                d["id"],
                d["received_at"].isoformat(),
                d["scanned_at"].isoformat(),
                d["result"],
                "yes" if d["conflict"] else "",
                d["location_id"] or "",
                d["location_en"],
                d["run_stop_id"] or "",
                d["username"],
                d["claim_id"] or "",
                " / ".join(x for x in (d["student_zh"], d["student_latin"]) if x),
                d["school_en"],
                d["code_hash"],
            ]
        )
    return w.to_bytes(), w.rows


def volunteers(*, session: Session) -> list[User]:
    """Active volunteer accounts, by name."""
    return list(
        session.scalars(
            select(User).where(User.role == "volunteer", User.active).order_by(User.username)
        ).all()
    )


def pickup_points(*, session: Session) -> list[Location]:
    """Active pickup points, by name."""
    return list(
        session.scalars(
            select(Location)
            .where(Location.kind == "pickup_point", Location.active)
            .order_by(Location.name_en, Location.id)
        ).all()
    )
