"""A student on a 390×844 phone, in Chinese and English: errors beside the fields, a delivery by
address alone (placed on the map by a local Nominatim-compatible server), the status page,
cancelling with a confirmation, and finding the claim again."""

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from app.core.db import make_engine
from models.claims import Claim
from tests.claims.test_claim_address import HOME, PARIS, FakeNominatim
from tests.conftest import PHONE, LiveServer, new_page
from tests.factories import campaign_setup, move

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots17")


@pytest.fixture
def world(settings):
    fake = FakeNominatim({HOME: PARIS})
    server = LiveServer(settings, workers=1, env={"KITRUN_GEOCODER_URL": fake.url})
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        setup = campaign_setup(s, kits=3)
        move(s, "receive", {"item_id": setup["kit"].id, "location_id": setup["depot"].id,
                            "quantity": 2})  # fmt: skip
    yield server, setup, engine, fake
    engine.dispose()
    server.stop()
    fake.close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_a_minor_gets_a_kit_delivered_by_address_in_both_languages(world, browser_instance):
    server, setup, engine, fake = world
    public = setup["campaign"].public_id
    page = new_page(browser_instance, server.url, **PHONE)
    for lang, button in (("en", "Claim my kit"), ("zh_CN", "申领健康包")):
        page.goto(f"/claim/{public}?lang={lang}")
        page.select_option("select[name=school_id]", str(setup["school"].id))
        page.fill("input[name=name_zh]", "李四")
        page.fill("input[name=name_latin]", "Li Si")
        page.fill("input[name=student_number]", "S002")
        page.check("input[name=fulfilment][value=delivery]")
        page.fill("textarea[name=address]", HOME)
        page.check("input[name=consent]")
        page.get_by_role("button", name=button).click()  # no birth date, no phone
        birth = page.locator("input[name=birth_date]")
        expect(birth).to_have_attribute("aria-invalid", "true")
        expect(birth).to_have_attribute("aria-describedby", "birth_date-error")
        expect(birth).to_be_focused()
        expect(page.locator("input[name=consent]")).to_be_checked()
        expect(page.locator("textarea[name=address]")).to_have_value(HOME)
        if lang == "en":
            expect(page.locator("#birth_date-error")).to_have_text("Fill in “Birth date”.")
        _shot(page, f"form-errors-{lang}.png")
    page.fill("input[name=birth_date]", "2009-05-06")
    page.get_by_role("button", name="申领健康包").click()
    phone = page.locator("input[name=phone]")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_be_focused()
    phone.fill("06 12 34 56 78")
    page.get_by_role("button", name="申领健康包").click()
    page.wait_for_url("**/s/*")
    token = page.url.rsplit("/", 1)[-1]
    with Session(engine) as s:
        c = s.exec(select(Claim).where(Claim.token == token)).one()
        assert (c.lat, c.lon, c.phone, c.delivery_reason) == (*PARIS, "+33612345678", "minor")
    assert [a["q"] for a in fake.asked] == [HOME]
    expect(page.locator("#status")).to_have_text("已预留健康包")
    expect(page.locator(".reasons")).to_contain_text("Université Test（中）")
    _shot(page, "status-zh.png")
    code = page.locator("#short-code").inner_text()
    page.goto(f"/s/{token}?lang=en")
    expect(page.locator("#keep-link")).to_contain_text("Find my claim")
    _shot(page, "status-en.png")

    # lost link: find it again by the facts and the end of the code (no e-mail on this claim),
    # in each language
    finds = {
        "zh_CN": ("已经申请过？找回我的申请", "找回我的申请", "我们已将链接发送到该邮箱"),
        "en": ("Already claimed? Find my claim", "Find my claim", "we have sent the link"),
    }
    for lang, (link, button, sent) in finds.items():
        page.goto(f"/claim/{public}?lang={lang}")
        page.get_by_role("link", name=link).click()
        page.select_option("select[name=school_id]", str(setup["school"].id))
        page.fill("input[name=student_number]", "S002")
        page.fill("input[name=birth_date]", "2009-05-06")
        page.fill("input[name=name]", "李四")
        page.get_by_role("button", name=button).click()
        expect(page.locator("#find-message")).to_contain_text(sent)
        page.fill("input[name=code_end]", code.replace("-", "")[-4:])
        page.get_by_role("button", name=button).click()
        page.wait_for_url(f"**/s/{token}?msg=found")

    # cancelling asks for a confirmation (the browser will not send the form without it)
    page.goto(f"/s/{token}?lang=zh_CN")
    page.get_by_role("button", name="取消我的申请").click()
    expect(page.locator("#status")).to_have_text("已预留健康包")
    page.goto(f"/s/{token}?lang=en")
    page.get_by_role("button", name="Cancel my claim").click()
    expect(page.locator("#status")).to_have_text("Kit reserved")
    page.check("input[name=confirm]")
    page.get_by_role("button", name="Cancel my claim").click()
    expect(page.locator("#status")).to_have_text("Cancelled")
    page.context.close()
