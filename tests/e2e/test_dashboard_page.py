"""The dashboard in Chromium: desktop and phone, Chinese and English, charts drawn as SVG."""

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from app.core.db import make_engine
from tests import factories as f
from tests.conftest import DESKTOP, PHONE, LiveServer, new_page
from tests.dashboard.factories import small_campaign

pytestmark = pytest.mark.browser

SHOTS = "/tmp/dash"


@pytest.fixture
def server(settings):  # noqa: ANN001, ANN201
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        small = small_campaign(s, settings)
    engine.dispose()
    srv = LiveServer(settings, workers=2)
    srv.campaign_id = small.campaign.id
    yield srv
    srv.stop()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_dashboard_in_both_languages(server, browser_instance, viewport, tmp_path):
    size = PHONE if viewport == "phone" else DESKTOP
    page = new_page(browser_instance, server.url, **size)
    page.goto("/login?lang=zh_CN")
    page.fill("input[name=username]", "dip")
    page.fill("input[name=password]", f.PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/admin")
    page.locator("a.dash-link").click()
    page.wait_for_url("**/admin/dashboard")
    expect(page.get_by_role("heading", name="统计看板")).to_be_visible()
    expect(page.locator('[data-k="handed_over"]')).to_have_text("3")
    expect(page.locator('[data-k="failed_deliveries"]')).to_have_text("1")
    expect(page.get_by_role("link", name="今日报表（PDF）")).to_be_visible()
    width = size["viewport"]["width"]
    for chart in ("daily", "schools", "stock"):
        svg = page.locator(f"svg#chart-{chart}")
        svg.scroll_into_view_if_needed()
        expect(svg).to_be_visible()
        box = svg.bounding_box()
        assert box and 150 < box["width"] <= width and box["height"] > 80, box
        assert svg.locator("rect").count() >= 2  # bars, not an empty frame
    expect(page.locator("svg#chart-schools text", has_text="École Manuelle（中）")).to_have_count(1)
    expect(page.locator("svg#chart-daily text", has_text="每日申领与发放")).to_have_count(1)
    page.screenshot(path=f"{SHOTS}/dashboard-zh-{viewport}.png", full_page=True)

    page.goto(f"/admin/dashboard?campaign={server.campaign_id}&lang=en")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(
        page.locator("svg#chart-daily text", has_text="Claims and handovers per day")
    ).to_have_count(1)
    expect(page.locator("svg#chart-schools text", has_text="École Manuelle")).to_have_count(1)
    expect(page.get_by_role("link", name="Today's report (CSV)")).to_be_visible()
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width + 1, scroll  # nothing sticks out sideways
    page.screenshot(path=f"{SHOTS}/dashboard-en-{viewport}.png", full_page=True)

    page.get_by_role("link", name="View the audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    expect(page.get_by_role("cell", name="claim.handover", exact=True)).to_have_count(2)
    page.select_option("select[name=action]", "claim.reject")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name="claim.reject", exact=True)).to_have_count(1)
    expect(page.locator("dd.changed", has_text="rejected")).to_have_count(1)
    page.screenshot(path=f"{SHOTS}/audit-en-{viewport}.png", full_page=True)
    page.context.close()
