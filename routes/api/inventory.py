"""Stock API for diplomats: items, locations, lots, movements, levels, alerts, exports."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.inventory import catalog
from app.inventory import queries as stock_views
from app.inventory import service as inventory
from models.base import INT32_MAX, Id, Page
from models.inventory import (
    Item,
    ItemCreate,
    ItemPublic,
    ItemUpdate,
    LevelPublic,
    Location,
    LocationCreate,
    LocationKind,
    LocationPublic,
    LocationUpdate,
    LotPublic,
    MovementIn,
    MovementKind,
    MovementPublic,
    RecipeLineIn,
    RecipeLinePublic,
)
from routes.http.deps import ApiDiplomat
from routes.http.openapi import errors
from routes.http.session import SessionDep

router = APIRouter(tags=["stock"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=INT32_MAX)]


def _item_public(session, item: Item) -> ItemPublic:  # noqa: ANN001
    lines = inventory.recipe(session=session, kit_item_id=item.id)
    return ItemPublic(
        **item.model_dump(),
        recipe=[
            RecipeLinePublic(
                component_item_id=c.id,
                quantity=rl.quantity,
                sku=c.sku,
                name_zh=c.name_zh,
                name_en=c.name_en,
            )
            for rl, c in lines
        ],
    )


@router.get("/items", response_model=Page[ItemPublic])
def list_items(
    session: SessionDep,
    user: ApiDiplomat,
    limit: Limit = 100,
    offset: Offset = 0,
    is_kit: bool | None = None,
) -> Page[ItemPublic]:
    items = catalog.items(session=session, is_kit=is_kit)
    page = items[offset : offset + limit]
    return Page(
        items=[_item_public(session, i) for i in page], total=len(items), limit=limit, offset=offset
    )


@router.post("/items", response_model=ItemPublic, status_code=201, responses=errors(409))
def create_item(body: ItemCreate, session: SessionDep, user: ApiDiplomat) -> ItemPublic:
    return _item_public(session, inventory.create_item(session=session, data=body))


@router.get("/items/{item_id}", response_model=ItemPublic)
def get_item(item_id: Id, session: SessionDep, user: ApiDiplomat) -> ItemPublic:
    return _item_public(session, inventory.get_item(session=session, item_id=item_id))


@router.patch("/items/{item_id}", response_model=ItemPublic)
def update_item(
    item_id: Id, body: ItemUpdate, session: SessionDep, user: ApiDiplomat
) -> ItemPublic:
    return _item_public(session, inventory.update_item(session=session, item_id=item_id, data=body))


@router.put("/items/{item_id}/recipe", response_model=ItemPublic)
def set_recipe(
    item_id: Id, body: list[RecipeLineIn], session: SessionDep, user: ApiDiplomat
) -> ItemPublic:
    """Replace the kit recipe of an item (its components and quantities per kit)."""
    kit = inventory.set_recipe(session=session, kit_item_id=item_id, lines=body)
    return _item_public(session, kit)


@router.get("/locations", response_model=Page[LocationPublic])
def list_locations(
    session: SessionDep,
    user: ApiDiplomat,
    kind: LocationKind | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[LocationPublic]:
    rows = catalog.locations(session=session, kind=kind)
    return Page(items=rows[offset : offset + limit], total=len(rows), limit=limit, offset=offset)


@router.post("/locations", response_model=LocationPublic, status_code=201)
def create_location(body: LocationCreate, session: SessionDep, user: ApiDiplomat) -> Location:
    return inventory.create_location(session=session, data=body)


@router.get("/locations/{location_id}", response_model=LocationPublic)
def get_location(location_id: Id, session: SessionDep, user: ApiDiplomat) -> Location:
    return inventory.get_location(session=session, location_id=location_id)


@router.patch("/locations/{location_id}", response_model=LocationPublic)
def update_location(
    location_id: Id, body: LocationUpdate, session: SessionDep, user: ApiDiplomat
) -> Location:
    return inventory.update_location(session=session, location_id=location_id, data=body)


@router.get("/lots", response_model=Page[LotPublic])
def list_lots(
    session: SessionDep,
    user: ApiDiplomat,
    item_id: Id | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[LotPublic]:
    rows = catalog.lots(session=session, item_id=item_id)
    return Page(items=rows[offset : offset + limit], total=len(rows), limit=limit, offset=offset)


@router.post(
    "/stock/movements", response_model=MovementPublic, status_code=201, responses=errors(404, 409)
)
def create_movement(body: MovementIn, session: SessionDep, user: ApiDiplomat) -> dict:
    """Apply a movement of one or more lines, all or nothing (409 when stock is short)."""
    movement = inventory.record_movement(session=session, data=body, user_id=user.id)
    return stock_views.describe(session=session, movement_ids=[movement.id])[0]


@router.get("/stock/movements", response_model=Page[MovementPublic])
def list_movements(
    session: SessionDep,
    user: ApiDiplomat,
    item_id: Id | None = None,
    location_id: Id | None = None,
    lot_id: Id | None = None,
    kind: MovementKind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[MovementPublic]:
    """The ledger, newest first."""
    rows, total = stock_views.movements(
        session=session,
        item_id=item_id,
        location_id=location_id,
        lot_id=lot_id,
        kind=kind.value if kind else None,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.get("/stock/levels", response_model=Page[LevelPublic])
def list_levels(
    session: SessionDep,
    user: ApiDiplomat,
    item_id: Id | None = None,
    location_id: Id | None = None,
    lot_id: Id | None = None,
    include_empty: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[LevelPublic]:
    """On hand, reserved and available per item, lot and location."""
    rows, total = stock_views.levels(
        session=session,
        item_id=item_id,
        location_id=location_id,
        lot_id=lot_id,
        include_empty=include_empty,
        limit=limit,
        offset=offset,
    )
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.get("/stock/alerts")
def stock_alerts(
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
    days: Annotated[int | None, Query(ge=0, le=3650)] = None,
    location_id: Id | None = None,
) -> dict:
    """Lots expiring within `days` (default: the setting, 30) and items below their threshold."""
    if days is None:
        days = request.app.state.settings.expiry_alert_days
    return stock_views.alerts(session=session, days=days, location_id=location_id)


@router.get("/stock/assemblable", responses=errors(404))
def assemblable(kit_item_id: Id, location_id: Id, session: SessionDep, user: ApiDiplomat) -> dict:
    """How many kits can be assembled at a location now."""
    return inventory.assemblable(session=session, kit_item_id=kit_item_id, location_id=location_id)


@router.get("/stock/levels.csv", response_class=Response)
def levels_csv(session: SessionDep, user: ApiDiplomat) -> Response:
    return _csv_response(stock_views.levels_csv(session=session), "stock-levels.csv")


@router.get("/stock/movements.csv", response_class=Response)
def ledger_csv(session: SessionDep, user: ApiDiplomat) -> Response:
    return _csv_response(stock_views.ledger_csv(session=session), "stock-ledger.csv")


def _csv_response(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
