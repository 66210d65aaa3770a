"""Students claim a kit in Chromium on a phone: Chinese by default, English on request."""

import subprocess

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect
from sqlmodel import Session

from app.core.db import make_engine
from tests.conftest import PHONE, new_page
from tests.factories import campaign_setup

pytestmark = pytest.mark.browser


@pytest.fixture
def campaign(live_server):
    engine = make_engine(live_server.settings)
    with Session(engine, expire_on_commit=False) as s:
        setup = campaign_setup(s, kits=3)
    engine.dispose()
    return setup


def _fill(page, setup, number):
    page.select_option("select[name=school_id]", str(setup["school"].id))
    page.fill("input[name=name_latin]", "Zhang San")
    page.fill("input[name=student_number]", number)
    page.fill("input[name=birth_date]", "2001-02-03")
    page.select_option("select[name=pickup_location_id]", str(setup["point"].id))
    page.check("input[name=consent]")


def _drawing_fonts(page, selector: str) -> set[str]:  # noqa: ANN001
    """The families Chromium drew the element's text with (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return {
        f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    }


def _chinese_fonts() -> set[str]:
    """Font families this machine has for Chinese (fontconfig); .ci/run installs one."""
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    families = {name for line in out.stdout.splitlines() for name in line.split(",")}
    assert families, "no Chinese font on this machine: apt-get install fonts-wqy-microhei"
    return families


def test_claim_in_chinese_on_a_phone_then_scan_the_qr(
    live_server, browser_instance, campaign, tmp_path
):
    page = new_page(browser_instance, live_server.url, **PHONE)
    page.goto(f"/claim/{campaign['campaign'].public_id}")
    expect(page.get_by_role("button", name="申领健康包")).to_be_visible()
    _fill(page, campaign, "S001")
    page.get_by_role("button", name="申领健康包").click()
    page.wait_for_url("**/s/*")
    expect(page.locator("#status")).to_have_text("已预留健康包")
    assert _drawing_fonts(page, "#status") <= _chinese_fonts(), "Chinese drawn as empty boxes"
    token = page.url.rsplit("/", 1)[-1]
    shot = tmp_path / "status-zh-phone.png"
    page.locator("#qr svg").screenshot(path=str(shot))
    decoded = [
        r.text
        for r in zxingcpp.read_barcodes(Image.open(shot), formats=zxingcpp.BarcodeFormat.QRCode)
    ]
    assert decoded == [token]
    code = page.locator("#short-code").inner_text()
    assert len(code.replace("-", "")) == 10
    page.screenshot(path=str(tmp_path / "status-page.png"), full_page=True)
    page.context.close()


def test_claim_in_english_shows_what_to_fix(live_server, browser_instance, campaign):
    page = new_page(browser_instance, live_server.url, **PHONE)
    page.goto(f"/claim/{campaign['campaign'].public_id}?lang=en")
    _fill(page, campaign, "S999")
    page.get_by_role("button", name="Claim my kit").click()
    expect(page.locator("#form-error")).to_contain_text("Please correct the marked fields")
    expect(page.locator("#student_number-error")).to_contain_text(
        "This student number is not on your school's list"
    )
    expect(page.locator("input[name=student_number]")).to_be_focused()
    # what the student typed is kept
    expect(page.locator("input[name=student_number]")).to_have_value("S999")
    expect(page.locator("input[name=name_latin]")).to_have_value("Zhang San")
    page.context.close()
