"""The audit trail: who changed what, when, before and after (append-only in the database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, func, insert, select
from sqlmodel import Session

from app.core import csv_out
from models.audit import AuditEntry
from models.base import utcnow
from models.users import User

# What a snapshot keeps of an object; nothing else (no password hashes, no tokens).
CLAIM_FIELDS = (
    "status",
    "fulfilment",
    "reserved_location_id",
    "handed_over_location_id",
    "handed_over_at",
    "run_id",
)
CAMPAIGN_FIELDS = (
    "name_zh",
    "name_en",
    "opens_at",
    "closes_at",
    "status",
    "kit_item_id",
    "kits_per_student",
    "delivery_minors",
    "delivery_quarantine",
    "delivery_distance_km",
    "depot_location_id",
    "asks_phone",
    "asks_wechat",
    "asks_passport_name",
    "retention_days",
    "retention_days_minors",
    "confirm_after_id_check",
)


def plain(value: Any) -> Any:  # noqa: ANN401
    """A value as JSON-ready data: times as ISO 8601, enums as their values."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict:  # noqa: ANN401
    """The named fields of an object (or dict) as JSON-ready values."""
    get = obj.get if isinstance(obj, dict) else lambda k: getattr(obj, k, None)
    return {f: plain(get(f)) for f in fields}


def record(
    session: Session,
    *,
    user_id: int | None,
    action: str,
    object_type: str,
    object_id: int | str,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """Append an audit entry in the caller's transaction (committed or rolled back with it)."""
    session.execute(
        insert(AuditEntry).values(
            at=utcnow(),
            user_id=user_id,
            action=action[:60],
            object_type=object_type[:40],
            object_id=str(object_id)[:40],
            before=plain(before) if before is not None else None,
            after=plain(after) if after is not None else None,
        )
    )


@dataclass
class AuditFilter:
    user_id: int | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list:
        # Times without a zone are UTC (the API's convention).
        since, until = (
            t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t
            for t in (self.since, self.until)
        )
        conds = []
        if self.user_id is not None:
            conds.append(AuditEntry.user_id == self.user_id)
        if self.action:
            conds.append(AuditEntry.action == self.action)
        if self.object_type:
            conds.append(AuditEntry.object_type == self.object_type)
        if self.object_id:
            conds.append(AuditEntry.object_id == str(self.object_id))
        if since is not None:
            conds.append(AuditEntry.at >= since)
        if until is not None:
            conds.append(AuditEntry.at < until)
        return conds


def _row(entry: AuditEntry, username: str | None) -> dict:
    return {
        "id": entry.id,
        "at": entry.at,
        "user_id": entry.user_id,
        "user": username or "",
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "before": entry.before,
        "after": entry.after,
        "changed": changed_keys(entry.before, entry.after),
    }


def changed_keys(before: dict | None, after: dict | None) -> list[str]:
    """The keys whose value differs between before and after."""
    b, a = before or {}, after or {}
    return sorted(k for k in set(b) | set(a) if b.get(k) != a.get(k))


def entries(
    *, session: Session, filters: AuditFilter, limit: int = 50, offset: int = 0
) -> tuple[list[dict], int]:
    """Audit entries, newest first, with the user's name; and the total."""
    conds = filters.conditions()
    total = session.execute(select(func.count()).select_from(AuditEntry).where(*conds)).scalar_one()
    rows = session.execute(
        select(AuditEntry, User.username)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .where(*conds)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [_row(e, u) for e, u in rows], int(total)


def actions(*, session: Session) -> list[str]:
    """The distinct actions recorded so far (for the filter list)."""
    return list(
        session.execute(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).scalars()
    )


CSV_COLUMNS = (
    "id",
    "at_utc",
    "user",
    "action",
    "object_type",
    "object_id",
    "changed",
    "before",
    "after",
)


def to_csv(*, session: Session, filters: AuditFilter) -> bytes:
    """The filtered audit trail as CSV (UTF-8 with BOM), oldest first."""
    import json

    w = csv_out.Writer(CSV_COLUMNS)
    for e, username in session.execute(
        select(AuditEntry, User.username)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .where(*filters.conditions())
        .order_by(AuditEntry.at, AuditEntry.id)
    ):
        w.writerow(
            [
                e.id,
                e.at.isoformat(),
                username or "",
                e.action,
                e.object_type,
                e.object_id,
                " ".join(changed_keys(e.before, e.after)),
                json.dumps(e.before, ensure_ascii=False) if e.before is not None else "",
                json.dumps(e.after, ensure_ascii=False) if e.after is not None else "",
            ]
        )
    return w.to_bytes()


# ---------------------------------------------------------------- changes made through the ORM
# Every change a logged-in person makes to these tables is recorded when the session flushes:
# the dependencies that resolve the user put its id on the session (session.info["actor_id"]).
# Claims, campaigns, stock movements and hand-overs record their own, richer entries above.

_SECRET = {"password_hash"}


def _audited() -> dict[type, str]:
    from models.campaigns import PickupSlot
    from models.inventory import Item, Location, RecipeLine
    from models.pickup import VolunteerPoint
    from models.printing import PrintJob
    from models.runs import Run, RunStop, RunVehicle
    from models.schools import RosterImport, School

    return {
        Item: "item",
        RecipeLine: "recipe_line",
        Location: "location",
        School: "school",
        RosterImport: "roster_import",
        PickupSlot: "pickup_slot",
        VolunteerPoint: "volunteer_point",
        Run: "run",
        RunVehicle: "run_vehicle",
        RunStop: "run_stop",
        PrintJob: "print_job",
        User: "user",
    }


def _columns(obj: Any) -> list[str]:  # noqa: ANN401
    return [c.key for c in obj.__table__.columns if c.key not in _SECRET]


def _before(obj: Any) -> dict:  # noqa: ANN401
    from sqlalchemy import inspect as sa_inspect

    state = sa_inspect(obj)
    out = {}
    for key in _columns(obj):
        hist = state.attrs[key].history
        out[key] = plain(hist.deleted[0] if hist.deleted else getattr(obj, key, None))
    return out


@event.listens_for(Session, "after_flush")
def _record_orm_changes(session: Session, flush_context: Any) -> None:  # noqa: ANN401
    actor = session.info.get("actor_id")
    if actor is None:
        return
    audited = _audited()
    rows = []
    for verb, objs in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objs:
            kind = audited.get(type(obj))
            if kind is None or (verb == "update" and not session.is_modified(obj)):
                continue
            after = None if verb == "delete" else snapshot(obj, tuple(_columns(obj)))
            before = None if verb == "create" else _before(obj)
            if before is not None and after is not None:
                changed = {k for k in after if before.get(k) != after.get(k)}
                if not changed:
                    continue
                before = {k: before[k] for k in changed}
                after = {k: after[k] for k in changed}
            rows.append(
                {
                    "at": utcnow(),
                    "user_id": actor,
                    "action": f"{kind}.{verb}",
                    "object_type": kind,
                    "object_id": str(getattr(obj, "id", ""))[:40],
                    "before": before,
                    "after": after,
                }
            )
    if rows:
        session.connection().execute(insert(AuditEntry), rows)
