"""The stock ledger: append-only movements, levels kept in the same transaction, FEFO picking.

Every change of stock goes through `_apply`, which writes a ledger entry and changes the level
with one conditional statement, so two concurrent withdrawals can never both take the last unit
(and the level table's CHECK constraints refuse a negative level whatever happens).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from app.core.errors import N_, Conflict
from models.base import INT32_MAX
from models.inventory import (
    Item,
    Location,
    Lot,
    StockEntry,
    StockLevel,
    StockMovement,
)


class OutOfStock(Conflict):
    code = "out_of_stock"


@dataclass(frozen=True)
class Delta:
    item_id: int
    lot_id: int
    location_id: int
    on_hand: int = 0
    reserved: int = 0


# Called in the transaction after stock was added at a location: (session, item_id, location_id).
# The claims service registers here to allocate waitlisted claims when kits arrive.
stock_added_hooks: list[Callable[[Session, int, int], None]] = []


def new_movement(
    session: Session,
    *,
    kind: str,
    user_id: int | None = None,
    reason: str | None = None,
    note: str = "",
    reference: str | None = None,
) -> StockMovement:
    movement = StockMovement(
        kind=kind, user_id=user_id, reason=reason, note=note, reference=reference
    )
    session.add(movement)
    session.flush()
    return movement


def _insert(session: Session):  # noqa: ANN202
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(StockLevel)


def apply(session: Session, movement: StockMovement, delta: Delta) -> None:
    """Write one ledger entry and change its level, refusing (409) what would go below zero."""
    if delta.on_hand == 0 and delta.reserved == 0:
        return
    lvl = StockLevel.__table__.c
    if delta.on_hand > 0 and delta.reserved == 0:
        stmt = (
            _insert(session)
            .values(
                item_id=delta.item_id,
                lot_id=delta.lot_id,
                location_id=delta.location_id,
                on_hand=delta.on_hand,
                reserved=0,
            )
            .on_conflict_do_update(
                index_elements=["item_id", "lot_id", "location_id"],
                set_={"on_hand": lvl.on_hand + delta.on_hand},
                # the level is an INTEGER: refuse rather than overflow (an error on PostgreSQL)
                where=lvl.on_hand <= INT32_MAX - delta.on_hand,
            )
            .returning(lvl.id)
        )
        if session.execute(stmt).first() is None:
            raise Conflict(
                N_("That much stock would exceed {max} units in one place."),
                params={"max": INT32_MAX},
                code="level_too_large",
            )
    elif not _change_level(session, delta):
        raise _shortage(session, delta)
    session.add(_entry(movement, delta))


def apply_last(session: Session, movement: StockMovement, delta: Delta) -> bool:
    """Like apply() for a withdrawal or reservation, ordered for a hot row: the ledger entry is
    written first and the level's conditional update last, so the row lock is held only until
    the caller commits. False when the level had too little; the caller must then roll back."""
    session.add(_entry(movement, delta))
    session.flush()
    return _change_level(session, delta)


def _entry(movement: StockMovement, delta: Delta) -> StockEntry:
    return StockEntry(
        movement_id=movement.id,
        item_id=delta.item_id,
        lot_id=delta.lot_id,
        location_id=delta.location_id,
        on_hand_delta=delta.on_hand,
        reserved_delta=delta.reserved,
    )


def _change_level(session: Session, delta: Delta) -> bool:
    """The level's conditional update: True when it had enough (nothing goes below zero)."""
    lvl = StockLevel.__table__.c
    new_on_hand = lvl.on_hand + delta.on_hand
    new_reserved = lvl.reserved + delta.reserved
    result = session.execute(
        update(StockLevel)
        .where(
            and_(
                lvl.item_id == delta.item_id,
                lvl.lot_id == delta.lot_id,
                lvl.location_id == delta.location_id,
                new_on_hand >= 0,
                new_reserved >= 0,
                new_on_hand - new_reserved >= 0,
            )
        )
        .values(on_hand=new_on_hand, reserved=new_reserved)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _shortage(session: Session, delta: Delta) -> OutOfStock:
    level = session.exec(
        select(StockLevel)
        .execution_options(populate_existing=True)
        .where(
            StockLevel.item_id == delta.item_id,
            StockLevel.lot_id == delta.lot_id,
            StockLevel.location_id == delta.location_id,
        )
    ).first()
    item = session.get(Item, delta.item_id)
    lot = session.get(Lot, delta.lot_id)
    loc = session.get(Location, delta.location_id)
    available = (level.on_hand - level.reserved) if level else 0
    wanted = -delta.on_hand if delta.on_hand < 0 else delta.reserved
    return OutOfStock(
        N_(
            "Not enough {sku} (lot {lot}) at {location}: {available} available, {wanted} requested."
        ),
        params={
            "sku": item.sku if item else delta.item_id,
            "lot": lot.code if lot else delta.lot_id,
            "location": loc.name_en if loc else delta.location_id,
            "available": available,
            "wanted": wanted,
        },
        details={
            "item_id": delta.item_id,
            "lot_id": delta.lot_id,
            "location_id": delta.location_id,
            "available": available,
            "requested": wanted,
        },
    )


def available_lots(session: Session, *, item_id: int, location_id: int) -> list[tuple[int, int]]:
    """(lot_id, available) at a location, first-expired-first-out (no expiry last)."""
    rows = session.exec(
        select(StockLevel.lot_id, StockLevel.on_hand - StockLevel.reserved)
        .join(Lot, Lot.id == StockLevel.lot_id)
        .where(
            StockLevel.item_id == item_id,
            StockLevel.location_id == location_id,
            StockLevel.on_hand - StockLevel.reserved > 0,
        )
        .order_by(Lot.expiry.is_(None), Lot.expiry, Lot.id)
    ).all()
    return [(int(lot_id), int(avail)) for lot_id, avail in rows]


def take_fefo(
    session: Session,
    movement: StockMovement,
    *,
    item_id: int,
    location_id: int,
    quantity: int,
    reserve: bool = False,
    release_reserved: bool = False,
) -> list[tuple[int, int]]:
    """Take quantity of an item from a location, earliest expiry first; [(lot_id, qty)].

    reserve: mark as reserved instead of removing. A lot another transaction emptied meanwhile
    is skipped by re-reading, so the conditional update is the only arbiter.
    """
    taken: list[tuple[int, int]] = []
    need = quantity
    for _attempt in range(5):
        lots = available_lots(session, item_id=item_id, location_id=location_id)
        if sum(a for _, a in lots) < need:
            break
        for lot_id, avail in lots:
            if need == 0:
                break
            qty = min(avail, need)
            delta = (
                Delta(item_id, lot_id, location_id, reserved=qty)
                if reserve
                else Delta(item_id, lot_id, location_id, on_hand=-qty)
            )
            try:
                apply(session, movement, delta)
            except OutOfStock:  # taken meanwhile by another transaction; nothing was changed
                continue
            taken.append((lot_id, qty))
            need -= qty
        if need == 0:
            return taken
    total = sum(a for _, a in available_lots(session, item_id=item_id, location_id=location_id))
    item = session.get(Item, item_id)
    loc = session.get(Location, location_id)
    raise OutOfStock(
        N_("Not enough {sku} at {location}: {available} available, {wanted} requested."),
        params={
            "sku": item.sku if item else item_id,
            "location": loc.name_en if loc else location_id,
            "available": total + (quantity - need),
            "wanted": quantity,
        },
        details={
            "item_id": item_id,
            "location_id": location_id,
            "available": total + (quantity - need),
            "requested": quantity,
        },
    )


def notify_stock_added(session: Session, item_id: int, location_id: int) -> None:
    for hook in stock_added_hooks:
        hook(session, item_id, location_id)


def check(session: Session) -> list[str]:
    """Recompute every level from the ledger; return the mismatches (empty when all agree)."""
    sums = {
        (i, lo, loc): (int(oh), int(rs))
        for i, lo, loc, oh, rs in session.exec(
            select(
                StockEntry.item_id,
                StockEntry.lot_id,
                StockEntry.location_id,
                func.sum(StockEntry.on_hand_delta),
                func.sum(StockEntry.reserved_delta),
            ).group_by(StockEntry.item_id, StockEntry.lot_id, StockEntry.location_id)
        ).all()
    }
    problems = []
    seen = set()
    # Plain columns, not ORM objects: the levels are changed by SQL statements, and objects in
    # the session's identity map could be stale.
    for item_id, lot_id, location_id, on_hand, reserved in session.exec(
        select(
            StockLevel.item_id,
            StockLevel.lot_id,
            StockLevel.location_id,
            StockLevel.on_hand,
            StockLevel.reserved,
        )
    ).all():
        key = (item_id, lot_id, location_id)
        seen.add(key)
        want = sums.get(key, (0, 0))
        if (on_hand, reserved) != want:
            problems.append(
                f"item {key[0]} lot {key[1]} location {key[2]}: level on_hand={on_hand} "
                f"reserved={reserved}, ledger on_hand={want[0]} reserved={want[1]}"
            )
        if on_hand < 0 or reserved < 0 or on_hand < reserved:
            problems.append(f"item {key[0]} lot {key[1]} location {key[2]}: negative level")
    for key, (oh, rs) in sums.items():
        if key not in seen and (oh, rs) != (0, 0):
            problems.append(
                f"item {key[0]} lot {key[1]} location {key[2]}: no level row, "
                f"ledger on_hand={oh} reserved={rs}"
            )
    return problems
