from datetime import date, timedelta

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import func, select, text

from app.core.errors import Invalid, NotFound
from app.inventory import ledger
from app.inventory import queries as stock_views
from app.inventory import service as inventory
from app.inventory.ledger import OutOfStock
from models.inventory import Lot, StockEntry, StockLevel, StockMovement
from tests.factories import item, kit, location, move

FUTURE = date.today() + timedelta(days=365)


def _level(session, item_id, location_id):
    return session.exec(
        select(func.coalesce(func.sum(StockLevel.on_hand), 0)).where(
            StockLevel.item_id == item_id, StockLevel.location_id == location_id
        )
    ).one()


@pytest.fixture
def stock(session):
    wh = location(session, "Warehouse")
    point = location(session, "Campus", "pickup_point")
    mask = item(session, "KN95", tracks_expiry=True, low_stock_threshold=100)
    gel = item(session, "GEL500", tracks_expiry=True)
    wipes = item(session, "WIPES", tracks_lot=False)
    guide = item(session, "GUIDE", tracks_lot=False)
    k = kit(session, {"KN95": 20, "GEL500": 1, "WIPES": 10, "GUIDE": 1})
    return {
        "wh": wh,
        "point": point,
        "mask": mask,
        "gel": gel,
        "wipes": wipes,
        "guide": guide,
        "kit": k,
    }


def test_receive_transfer_and_levels(session, stock):
    wh, point, mask = stock["wh"], stock["point"], stock["mask"]
    move(
        session,
        "receive",
        {
            "item_id": mask.id,
            "location_id": wh.id,
            "quantity": 500,
            "lot_code": "M-1",
            "expiry": FUTURE,
            "donor": "Chamber of Commerce",
        },
    )
    move(
        session,
        "transfer",
        {
            "item_id": mask.id,
            "from_location_id": wh.id,
            "to_location_id": point.id,
            "quantity": 120,
        },
    )
    assert _level(session, mask.id, wh.id) == 380
    assert _level(session, mask.id, point.id) == 120
    lot = session.exec(select(Lot).where(Lot.code == "M-1")).one()
    assert lot.donor == "Chamber of Commerce" and lot.expiry == FUTURE
    assert ledger.check(session) == []


def test_several_lines_apply_all_or_nothing(session, stock):
    wh, mask, gel = stock["wh"], stock["mask"], stock["gel"]
    move(
        session,
        "receive",
        {
            "item_id": mask.id,
            "location_id": wh.id,
            "quantity": 10,
            "lot_code": "M",
            "expiry": FUTURE,
        },
    )
    before = session.exec(select(func.count()).select_from(StockEntry)).one()
    with pytest.raises(OutOfStock) as err:
        move(
            session,
            "transfer",
            {
                "item_id": mask.id,
                "from_location_id": wh.id,
                "to_location_id": stock["point"].id,
                "quantity": 5,
            },
            {
                "item_id": gel.id,
                "from_location_id": wh.id,
                "to_location_id": stock["point"].id,
                "quantity": 1,
            },
        )
    assert err.value.status_code == 409 and "0 available" in err.value.message
    assert session.exec(select(func.count()).select_from(StockEntry)).one() == before
    assert _level(session, mask.id, wh.id) == 10


@pytest.mark.parametrize(
    "line, exc",
    [
        ({"quantity": 0}, Invalid),
        ({"quantity": -3}, Invalid),
        ({"expiry": date.today() - timedelta(days=1)}, Invalid),
        ({"lot_code": None}, Invalid),
        ({"location_id": 99999}, NotFound),
        ({"item_id": 99999}, NotFound),
    ],
)
def test_bad_receive_lines(session, stock, line, exc):
    base = {
        "item_id": stock["mask"].id,
        "location_id": stock["wh"].id,
        "quantity": 5,
        "lot_code": "L",
        "expiry": FUTURE,
    }
    with pytest.raises(exc):
        move(session, "receive", {**base, **line})
    assert session.exec(select(func.count()).select_from(StockMovement)).one() == 0


def test_transfer_to_same_place_and_lot_of_other_item(session, stock):
    wh, mask, gel = stock["wh"], stock["mask"], stock["gel"]
    move(
        session,
        "receive",
        {"item_id": gel.id, "location_id": wh.id, "quantity": 5, "lot_code": "G", "expiry": FUTURE},
    )
    gel_lot = session.exec(select(Lot).where(Lot.code == "G")).one()
    with pytest.raises(Invalid, match="two different"):
        move(
            session,
            "transfer",
            {"item_id": gel.id, "from_location_id": wh.id, "to_location_id": wh.id, "quantity": 1},
        )
    with pytest.raises(Invalid, match="another item"):
        move(
            session,
            "transfer",
            {
                "item_id": mask.id,
                "lot_id": gel_lot.id,
                "from_location_id": wh.id,
                "to_location_id": stock["point"].id,
                "quantity": 1,
            },
        )


def test_assemble_picks_fefo_and_kit_expiry_is_earliest(session, stock):
    wh = stock["wh"]
    soon, later = date.today() + timedelta(days=40), date.today() + timedelta(days=400)
    move(
        session,
        "receive",
        {
            "item_id": stock["mask"].id,
            "location_id": wh.id,
            "quantity": 30,
            "lot_code": "LATE",
            "expiry": later,
        },
        {
            "item_id": stock["mask"].id,
            "location_id": wh.id,
            "quantity": 30,
            "lot_code": "SOON",
            "expiry": soon,
        },
        {
            "item_id": stock["gel"].id,
            "location_id": wh.id,
            "quantity": 5,
            "lot_code": "G",
            "expiry": later,
        },
        {"item_id": stock["wipes"].id, "location_id": wh.id, "quantity": 100},
        {"item_id": stock["guide"].id, "location_id": wh.id, "quantity": 10},
    )
    can = inventory.assemblable(session=session, kit_item_id=stock["kit"].id, location_id=wh.id)
    assert can["kits"] == 3  # 60 masks / 20
    move(session, "assemble", {"item_id": stock["kit"].id, "location_id": wh.id, "quantity": 2})
    levels, _ = stock_views.levels(session=session, item_id=stock["mask"].id, location_id=wh.id)
    by_lot = {lv.lot_code: lv.on_hand for lv in levels}
    assert by_lot == {"LATE": 20}  # SOON (30) and 10 of LATE used
    kit_levels, _ = stock_views.levels(session=session, item_id=stock["kit"].id)
    assert kit_levels[0].on_hand == 2 and kit_levels[0].expiry == soon
    with pytest.raises(OutOfStock):
        move(session, "assemble", {"item_id": stock["kit"].id, "location_id": wh.id, "quantity": 2})
    assert ledger.check(session) == []


def test_adjust_needs_reason_and_refuses_below_zero(session, stock):
    wh, wipes = stock["wh"], stock["wipes"]
    move(session, "receive", {"item_id": wipes.id, "location_id": wh.id, "quantity": 10})
    with pytest.raises(Invalid, match="reason"):
        move(session, "adjust", {"item_id": wipes.id, "location_id": wh.id, "quantity": -1})
    move(
        session,
        "adjust",
        {"item_id": wipes.id, "location_id": wh.id, "quantity": -4},
        reason="damaged",
    )
    move(
        session,
        "adjust",
        {"item_id": wipes.id, "location_id": wh.id, "quantity": 1},
        reason="found",
    )
    with pytest.raises(OutOfStock):
        move(
            session,
            "adjust",
            {"item_id": wipes.id, "location_id": wh.id, "quantity": -8},
            reason="lost",
        )
    assert _level(session, wipes.id, wh.id) == 7
    card = stock_views.stock_card(session=session, item_id=wipes.id)
    assert [r["balance"] for r in card] == [10, 6, 7]


def test_reserve_release_issue(session, stock):
    wh, wipes = stock["wh"], stock["wipes"]
    move(session, "receive", {"item_id": wipes.id, "location_id": wh.id, "quantity": 2})
    lot = session.exec(select(Lot).where(Lot.item_id == wipes.id)).one()
    move(session, "reserve", {"item_id": wipes.id, "location_id": wh.id, "quantity": 2})
    with pytest.raises(OutOfStock):  # reserved stock is not available to take
        move(
            session,
            "transfer",
            {
                "item_id": wipes.id,
                "from_location_id": wh.id,
                "to_location_id": stock["point"].id,
                "quantity": 1,
            },
        )
    move(
        session,
        "release",
        {"item_id": wipes.id, "lot_id": lot.id, "location_id": wh.id, "quantity": 1},
    )
    move(
        session,
        "issue",
        {"item_id": wipes.id, "lot_id": lot.id, "location_id": wh.id, "quantity": 1},
    )
    lvl = session.exec(select(StockLevel).where(StockLevel.item_id == wipes.id)).one()
    assert (lvl.on_hand, lvl.reserved) == (1, 1)
    assert ledger.check(session) == []


def test_levels_cannot_go_negative_in_the_database(session, stock):
    wh, wipes = stock["wh"], stock["wipes"]
    move(session, "receive", {"item_id": wipes.id, "location_id": wh.id, "quantity": 1})
    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE stock_level SET on_hand = -1"))
        session.commit()
    session.rollback()
    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE stock_level SET reserved = on_hand + 1"))
        session.commit()
    session.rollback()


def test_ledger_is_append_only_in_the_database(session, stock):
    move(
        session,
        "receive",
        {"item_id": stock["wipes"].id, "location_id": stock["wh"].id, "quantity": 1},
    )
    for sql in (
        "UPDATE stock_entry SET on_hand_delta = 5",
        "DELETE FROM stock_entry",
        "DELETE FROM stock_movement",
        "UPDATE stock_movement SET note = 'x'",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(sql))
        session.rollback()


def test_check_names_mismatches(session, stock):
    move(
        session,
        "receive",
        {"item_id": stock["wipes"].id, "location_id": stock["wh"].id, "quantity": 3},
    )
    session.execute(text("UPDATE stock_level SET on_hand = 2"))
    session.commit()
    problems = ledger.check(session)
    assert len(problems) == 1 and "on_hand=2" in problems[0] and "on_hand=3" in problems[0]


def test_alerts_expiry_and_low_stock(session, stock):
    wh = stock["wh"]
    move(
        session,
        "receive",
        {
            "item_id": stock["mask"].id,
            "location_id": wh.id,
            "quantity": 50,
            "lot_code": "OLD",
            "expiry": date.today() + timedelta(days=10),
        },
        {
            "item_id": stock["gel"].id,
            "location_id": wh.id,
            "quantity": 50,
            "lot_code": "NEW",
            "expiry": date.today() + timedelta(days=100),
        },
    )
    a = stock_views.alerts(session=session, days=30)
    assert [e["lot_code"] for e in a["expiring"]] == ["OLD"] and a["expiring"][0]["days_left"] == 10
    assert [(x["sku"], x["available"]) for x in a["low_stock"]] == [("KN95", 50)]
    assert len(stock_views.alerts(session=session, days=200)["expiring"]) == 2


def test_csv_exports_have_bom_and_rows(session, stock):
    move(
        session,
        "receive",
        {"item_id": stock["wipes"].id, "location_id": stock["wh"].id, "quantity": 3},
    )
    body = stock_views.ledger_csv(session=session)
    assert body.startswith("\ufeff".encode())
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("movement,at_utc,kind") and len(lines) == 2
    levels = stock_views.levels_csv(session=session).decode("utf-8-sig").splitlines()
    assert "WIPES" in levels[1] and levels[1].endswith(",3,0,3")
