"""Chromium under our Content-Security-Policy: the pages work with nothing blocked, and the
student's form, refused, keeps what was typed and says why in the student's language."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from app.core.db import make_engine
from tests import factories as f
from tests.conftest import DESKTOP, PHONE, new_page
from tests.dashboard.factories import small_campaign
from tests.factories import campaign_setup

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("KITRUN_SHOTS")  # a folder: save screenshots there to look at them
LONG_NAME = "张" * 60
RECORD = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


def _watch(page) -> list[str]:  # noqa: ANN001
    """CSP violations on this page: Chromium's console reports and the DOM events."""
    seen: list[str] = []
    page.add_init_script(RECORD)
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return seen


def _violations(page, seen: list[str]) -> list[str]:  # noqa: ANN001
    return seen + page.evaluate("window.__csp || []")


@pytest.fixture
def small(live_server):  # noqa: ANN001, ANN201
    engine = make_engine(live_server.settings)
    with Session(engine, expire_on_commit=False) as s:
        data = small_campaign(s, live_server.settings)
    engine.dispose()
    return data


@pytest.fixture
def campaign(live_server):  # noqa: ANN001, ANN201
    engine = make_engine(live_server.settings)
    with Session(engine, expire_on_commit=False) as s:
        setup = campaign_setup(s, kits=3, asks_wechat=True)  # (the form shows WeChat if asked)
    engine.dispose()
    return setup


@pytest.mark.parametrize(
    ("lang", "button", "message"),
    [
        ("zh_CN", "申领健康包", "“中文姓名”太长：最多 50 个字符。"),
        ("en", "Claim my kit", "“Chinese name” is too long: at most 50 characters."),
    ],
)
def test_refused_claim_keeps_what_was_typed(
    live_server, browser_instance, campaign, lang, button, message
):
    page = new_page(browser_instance, live_server.url, **PHONE)
    seen = _watch(page)
    page.goto(f"/claim/{campaign['campaign'].public_id}?lang={lang}")
    page.select_option("select[name=school_id]", str(campaign["school"].id))
    # a value longer than the field takes (pasted by a password manager, an old browser…)
    page.evaluate("document.querySelector('input[name=name_zh]').removeAttribute('maxlength')")
    page.fill("input[name=name_zh]", LONG_NAME)
    page.fill("input[name=name_latin]", "Zhang San")
    page.fill("input[name=student_number]", "S001")
    page.fill("input[name=birth_date]", "2001-02-03")
    page.fill("input[name=wechat]", "zs-wechat")
    page.select_option("select[name=pickup_location_id]", str(campaign["point"].id))
    page.check("input[name=consent]")
    page.get_by_role("button", name=button).click()
    expect(page.locator("#name_zh-error")).to_have_text(message)  # beside its field
    expect(page.locator("input[name=name_zh]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name=name_zh]")).to_have_value(LONG_NAME)
    expect(page.locator("input[name=name_latin]")).to_have_value("Zhang San")
    expect(page.locator("input[name=wechat]")).to_have_value("zs-wechat")
    expect(page.locator("select[name=school_id]")).to_have_value(str(campaign["school"].id))
    expect(page.locator("input[name=consent]")).to_be_checked()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/claim-refused-{lang}-390.png", full_page=True)
    # corrected, it goes through
    page.fill("input[name=name_zh]", "张三")
    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/s/*")
    assert _violations(page, seen) == []
    page.context.close()


def test_pages_work_with_nothing_blocked(live_server, browser_instance, small):
    page = new_page(browser_instance, live_server.url, **DESKTOP)
    seen = _watch(page)
    page.goto("/login?lang=en")
    page.fill("input[name=username]", "dip")
    page.fill("input[name=password]", f.PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/admin")
    pages = {
        f"/admin/dashboard?campaign={small.campaign.id}": "svg#chart-daily",
        "/admin/labels": ".sheet-grid",
        "/admin/stock": "main",
        "/admin/items": "main",
        "/admin/campaigns": "main",
        "/admin/runs": "main",
        f"/admin/pickup/claims/{small.claims['a1'].id}": "main",
    }
    for url, selector in pages.items():
        page.goto(url)
        expect(page.locator(selector).first).to_be_visible()
        assert _violations(page, seen) == [], url
    # the chart's colours are attributes now: still drawn
    bar = page.locator("svg#chart-daily rect[fill]").first
    page.goto(f"/admin/dashboard?campaign={small.campaign.id}")
    assert bar.get_attribute("fill")
    # the sheet preview keeps its columns and page shape without a style attribute
    page.goto("/admin/labels?format=L7163")
    columns = page.locator(".sheet-grid").evaluate(
        "(e) => getComputedStyle(e).gridTemplateColumns.split(' ').length"
    )
    assert columns == 2
    ratio = page.locator(".sheet-grid").evaluate("(e) => getComputedStyle(e).aspectRatio")
    assert ratio.startswith("0.707")
    page.context.close()


def test_the_api_docs_load_from_our_origin_under_the_policy(live_server, browser_instance):  # noqa: ANN001
    """Swagger UI (npm swagger-ui-dist, served by us) lists the API with nothing blocked and
    no request leaving our origin."""
    page = new_page(browser_instance, live_server.url, **DESKTOP)
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    seen = _watch(page)
    page.goto(f"{live_server.url}/docs")
    expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=15000)
    assert page.locator(".opblock").count() > 50
    assert _violations(page, seen) == []
    assert outside == []
