"""Diplomat pages for stock: overview with alerts, movement forms, stock cards, master data."""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from app.core.errors import DomainError
from app.inventory import catalog
from app.inventory import queries as stock_views
from app.inventory import service as inventory
from models.base import INT32_MAX, Id, Int32
from models.inventory import (
    AdjustReason,
    ItemCreate,
    LocationCreate,
    LocationKind,
    MovementIn,
    RecipeLineIn,
)
from routes.http.deps import PageDiplomat
from routes.http.session import SessionDep
from routes.http.web import gettext, render

router = APIRouter(prefix="/admin")
FORMS = ("receive", "transfer", "assemble", "adjust")


def _choices(session) -> dict:  # noqa: ANN001
    return {
        "items": catalog.items_kits_first(session=session),
        "locations": catalog.locations_by_kind(session=session, active_only=True),
        "lots": catalog.lots_by_item(session=session),
        "reasons": list(AdjustReason),
    }


@router.get("/stock")
def overview(
    request: Request, session: SessionDep, user: PageDiplomat, done: Int32 | None = None
) -> Response:
    s = request.app.state.settings
    totals = stock_views.totals_by_location(session=session)
    by_location: dict[int, dict] = {}
    for row in totals:
        entry = by_location.setdefault(
            row["location"].id, {"location": row["location"], "rows": []}
        )
        entry["rows"].append(row)
    kits = catalog.kits(session=session)
    assemblable = []
    for loc in catalog.warehouses(session=session):
        for kit in kits:
            try:
                a = inventory.assemblable(session=session, kit_item_id=kit.id, location_id=loc.id)
            except DomainError:
                continue
            assemblable.append({"location": loc, "kit": kit, "kits": a["kits"]})
    return render(
        request,
        "inventory/overview.html",
        {
            "locations": list(by_location.values()),
            "alerts": stock_views.alerts(session=session, days=s.expiry_alert_days),
            "assemblable": assemblable,
            "done": done,
        },
    )


@router.get("/stock/card")
def card(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    item_id: Id,
    lot_id: Id | None = None,
    location_id: Id | None = None,
) -> Response:
    item = inventory.get_item(session=session, item_id=item_id)
    lot = inventory.get_lot(session=session, lot_id=lot_id) if lot_id else None
    loc = inventory.get_location(session=session, location_id=location_id) if location_id else None
    rows = stock_views.stock_card(
        session=session, item_id=item_id, lot_id=lot_id, location_id=location_id
    )
    return render(
        request, "inventory/card.html", {"item": item, "lot": lot, "loc": loc, "rows": rows}
    )


@router.get("/stock/{kind}")
def movement_form(kind: str, request: Request, session: SessionDep, user: PageDiplomat) -> Response:
    if kind not in FORMS:
        raise HTTPException(status_code=404)
    return render(
        request,
        "inventory/move.html",
        {"kind": kind, "form": {}, "error": None, **_choices(session)},
    )


@router.post("/stock/{kind}")
def movement_submit(
    kind: str,
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    item_id: Annotated[str, Form()] = "",
    quantity: Annotated[str, Form(max_length=12)] = "",
    location_id: Annotated[str, Form()] = "",
    from_location_id: Annotated[str, Form()] = "",
    to_location_id: Annotated[str, Form()] = "",
    lot_id: Annotated[str, Form()] = "",
    lot_code: Annotated[str, Form(max_length=60)] = "",
    expiry: Annotated[str, Form(max_length=10)] = "",
    donor: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=30)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if kind not in FORMS:
        raise HTTPException(status_code=404)
    form = {
        "item_id": item_id,
        "quantity": quantity,
        "location_id": location_id,
        "from_location_id": from_location_id,
        "to_location_id": to_location_id,
        "lot_id": lot_id,
        "lot_code": lot_code,
        "expiry": expiry,
        "donor": donor,
        "reason": reason,
        "note": note,
    }
    line = {k: v.strip() for k, v in form.items() if v.strip() and k not in ("reason", "note")}
    _ = gettext(request)
    try:
        data = MovementIn.model_validate(
            {"kind": kind, "reason": reason or None, "note": note, "lines": [line]}
        )
        movement = inventory.record_movement(session=session, data=data, user_id=user.id)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][-1]) if err.get("loc") else ""
        message = _("Check the field “{field}”: {problem}").format(
            field=_(FIELD_LABELS.get(field, field)), problem=err["msg"]
        )
        return _form_again(request, session, kind, form, message)
    except DomainError as exc:
        return _form_again(request, session, kind, form, exc.localized(_), exc.status_code)
    return RedirectResponse(f"/admin/stock?done={movement.id}", status_code=303)


FIELD_LABELS = {
    "item_id": "Item",
    "quantity": "Quantity",
    "location_id": "Location",
    "from_location_id": "From",
    "to_location_id": "To",
    "lot_id": "Lot",
    "lot_code": "Lot code",
    "expiry": "Expiry date",
    "reason": "Reason",
}


def _form_again(request, session, kind, form, message, status=422):  # noqa: ANN001, ANN202
    return render(
        request,
        "inventory/move.html",
        {"kind": kind, "form": form, "error": message, **_choices(session)},
        status_code=status,
    )


@router.get("/items")
def items_page(request: Request, session: SessionDep, user: PageDiplomat) -> Response:
    items = catalog.items_kits_first(session=session)
    recipes = {i.id: inventory.recipe(session=session, kit_item_id=i.id) for i in items if i.is_kit}
    return render(
        request, "inventory/items.html", {"items": items, "recipes": recipes, "error": None}
    )


@router.post("/items")
def items_create(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    sku: Annotated[str, Form(max_length=40)] = "",
    name_zh: Annotated[str, Form(max_length=200)] = "",
    name_en: Annotated[str, Form(max_length=200)] = "",
    unit: Annotated[str, Form(max_length=20)] = "piece",
    tracks_lot: Annotated[bool, Form()] = False,
    tracks_expiry: Annotated[bool, Form()] = False,
    low_stock_threshold: Annotated[int, Form(ge=0, le=INT32_MAX)] = 0,
    recipe: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _ = gettext(request)
    try:
        data = ItemCreate(
            sku=sku.strip(),
            name_zh=name_zh.strip(),
            name_en=name_en.strip(),
            unit=unit.strip() or "piece",
            tracks_lot=tracks_lot,
            tracks_expiry=tracks_expiry,
            low_stock_threshold=low_stock_threshold,
        )
        lines = _parse_recipe(session, recipe)
        item = inventory.create_item(session=session, data=data)
        if lines:
            inventory.set_recipe(session=session, kit_item_id=item.id, lines=lines)
    except ValidationError as exc:
        err = exc.errors()[0]
        return _items_again(request, session, f"{err['loc'][-1]}: {err['msg']}")
    except DomainError as exc:
        return _items_again(request, session, exc.localized(_), exc.status_code)
    return RedirectResponse("/admin/items", status_code=303)


def _parse_recipe(session, text: str) -> list[RecipeLineIn]:  # noqa: ANN001
    """'KN95=20, GEL500=1' → recipe lines."""
    from app.core.errors import N_, Invalid

    lines = []
    for part in filter(None, (p.strip() for p in text.replace("\n", ",").split(","))):
        sku, sep, qty = part.partition("=")
        if not sep or not qty.strip().isdigit() or int(qty) <= 0:
            raise Invalid(
                N_("Write the recipe as SKU=quantity, separated by commas: {part}"),
                params={"part": part},
            )
        comp = inventory.item_by_sku(session=session, sku=sku.strip())
        lines.append(RecipeLineIn(component_item_id=comp.id, quantity=int(qty)))
    return lines


def _items_again(request, session, message, status=422):  # noqa: ANN001, ANN202
    items = catalog.items_kits_first(session=session)
    recipes = {i.id: inventory.recipe(session=session, kit_item_id=i.id) for i in items if i.is_kit}
    return render(
        request,
        "inventory/items.html",
        {"items": items, "recipes": recipes, "error": message},
        status_code=status,
    )


@router.get("/locations")
def locations_page(request: Request, session: SessionDep, user: PageDiplomat) -> Response:
    rows = catalog.locations_by_kind(session=session)
    return render(
        request,
        "inventory/locations.html",
        {"rows": rows, "error": None, "kinds": list(LocationKind)},
    )


@router.post("/locations")
def locations_create(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    kind: Annotated[str, Form()] = "warehouse",
    name_zh: Annotated[str, Form(max_length=200)] = "",
    name_en: Annotated[str, Form(max_length=200)] = "",
    address: Annotated[str, Form(max_length=500)] = "",
    lat: Annotated[str, Form(max_length=20)] = "",
    lon: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        data = LocationCreate(
            kind=kind,
            name_zh=name_zh.strip(),
            name_en=name_en.strip(),
            address=address.strip(),
            lat=lat or None,
            lon=lon or None,
        )
        inventory.create_location(session=session, data=data)
    except ValidationError as exc:
        err = exc.errors()[0]
        rows = catalog.locations_by_kind(session=session)
        return render(
            request,
            "inventory/locations.html",
            {"rows": rows, "error": f"{err['loc'][-1]}: {err['msg']}", "kinds": list(LocationKind)},
            status_code=422,
        )
    return RedirectResponse("/admin/locations", status_code=303)
