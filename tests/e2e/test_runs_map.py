"""Chromium: the run page's street map over a local tile server, its drawn fallback, placing a
pin; the stops table inside its card at 1280 px; the staff menu at 390 px (issue 17)."""

from __future__ import annotations

import os
import struct
import threading
import zlib
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from app.core.db import make_engine
from app.runs import plan as run_plan
from app.runs import service as runs
from models.claims import Claim
from models.runs import RunStop
from tests import factories as f
from tests.conftest import DESKTOP, PHONE, LiveServer, free_port, new_page
from tests.runs import factories as rf

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("KITRUN_SHOTS")


def _png(size: int = 256) -> bytes:
    row = b"\x00" + bytes((236, 240, 232)) * size
    raw = row * size

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    head = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(raw))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + idat + chunk(b"IEND", b"")


TILE = _png()


class _Tiles(BaseHTTPRequestHandler):
    served = 0

    def do_GET(self) -> None:  # noqa: N802
        type(self).served += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(TILE)))
        self.end_headers()
        self.wfile.write(TILE)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tile_server():  # noqa: ANN201
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _seed(settings) -> tuple[int, int]:  # noqa: ANN001
    """A planned run: two cars for 6 of 8 stops, one claim without coordinates (needs a pin)."""
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        rf.scattered(s, setup, 8, radius_km=15)
        nowhere = rf.delivery_claim(s, setup, lat=None, lon=None, name="Wang Wu")
        f.user(s, "dip")
        run = runs.create_run(
            session=s,
            name="Thursday west",
            run_date=date(2026, 5, 7),
            depot_location_id=setup["depot"].id,
            service_s=300,
        )
        for name in ("Car 1", "Car 2"):
            runs.add_vehicle(
                session=s,
                run_id=run.id,
                name=name,
                driver="Li",
                driver_user_id=None,
                capacity=3,
                shift_start_s=8 * 3600,
                shift_end_s=18 * 3600,
                max_stops=None,
            )
        runs.select_claims(session=s, run_id=run.id)
        run_plan.optimise(session=s, settings=settings, run_id=run.id)
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
        settings, workers=1, env={"KITRUN_TILE_URL": tile_server + "/{z}/{x}/{y}.png"}
    )
    try:
        page = _page(browser_instance, server.url, (tile_server,), **DESKTOP)
        _login(page)
        page.goto(f"/admin/runs/{run_id}")
        expect(page.locator("#runmap")).to_be_visible()
        expect(page.locator("#runmap .leaflet-tile-loaded").first).to_be_visible()
        assert _Tiles.served > 0
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
