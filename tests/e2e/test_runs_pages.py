"""Chromium: a diplomat plans and dispatches a run; the driver's phone view closes a stop."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from app.core.db import make_engine
from models.claims import Claim
from models.runs import RunStop
from tests import factories as f
from tests.conftest import DESKTOP, PHONE, new_page
from tests.runs import factories as rf

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("KITRUN_SHOTS")  # a folder: save screenshots there to look at them


def _shot(page, name: str) -> None:  # noqa: ANN001
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _login(page, lang_link: str | None = "English", username: str = "dip") -> None:  # noqa: ANN001
    page.goto("/login")
    if lang_link:
        page.get_by_role("link", name=lang_link).click()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f.PASSWORD)
    page.locator("form button[type=submit]").first.click()


def test_plan_dispatch_and_driver_closes_a_stop(live_server, browser_instance, settings) -> None:  # noqa: ANN001
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        rf.scattered(s, setup, 12, radius_km=25)
        f.user(s, "dip")
        f.user(s, "li", "driver")
    engine.dispose()

    page = new_page(browser_instance, live_server.url, **DESKTOP)
    _login(page)
    page.goto("/admin/runs")
    page.fill("input[name=name]", "Thursday west")
    page.get_by_role("button", name="Create run").click()
    expect(page.get_by_role("heading", name="Thursday west")).to_be_visible()
    for name, cap, account in (("Car 1", "7", "li (li)"), ("Car 2", "7", None)):
        page.fill(".run-vehicle-form input[name=name]", name)
        page.fill(".run-vehicle-form input[name=capacity]", cap)
        if account:  # the driver account that alone (with diplomats) will see the car's stops
            page.select_option(".run-vehicle-form select[name=driver_user_id]", label=account)
        page.get_by_role("button", name="Add vehicle").click()
    page.get_by_role("button", name="Add all matching").click()
    page.get_by_role("button", name="Optimise").click()
    expect(page.locator("#map svg polyline")).to_have_count(2)
    expect(page.locator("#map .stop-mark")).to_have_count(12)
    _shot(page, "run-desktop-en")
    # Move the last stop of car 2 to the front of car 1 (locked).
    panel = page.locator("table.run-stops").nth(1).locator("details.adjust-box").last
    panel.locator("summary").click()  # the stop's controls sit in a panel (issue 17)
    form = panel.locator(".move-form")
    form.locator("select[name=vehicle_id]").select_option(label="Car 1")
    form.locator("input[name=position]").fill("1")
    form.get_by_role("button", name="Move").click()
    expect(page.locator("table.run-stops").first.locator("tbody tr").first).to_contain_text("🔒")
    page.get_by_role("button", name="Re-optimise (locked stops stay)").click()
    page.get_by_role("button", name="Dispatch").click()
    expect(page.locator("h1 .badge")).to_have_text("dispatched")
    driver_url = page.get_by_role("link", name="Driver's view").first.get_attribute("href")

    phone = new_page(browser_instance, live_server.url, **PHONE)
    _login(phone, username="li")  # the driver lands on their vehicles and opens Car 1
    expect(phone.get_by_role("heading", name="My runs")).to_be_visible()
    phone.get_by_role("link", name="Car 1 · Thursday west").click()
    expect(phone).to_have_url(live_server.url + driver_url)
    expect(phone.get_by_role("heading", name="Next stop #1", exact=False)).to_be_visible()
    stop_id = int(phone.locator("input[name=stop_id]").get_attribute("value"))
    engine = make_engine(settings)
    with Session(engine) as s:
        code = s.get(Claim, s.get(RunStop, stop_id).claim_id).short_code
    _shot(phone, "driver-phone-en")
    phone.fill("input[name=code]", code)
    phone.get_by_role("button", name="Delivered").click()
    expect(phone.locator(".alert.ok")).to_be_visible()
    expect(phone.get_by_role("heading", name="Next stop #2", exact=False)).to_be_visible()
    with Session(engine) as s:
        assert s.get(RunStop, stop_id).status == "delivered"
        assert s.get(Claim, s.get(RunStop, stop_id).claim_id).status == "handed_over"
    engine.dispose()
    page.goto(page.url)
    _shot(page, "run-progress-en")
    if SHOTS:  # Chinese views for looking at
        zh = new_page(browser_instance, live_server.url, **PHONE)
        _login(zh, None)
        zh.goto(driver_url)
        _shot(zh, "driver-phone-zh")
        zh.goto(page.url.replace(live_server.url, ""))
        _shot(zh, "run-phone-zh")
