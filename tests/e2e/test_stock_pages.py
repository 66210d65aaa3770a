"""A diplomat receives a donated lot and assembles kits through the stock pages."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, func, select

from app.core.db import make_engine
from models.inventory import Item, StockLevel
from tests.conftest import DESKTOP, new_page
from tests.factories import PASSWORD, item, kit, location, move, user

pytestmark = pytest.mark.browser


def test_receive_then_assemble_through_the_pages(live_server, browser_instance):
    engine = make_engine(live_server.settings)
    with Session(engine, expire_on_commit=False) as s:
        user(s, "dip")
        wh = location(s, "Warehouse")
        mask = item(s, "KN95", tracks_expiry=True)
        for sku in ("GEL", "WIPES"):
            item(s, sku, tracks_lot=False)
        k = kit(s, {"KN95": 20, "GEL": 1, "WIPES": 10})
        move(
            s,
            "receive",
            {
                "item_id": s.exec(select(Item.id).where(Item.sku == "GEL")).one(),
                "location_id": wh.id,
                "quantity": 10,
            },
            {
                "item_id": s.exec(select(Item.id).where(Item.sku == "WIPES")).one(),
                "location_id": wh.id,
                "quantity": 100,
            },
        )
    page = new_page(browser_instance, live_server.url, **DESKTOP)
    page.goto("/login?lang=en")
    page.fill("input[name=username]", "dip")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/stock/receive")
    page.select_option("select[name=item_id]", str(mask.id))
    page.select_option("select[name=location_id]", str(wh.id))
    page.fill("input[name=quantity]", "200")
    page.fill("input[name=lot_code]", "KN-DONATION-7")
    page.fill("input[name=expiry]", (date.today() + timedelta(days=300)).isoformat())
    page.fill("input[name=donor]", "华侨华人联合会")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_contain_text("recorded")
    page.goto("/admin/stock/assemble")
    page.select_option("select[name=item_id]", str(k.id))
    page.select_option("select[name=location_id]", str(wh.id))
    page.fill("input[name=quantity]", "8")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_contain_text("recorded")
    # too many: the form says how many are available, nothing is applied
    page.goto("/admin/stock/assemble")
    page.select_option("select[name=item_id]", str(k.id))
    page.select_option("select[name=location_id]", str(wh.id))
    page.fill("input[name=quantity]", "50")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("alert")).to_contain_text("available")
    page.context.close()
    with Session(engine) as s:
        kits = s.exec(select(func.sum(StockLevel.on_hand)).where(StockLevel.item_id == k.id)).one()
        masks = s.exec(
            select(func.sum(StockLevel.on_hand)).where(StockLevel.item_id == mask.id)
        ).one()
    engine.dispose()
    assert (kits, masks) == (8, 40)
    assert live_server.cli("stock", "check").returncode == 0
