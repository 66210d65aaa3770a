"""Inventory: items and recipes, lots, locations, and movements applied all-or-nothing."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, func, select

from app.audit import trail as audit
from app.core.errors import N_, Conflict, Invalid, NotFound
from app.inventory import ledger
from app.inventory.ledger import Delta
from models.base import utcnow
from models.inventory import (
    Item,
    ItemCreate,
    ItemUpdate,
    Location,
    LocationCreate,
    LocationUpdate,
    Lot,
    MovementIn,
    MovementKind,
    MovementLineIn,
    RecipeLine,
    RecipeLineIn,
    StockLevel,
    StockMovement,
)

NO_LOT = "-"


# ---------------------------------------------------------------- master data


def create_item(*, session: Session, data: ItemCreate) -> Item:
    """Create an item; SKUs are unique."""
    if session.exec(select(Item).where(Item.sku == data.sku)).first():
        raise Conflict(N_("An item with SKU {sku} already exists."), params={"sku": data.sku})
    item = Item.model_validate(data)
    session.add(item)
    session.commit()
    session.refresh(item)
    return item


def update_item(*, session: Session, item_id: int, data: ItemUpdate) -> Item:
    item = get_item(session=session, item_id=item_id)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(item, key, value)
    session.add(item)
    session.commit()
    session.refresh(item)
    return item


def get_item(*, session: Session, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(N_("No item with id {id}."), params={"id": item_id})
    return item


def item_by_sku(*, session: Session, sku: str) -> Item:
    item = session.exec(select(Item).where(Item.sku == sku)).first()
    if item is None:
        raise NotFound(N_("No item with SKU {sku}."), params={"sku": sku})
    return item


def recipe(*, session: Session, kit_item_id: int) -> list[tuple[RecipeLine, Item]]:
    return list(
        session.exec(
            select(RecipeLine, Item)
            .join(Item, Item.id == RecipeLine.component_item_id)
            .where(RecipeLine.kit_item_id == kit_item_id)
            .order_by(RecipeLine.id)
        ).all()
    )


def set_recipe(*, session: Session, kit_item_id: int, lines: list[RecipeLineIn]) -> Item:
    """Replace a kit's recipe; the item becomes a kit."""
    kit = get_item(session=session, item_id=kit_item_id)
    seen = set()
    for line in lines:
        comp = get_item(session=session, item_id=line.component_item_id)
        if comp.id == kit.id:
            raise Invalid(N_("A kit cannot contain itself."))
        if comp.is_kit:
            raise Invalid(N_("{sku} is a kit; kits cannot contain kits."), params={"sku": comp.sku})
        if comp.id in seen:
            raise Invalid(N_("{sku} appears twice in the recipe."), params={"sku": comp.sku})
        seen.add(comp.id)
    if not lines:
        raise Invalid(N_("A recipe needs at least one component."))
    for old, _ in recipe(session=session, kit_item_id=kit.id):
        session.delete(old)
    session.flush()
    for line in lines:
        session.add(
            RecipeLine(
                kit_item_id=kit.id, component_item_id=line.component_item_id, quantity=line.quantity
            )
        )
    kit.is_kit = True
    session.add(kit)
    session.commit()
    session.refresh(kit)
    return kit


def create_location(*, session: Session, data: LocationCreate) -> Location:
    loc = Location.model_validate(data)
    session.add(loc)
    session.commit()
    session.refresh(loc)
    return loc


def update_location(*, session: Session, location_id: int, data: LocationUpdate) -> Location:
    loc = get_location(session=session, location_id=location_id)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(loc, key, value)
    session.add(loc)
    session.commit()
    session.refresh(loc)
    return loc


def get_location(*, session: Session, location_id: int) -> Location:
    loc = session.get(Location, location_id)
    if loc is None:
        raise NotFound(N_("No location with id {id}."), params={"id": location_id})
    return loc


def get_lot(*, session: Session, lot_id: int) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(N_("No lot with id {id}."), params={"id": lot_id})
    return lot


def _lot_for_receive(session: Session, item: Item, line: MovementLineIn, lineno: int) -> Lot:
    code = (line.lot_code or "").strip()
    if item.tracks_lot and not code:
        raise Invalid(
            N_("Line {line}: {sku} is tracked by lot; give a lot code."),
            params={"line": lineno, "sku": item.sku},
        )
    if item.tracks_expiry and line.expiry is None:
        raise Invalid(
            N_("Line {line}: {sku} has an expiry date; give it."),
            params={"line": lineno, "sku": item.sku},
        )
    if line.expiry is not None and line.expiry < date.today():
        raise Invalid(
            N_("Line {line}: the expiry date {expiry} is in the past."),
            params={"line": lineno, "expiry": line.expiry.isoformat()},
        )
    code = code or NO_LOT
    lot = session.exec(select(Lot).where(Lot.item_id == item.id, Lot.code == code)).first()
    if lot is None:
        lot = Lot(item_id=item.id, code=code, expiry=line.expiry, donor=line.donor or "")
        session.add(lot)
        session.flush()
    elif line.expiry is not None and lot.expiry is not None and lot.expiry != line.expiry:
        raise Invalid(
            N_("Line {line}: lot {lot} of {sku} already has expiry {expiry}."),
            params={"line": lineno, "lot": code, "sku": item.sku, "expiry": lot.expiry},
        )
    return lot


def default_lot(
    session: Session, item: Item, expiry: date | None = None, code: str = NO_LOT
) -> Lot:
    """The lot a receipt without lot code (or an assembly) goes into."""
    lot = session.exec(select(Lot).where(Lot.item_id == item.id, Lot.code == code)).first()
    if lot is None:
        lot = Lot(item_id=item.id, code=code, expiry=expiry)
        session.add(lot)
        session.flush()
    return lot


# ---------------------------------------------------------------- movements


def record_movement(*, session: Session, data: MovementIn, user_id: int | None) -> StockMovement:
    """Apply every line of a movement or none of them (one transaction)."""
    try:
        movement = ledger.new_movement(
            session,
            kind=data.kind.value,
            user_id=user_id,
            reason=data.reason.value if data.reason else None,
            note=data.note,
        )
        if data.kind == MovementKind.adjust and data.reason is None:
            raise Invalid(N_("An adjustment needs a reason code."))
        added: set[tuple[int, int]] = set()
        for n, line in enumerate(data.lines, start=1):
            _apply_line(session, movement, data.kind, line, n, added)
        for item_id, location_id in sorted(added):
            ledger.notify_stock_added(session, item_id, location_id)
        audit.record(
            session,
            user_id=user_id,
            action=f"stock.{data.kind.value}",
            object_type="stock_movement",
            object_id=movement.id,
            after=data.model_dump(mode="json", exclude_none=True),
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    session.refresh(movement)
    return movement


def _line_item(session: Session, line: MovementLineIn, n: int) -> Item:
    if line.item_id is not None:
        item = session.get(Item, line.item_id)
        if item is None:
            raise NotFound(
                N_("Line {line}: no item with id {id}."), params={"line": n, "id": line.item_id}
            )
        return item
    if line.sku:
        item = session.exec(select(Item).where(Item.sku == line.sku)).first()
        if item is None:
            raise NotFound(
                N_("Line {line}: no item with SKU {sku}."), params={"line": n, "sku": line.sku}
            )
        return item
    raise Invalid(N_("Line {line}: give item_id or sku."), params={"line": n})


def _line_location(session: Session, location_id: int | None, n: int, what: str) -> Location:
    if location_id is None:
        raise Invalid(N_("Line {line}: give {what}."), params={"line": n, "what": what})
    loc = session.get(Location, location_id)
    if loc is None:
        raise NotFound(
            N_("Line {line}: no location with id {id}."), params={"line": n, "id": location_id}
        )
    return loc


def _line_lot(session: Session, item: Item, lot_id: int, n: int) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(N_("Line {line}: no lot with id {id}."), params={"line": n, "id": lot_id})
    if lot.item_id != item.id:
        raise Invalid(
            N_("Line {line}: lot {lot} belongs to another item, not {sku}."),
            params={"line": n, "lot": lot.code, "sku": item.sku},
        )
    return lot


def _apply_line(
    session: Session,
    movement: StockMovement,
    kind: MovementKind,
    line: MovementLineIn,
    n: int,
    added: set[tuple[int, int]],
) -> None:
    item = _line_item(session, line, n)
    qty = line.quantity
    if kind == MovementKind.adjust:
        if qty == 0:
            raise Invalid(N_("Line {line}: an adjustment cannot be zero."), params={"line": n})
    elif qty <= 0:
        raise Invalid(
            N_("Line {line}: the quantity must be a positive whole number."), params={"line": n}
        )
    if kind == MovementKind.receive:
        loc = _line_location(session, line.location_id or line.to_location_id, n, "location_id")
        lot = _lot_for_receive(session, item, line, n)
        ledger.apply(session, movement, Delta(item.id, lot.id, loc.id, on_hand=qty))
        added.add((item.id, loc.id))
    elif kind == MovementKind.transfer:
        src = _line_location(session, line.from_location_id, n, "from_location_id")
        dst = _line_location(session, line.to_location_id, n, "to_location_id")
        if src.id == dst.id:
            raise Invalid(
                N_("Line {line}: a transfer needs two different locations."), params={"line": n}
            )
        if line.lot_id is not None:
            lot = _line_lot(session, item, line.lot_id, n)
            picks = [(lot.id, qty)]
            ledger.apply(session, movement, Delta(item.id, lot.id, src.id, on_hand=-qty))
        else:
            picks = ledger.take_fefo(
                session, movement, item_id=item.id, location_id=src.id, quantity=qty
            )
        for lot_id, q in picks:
            ledger.apply(session, movement, Delta(item.id, lot_id, dst.id, on_hand=q))
        added.add((item.id, dst.id))
    elif kind == MovementKind.assemble:
        loc = _line_location(session, line.location_id, n, "location_id")
        assemble(session, movement, kit=item, location=loc, quantity=qty, lineno=n)
        added.add((item.id, loc.id))
    elif kind == MovementKind.adjust:
        loc = _line_location(session, line.location_id, n, "location_id")
        if line.lot_id is not None:
            lot = _line_lot(session, item, line.lot_id, n)
        elif qty > 0 and not item.tracks_lot:
            lot = default_lot(session, item)
        elif qty < 0:
            ledger.take_fefo(session, movement, item_id=item.id, location_id=loc.id, quantity=-qty)
            return
        else:
            raise Invalid(
                N_("Line {line}: say which lot of {sku} was found (lot_id)."),
                params={"line": n, "sku": item.sku},
            )
        ledger.apply(session, movement, Delta(item.id, lot.id, loc.id, on_hand=qty))
        if qty > 0:
            added.add((item.id, loc.id))
    else:  # reserve, release, issue, return: one lot at one location
        loc = _line_location(session, line.location_id, n, "location_id")
        if line.lot_id is None:
            if kind == MovementKind.reserve:
                ledger.take_fefo(
                    session,
                    movement,
                    item_id=item.id,
                    location_id=loc.id,
                    quantity=qty,
                    reserve=True,
                )
                return
            raise Invalid(N_("Line {line}: give lot_id."), params={"line": n})
        lot = _line_lot(session, item, line.lot_id, n)
        delta = {
            MovementKind.reserve: Delta(item.id, lot.id, loc.id, reserved=qty),
            MovementKind.release: Delta(item.id, lot.id, loc.id, reserved=-qty),
            MovementKind.issue: Delta(item.id, lot.id, loc.id, on_hand=-qty),
            MovementKind.returned: Delta(item.id, lot.id, loc.id, on_hand=qty),
        }[kind]
        ledger.apply(session, movement, delta)


def assemble(
    session: Session,
    movement: StockMovement,
    *,
    kit: Item,
    location: Location,
    quantity: int,
    lineno: int = 1,
) -> Lot:
    """Consume components FEFO and produce kits whose expiry is the earliest component's."""
    lines = recipe(session=session, kit_item_id=kit.id)
    if not lines:
        raise Invalid(
            N_("Line {line}: {sku} has no recipe; it cannot be assembled."),
            params={"line": lineno, "sku": kit.sku},
        )
    expiries: list[date] = []
    for rl, comp in lines:
        picks = ledger.take_fefo(
            session,
            movement,
            item_id=comp.id,
            location_id=location.id,
            quantity=rl.quantity * quantity,
        )
        for lot_id, _ in picks:
            exp = session.get(Lot, lot_id).expiry
            if exp is not None:
                expiries.append(exp)
    expiry = min(expiries) if expiries else None
    code = f"A{utcnow():%Y%m%d}-{expiry:%Y%m%d}" if expiry else f"A{utcnow():%Y%m%d}"
    lot = default_lot(session, kit, expiry=expiry, code=code)
    ledger.apply(session, movement, Delta(kit.id, lot.id, location.id, on_hand=quantity))
    return lot


def assemblable(*, session: Session, kit_item_id: int, location_id: int) -> dict:
    """How many kits can be assembled at a location now, and which component limits it."""
    kit = get_item(session=session, item_id=kit_item_id)
    get_location(session=session, location_id=location_id)
    lines = recipe(session=session, kit_item_id=kit.id)
    if not lines:
        raise Invalid(N_("{sku} has no recipe."), params={"sku": kit.sku})
    components = []
    for rl, comp in lines:
        avail = session.exec(
            select(func.coalesce(func.sum(StockLevel.on_hand - StockLevel.reserved), 0)).where(
                StockLevel.item_id == comp.id, StockLevel.location_id == location_id
            )
        ).one()
        components.append(
            {
                "item_id": comp.id,
                "sku": comp.sku,
                "per_kit": rl.quantity,
                "available": int(avail),
                "kits": int(avail) // rl.quantity,
            }
        )
    return {
        "kit_item_id": kit.id,
        "location_id": location_id,
        "kits": min(c["kits"] for c in components),
        "components": components,
    }
