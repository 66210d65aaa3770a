"""Read side of the stock: levels, the ledger, stock cards, alerts, CSV exports."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from app.core import csv_out
from models.inventory import (
    Item,
    LevelPublic,
    Location,
    Lot,
    StockEntry,
    StockLevel,
    StockMovement,
)
from models.users import User


def levels(
    *,
    session: Session,
    item_id: int | None = None,
    location_id: int | None = None,
    lot_id: int | None = None,
    include_empty: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[LevelPublic], int]:
    """Levels per (item, lot, location), with on hand, reserved and available; and the total."""
    q = (
        select(StockLevel, Item, Lot, Location)
        .execution_options(populate_existing=True)
        .join(Item, Item.id == StockLevel.item_id)
        .join(Lot, Lot.id == StockLevel.lot_id)
        .join(Location, Location.id == StockLevel.location_id)
    )
    if item_id is not None:
        q = q.where(StockLevel.item_id == item_id)
    if location_id is not None:
        q = q.where(StockLevel.location_id == location_id)
    if lot_id is not None:
        q = q.where(StockLevel.lot_id == lot_id)
    if not include_empty:
        q = q.where(StockLevel.on_hand > 0)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    rows = session.exec(
        q.order_by(Location.id, Item.sku, Lot.expiry.is_(None), Lot.expiry, Lot.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [_level(lvl, item, lot, loc) for lvl, item, lot, loc in rows], int(total)


def _level(lvl: StockLevel, item: Item, lot: Lot, loc: Location) -> LevelPublic:
    return LevelPublic(
        item_id=item.id,
        sku=item.sku,
        item_name_zh=item.name_zh,
        item_name_en=item.name_en,
        lot_id=lot.id,
        lot_code=lot.code,
        expiry=lot.expiry,
        location_id=loc.id,
        location_name_zh=loc.name_zh,
        location_name_en=loc.name_en,
        on_hand=lvl.on_hand,
        reserved=lvl.reserved,
        available=lvl.on_hand - lvl.reserved,
    )


def totals_by_location(*, session: Session) -> list[dict]:
    """Per location and item: on hand, reserved, available (all lots together)."""
    rows = session.exec(
        select(
            Location,
            Item,
            func.sum(StockLevel.on_hand),
            func.sum(StockLevel.reserved),
        )
        .join(Location, Location.id == StockLevel.location_id)
        .join(Item, Item.id == StockLevel.item_id)
        .group_by(Location.id, Item.id)
        .order_by(Location.kind, Location.id, Item.is_kit.desc(), Item.sku)
    ).all()
    return [
        {
            "location": loc,
            "item": item,
            "on_hand": int(oh),
            "reserved": int(rs),
            "available": int(oh) - int(rs),
            "low": item.low_stock_threshold > 0 and int(oh) - int(rs) < item.low_stock_threshold,
        }
        for loc, item, oh, rs in rows
    ]


def movements(
    *,
    session: Session,
    item_id: int | None = None,
    location_id: int | None = None,
    lot_id: int | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict], int]:
    """Ledger movements (newest first) with their entries, filtered; and the total."""
    q = select(StockMovement.id)
    if item_id is not None or location_id is not None or lot_id is not None:
        sub = select(StockEntry.movement_id)
        if item_id is not None:
            sub = sub.where(StockEntry.item_id == item_id)
        if location_id is not None:
            sub = sub.where(StockEntry.location_id == location_id)
        if lot_id is not None:
            sub = sub.where(StockEntry.lot_id == lot_id)
        q = q.where(StockMovement.id.in_(sub))
    if kind:
        q = q.where(StockMovement.kind == kind)
    if since:
        q = q.where(StockMovement.created_at >= since)
    if until:
        q = q.where(StockMovement.created_at < until)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    ids = session.exec(q.order_by(StockMovement.id.desc()).limit(limit).offset(offset)).all()
    return describe(session=session, movement_ids=list(ids)), int(total)


def describe(*, session: Session, movement_ids: list[int]) -> list[dict]:
    """Movements with entries, in the order of the ids given."""
    if not movement_ids:
        return []
    heads = {
        m.id: (m, u)
        for m, u in session.exec(
            select(StockMovement, User)
            .join(User, User.id == StockMovement.user_id, isouter=True)
            .where(StockMovement.id.in_(movement_ids))
        ).all()
    }
    entries: dict[int, list[dict]] = {i: [] for i in movement_ids}
    for e, item, lot in session.exec(
        select(StockEntry, Item, Lot)
        .join(Item, Item.id == StockEntry.item_id)
        .join(Lot, Lot.id == StockEntry.lot_id)
        .where(StockEntry.movement_id.in_(movement_ids))
        .order_by(StockEntry.id)
    ).all():
        entries[e.movement_id].append(
            {
                "item_id": e.item_id,
                "sku": item.sku,
                "lot_id": e.lot_id,
                "lot_code": lot.code,
                "location_id": e.location_id,
                "on_hand_delta": e.on_hand_delta,
                "reserved_delta": e.reserved_delta,
            }
        )
    out = []
    for mid in movement_ids:
        m, u = heads[mid]
        out.append(
            {
                "id": m.id,
                "kind": m.kind,
                "reason": m.reason,
                "note": m.note,
                "reference": m.reference,
                "user": u.username if u else None,
                "created_at": m.created_at,
                "entries": entries[mid],
            }
        )
    return out


def stock_card(
    *, session: Session, item_id: int, lot_id: int | None = None, location_id: int | None = None
) -> list[dict]:
    """An item's history (optionally one lot / location), oldest first, with running balance."""
    q = (
        select(StockEntry, StockMovement, Lot, Location, User)
        .join(StockMovement, StockMovement.id == StockEntry.movement_id)
        .join(Lot, Lot.id == StockEntry.lot_id)
        .join(Location, Location.id == StockEntry.location_id)
        .join(User, User.id == StockMovement.user_id, isouter=True)
        .where(StockEntry.item_id == item_id, StockEntry.on_hand_delta != 0)
    )
    if lot_id is not None:
        q = q.where(StockEntry.lot_id == lot_id)
    if location_id is not None:
        q = q.where(StockEntry.location_id == location_id)
    balance = 0
    rows = []
    for e, m, lot, loc, user in session.exec(q.order_by(StockEntry.id)).all():
        balance += e.on_hand_delta
        rows.append(
            {
                "movement_id": m.id,
                "at": m.created_at,
                "kind": m.kind,
                "reason": m.reason,
                "note": m.note,
                "user": user.username if user else "",
                "lot_code": lot.code,
                "location": loc,
                "change": e.on_hand_delta,
                "balance": balance,
            }
        )
    return rows


def alerts(
    *, session: Session, days: int = 30, location_id: int | None = None, today: date | None = None
) -> dict:
    """Lots expiring within `days` (or expired) with stock, and items below their threshold."""
    today = today or date.today()
    horizon = today + timedelta(days=days)
    q = (
        select(StockLevel, Item, Lot, Location)
        .execution_options(populate_existing=True)
        .join(Item, Item.id == StockLevel.item_id)
        .join(Lot, Lot.id == StockLevel.lot_id)
        .join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.on_hand > 0, Lot.expiry.is_not(None), Lot.expiry <= horizon)
    )
    if location_id is not None:
        q = q.where(StockLevel.location_id == location_id)
    expiring = [
        {**_level(lvl, item, lot, loc).model_dump(), "days_left": (lot.expiry - today).days}
        for lvl, item, lot, loc in session.exec(q.order_by(Lot.expiry, Location.id)).all()
    ]
    low = [
        {
            "location_id": r["location"].id,
            "location_name_zh": r["location"].name_zh,
            "location_name_en": r["location"].name_en,
            "item_id": r["item"].id,
            "sku": r["item"].sku,
            "item_name_zh": r["item"].name_zh,
            "item_name_en": r["item"].name_en,
            "available": r["available"],
            "threshold": r["item"].low_stock_threshold,
        }
        for r in totals_by_location(session=session)
        if r["low"] and (location_id is None or r["location"].id == location_id)
    ]
    return {"days": days, "expiring": expiring, "low_stock": low}


def _csv(header: list[str], rows: list[list]) -> bytes:
    writer = csv_out.Writer(header)
    writer.writerows(rows)
    return writer.to_bytes()


def levels_csv(*, session: Session) -> bytes:
    rows, _ = levels(session=session, include_empty=True, limit=10**9)
    return _csv(
        [
            "location",
            "location_zh",
            "sku",
            "item",
            "item_zh",
            "lot",
            "expiry",
            "on_hand",
            "reserved",
            "available",
        ],
        [
            [
                r.location_name_en,
                r.location_name_zh,
                r.sku,
                r.item_name_en,
                r.item_name_zh,
                r.lot_code,
                r.expiry or "",
                r.on_hand,
                r.reserved,
                r.available,
            ]
            for r in rows
        ],
    )


def ledger_csv(*, session: Session) -> bytes:
    rows = session.exec(
        select(StockEntry, StockMovement, Item, Lot, Location, User)
        .join(StockMovement, StockMovement.id == StockEntry.movement_id)
        .join(Item, Item.id == StockEntry.item_id)
        .join(Lot, Lot.id == StockEntry.lot_id)
        .join(Location, Location.id == StockEntry.location_id)
        .join(User, User.id == StockMovement.user_id, isouter=True)
        .order_by(StockEntry.id)
    ).all()
    return _csv(
        [
            "movement",
            "at_utc",
            "kind",
            "reason",
            "note",
            "reference",
            "user",
            "sku",
            "lot",
            "location",
            "on_hand_change",
            "reserved_change",
        ],
        [
            [
                m.id,
                m.created_at.isoformat(),
                m.kind,
                m.reason or "",
                m.note,
                m.reference or "",
                u.username if u else "",
                item.sku,
                lot.code,
                loc.name_en,
                e.on_hand_delta,
                e.reserved_delta,
            ]
            for e, m, item, lot, loc, u in rows
        ],
    )
