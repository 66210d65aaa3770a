"""Chromium: the run page's street map over a local tile server, its drawn fallback, placing a
pin; the stops table inside its card at 1280 px; the staff menu at 390 px (issue 17)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from app.core.db import make_engine
from models.claims import Claim
from models.runs import RunStop
from tests import factories as f
from tests.conftest import DESKTOP, PHONE, LiveServer, new_page
from tests.e2e.tiles import TileServer
from tests.runs import factories as rf

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("KITRUN_SHOTS")


@pytest.fixture
def tile_server() -> Iterator[TileServer]:
    tiles = TileServer()
    yield tiles
    tiles.close()


def _seed(settings) -> tuple[int, int]:  # noqa: ANN001
    """A planned run: two cars for 6 of 8 stops, one claim without coordinates (needs a pin)."""
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        rf.scattered(s, setup, 8, radius_km=15)
        nowhere = rf.delivery_claim(s, setup, lat=None, lon=None, name="Wang Wu")
        f.user(s, "dip")
        run = rf.planned_run(s, settings, setup["depot"].id, capacity=3)
    engine.dispose()
    return run.id, nowhere.id


def _page(browser, base: str, allowed: tuple[str, ...] = (), **args):  # noqa: ANN001, ANN202
    """A page that reaches the app and the `allowed` origins only."""
    page = new_page(browser, base, **args)
    page.unroute("**/*")
    page.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith((base, *allowed)) else r.abort(),
    )
    return page


def _login(page, lang: str = "English") -> None:  # noqa: ANN001
    page.goto(f"/lang/{'en' if lang == 'English' else 'zh_CN'}?next=/login")
    page.fill("input[name=username]", "dip")
    page.fill("input[name=password]", f.PASSWORD)
    page.locator("form button[type=submit]").first.click()


def _no_overflow(page, selector: str) -> None:  # noqa: ANN001
    sizes = page.eval_on_selector_all(
        selector, "els => els.map(e => [e.scrollWidth, e.clientWidth])"
    )
    assert sizes and all(sw <= cw for sw, cw in sizes), (selector, sizes)


def test_street_map_stops_and_a_pin(settings, browser_instance, tile_server) -> None:  # noqa: ANN001
    run_id, nowhere_id = _seed(settings)
    server = LiveServer(
        settings, workers=1, env={"KITRUN_TILE_URL": tile_server.url + "/{z}/{x}/{y}.png"}
    )
    try:
        page = _page(browser_instance, server.url, (tile_server.url,), **DESKTOP)
        _login(page)
        page.goto(f"/admin/runs/{run_id}")
        expect(page.locator("#runmap")).to_be_visible()
        expect(page.locator("#runmap .leaflet-tile-loaded").first).to_be_visible()
        assert tile_server.served > 0
        expect(page.locator("#run-drawn")).to_be_hidden()
        with Session(make_engine(settings)) as s:
            routed = len(
                s.exec(
                    select(RunStop).where(RunStop.run_id == run_id, RunStop.vehicle_id.is_not(None))
                ).all()
            )
        expect(page.locator("#runmap .runmap-stop")).to_have_count(routed)
        expect(page.locator("#runmap path.runmap-route")).to_have_count(2)
        expect(page.locator("#runmap .runmap-stop.v0").first).to_have_text("1")
        expect(page.locator(".map-legend")).to_contain_text("Needs a pin")
        expect(page.locator(".map-legend")).to_contain_text("Not on a route (2)")
        expect(page.locator("#runmap .runmap-loose")).to_have_count(2)

        # The stops table holds inside its card at 1280 px, even with every panel open.
        page.eval_on_selector_all("details.adjust-box", "ds => ds.forEach(d => d.open = true)")
        _no_overflow(page, "#routes, #routes .table-wrap, #stops, #stops .table-wrap")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/run_1280_en.png", full_page=True)

        # Place the unpinned stop: arm it, click the map, the page reloads with it pinned.
        page.get_by_role("button", name="Place on the map").click()
        expect(page.locator("#runmap.placing")).to_have_count(1)
        with page.expect_navigation():
            page.locator("#runmap").click(position={"x": 300, "y": 200})
        expect(page.get_by_role("button", name="Place on the map")).to_have_count(0)
        with Session(make_engine(settings)) as s:
            claim = s.get(Claim, nowhere_id)
            assert claim.lat is not None and claim.lon is not None
    finally:
        server.stop()


def test_drawn_map_without_tiles_and_when_they_fail(
    settings, browser_instance, live_server
) -> None:  # noqa: ANN001
    run_id, _ = _seed(settings)
    # The default tile server is out of reach here (the page may reach the app only).
    page = new_page(browser_instance, live_server.url, **DESKTOP)
    _login(page, "中文")
    page.goto(f"/admin/runs/{run_id}")
    expect(page.locator("#runmap-offline")).to_be_visible(timeout=10_000)
    expect(page.locator("#run-drawn svg polyline")).to_have_count(2)
    expect(page.locator("#run-drawn")).to_be_visible()
    expect(page.locator("#runmap")).to_be_hidden()
    _no_overflow(page, "#routes, #routes .table-wrap, #stops")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/run_1280_zh.png", full_page=True)
    server = LiveServer(settings, workers=1, env={"KITRUN_TILE_URL": ""})
    try:
        page = new_page(browser_instance, server.url, **DESKTOP)
        _login(page)
        page.goto(f"/admin/runs/{run_id}")
        expect(page.locator("#run-drawn svg polyline")).to_have_count(2)
        expect(page.locator("#runmap")).to_have_count(0)
        expect(page.locator("script[src*=leaflet]")).to_have_count(0)
    finally:
        server.stop()


@pytest.mark.parametrize("lang", ["English", "中文"])
def test_phone_menu_and_current_page(settings, browser_instance, live_server, lang) -> None:  # noqa: ANN001
    engine = make_engine(settings)
    with Session(engine) as s:
        f.user(s, "dip")
    engine.dispose()
    page = new_page(browser_instance, live_server.url, **PHONE)
    _login(page, lang)
    tag = "en" if lang == "English" else "zh"
    for path in ("/admin/campaigns", "/admin/claims"):
        page.goto(path)
        nav = page.locator("nav.nav")
        expect(nav).to_be_hidden()
        header = page.locator("header.topbar").bounding_box()
        assert header["height"] < 80
        width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1], (path, width)
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/{path.rsplit('/', 1)[1]}_390_{tag}.png", full_page=True)
        page.locator("summary.navbutton").click()
        expect(nav).to_be_visible()
        current = nav.locator("a[aria-current=page]")
        expect(current).to_have_count(1)
        expect(current).to_have_attribute("href", path)
    page.locator("nav.nav a[href='/admin/runs']").click()
    expect(page).to_have_url(f"{live_server.url}/admin/runs")

    desk = new_page(browser_instance, live_server.url, **DESKTOP)
    _login(desk, lang)
    desk.goto("/admin/claims")
    expect(desk.locator("summary.navbutton")).to_be_hidden()
    expect(desk.locator("nav.nav a[href='/admin/stock']")).to_be_visible()
    expect(desk.locator("nav.nav a[aria-current=page]")).to_have_attribute("href", "/admin/claims")


@pytest.mark.parametrize("lang", ["中文", "English"])
def test_a_diplomat_prints_the_route_sheet_in_the_pages_language(
    settings, browser_instance, live_server, lang, tmp_path
) -> None:  # noqa: ANN001
    """Done when: a diplomat prints a route sheet in Chinese with the phone numbers the driver
    needs — from the page, in the page's language, whatever the browser asks for."""
    run_id, _ = _seed(settings)
    page = new_page(browser_instance, live_server.url, locale="en-GB", **DESKTOP)
    _login(page, lang)
    page.goto(f"/admin/runs/{run_id}")
    link = page.get_by_role("link", name="路线单 A4" if lang == "中文" else "Route sheets A4")
    # (the browser shows the PDF in its viewer, to print: fetched here with the page's session)
    answer = page.context.request.get(link.get_attribute("href"))
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(answer.body())
    text = "".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    chinese, english = ("司机", "车辆", "地址"), ("Driver", "Vehicle", "Address")
    wanted, unwanted = (chinese, english) if lang == "中文" else (english, chinese)
    assert all(w in text for w in wanted) and not any(w in text for w in unwanted), text
    with Session(make_engine(settings)) as s:
        routed = s.exec(
            select(Claim)
            .join(RunStop, RunStop.claim_id == Claim.id)
            .where(RunStop.run_id == run_id, RunStop.vehicle_id.is_not(None))
        ).all()
    assert routed and all("".join(c.phone.split()) in text for c in routed), text
