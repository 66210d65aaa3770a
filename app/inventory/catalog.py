"""Read side of the master data: items, locations and lots, listed for the API and the forms."""

from __future__ import annotations

from sqlmodel import Session, select

from models.inventory import Item, Location, LocationKind, Lot


def items(*, session: Session, is_kit: bool | None = None) -> list[Item]:
    """Items by SKU, optionally only kits (True) or only components (False)."""
    q = select(Item)
    if is_kit is not None:
        q = q.where(Item.is_kit == is_kit)
    return list(session.exec(q.order_by(Item.sku)).all())


def items_kits_first(*, session: Session) -> list[Item]:
    """Every item, kits first, then by SKU."""
    return list(session.exec(select(Item).order_by(Item.is_kit.desc(), Item.sku)).all())


def kits(*, session: Session) -> list[Item]:
    """The items that are kits, in the database's order."""
    return list(session.exec(select(Item).where(Item.is_kit)).all())


def locations(*, session: Session, kind: LocationKind | None = None) -> list[Location]:
    """Locations by id, optionally of one kind (inactive ones included)."""
    q = select(Location)
    if kind is not None:
        q = q.where(Location.kind == kind)
    return list(session.exec(q.order_by(Location.id)).all())


def locations_by_kind(*, session: Session, active_only: bool = False) -> list[Location]:
    """Locations grouped by kind, then by id; optionally only the active ones."""
    q = select(Location)
    if active_only:
        q = q.where(Location.active)
    return list(session.exec(q.order_by(Location.kind, Location.id)).all())


def warehouses(*, session: Session) -> list[Location]:
    """The warehouses (inactive ones included), in the database's order."""
    return list(session.exec(select(Location).where(Location.kind == LocationKind.warehouse)).all())


def mapped_locations(*, session: Session) -> list[Location]:
    """Active locations with coordinates (those a route can start from), by id."""
    return list(
        session.exec(
            select(Location).where(Location.active, Location.lat.is_not(None)).order_by(Location.id)
        ).all()
    )


def lots(*, session: Session, item_id: int | None = None) -> list[Lot]:
    """Lots by expiry (those without one last), then by id; optionally of one item."""
    q = select(Lot)
    if item_id is not None:
        q = q.where(Lot.item_id == item_id)
    return list(session.exec(q.order_by(Lot.expiry.is_(None), Lot.expiry, Lot.id)).all())


def lots_by_item(*, session: Session) -> list[Lot]:
    """Every lot, by item, then expiry, then id (the movement forms' order)."""
    return list(session.exec(select(Lot).order_by(Lot.item_id, Lot.expiry, Lot.id)).all())
