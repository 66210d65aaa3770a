"""Label printing in Chromium: a diplomat prints a school's labels and gets the PDF; a big
print goes through the progress page to a download."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import DESKTOP, PHONE, LiveServer, new_page
from tests.factories import PASSWORD
from tests.pickup import factories as pf
from tests.printing import factories as lf

pytestmark = pytest.mark.browser


def login(page, lang: str = "en") -> None:  # noqa: ANN001
    page.goto(f"/login?lang={lang}")
    page.fill("input[name=username]", "dip")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/admin")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_diplomat_prints_a_schools_labels(settings, session, browser_instance, viewport, tmp_path):
    w = pf.world(session, kits=10)
    made = lf.claims(session, w, 4)
    session.commit()
    server = LiveServer(settings, workers=2)
    try:
        page = new_page(browser_instance, server.url, **(PHONE if viewport == "phone" else DESKTOP))
        login(page)
        page.get_by_role("link", name="Labels").first.click()
        expect(page.get_by_role("heading", name="Print labels")).to_be_visible()
        page.select_option("select[name=school_id]", str(w.school.id))
        page.get_by_text("Avery L7163").click()
        page.get_by_role("button", name="Update preview").click()
        expect(page.locator(".count-preview")).to_contain_text("4 labels on 1 sheet")
        page.locator(".sheet-cell", has_text="3").first.click()
        page.screenshot(path=str(tmp_path / f"labels-en-{viewport}.png"), full_page=True)
        with page.expect_download() as info:
            page.get_by_role("button", name="Print labels (PDF)").click()
        pdf = Path(info.value.path()).read_bytes()
        assert info.value.suggested_filename == "labels-L7163.pdf"
        first = sorted(made, key=lambda c: c.name_latin)[0]
        assert lf.first_label_token(pdf, tmp_path, "L7163", position=3) == first.token
        page.goto("/admin/labels?lang=zh_CN")
        expect(page.get_by_role("heading", name="打印标签")).to_be_visible()
        page.screenshot(path=str(tmp_path / f"labels-zh-{viewport}.png"), full_page=True)
    finally:
        server.stop()


def test_big_print_shows_progress_then_a_download(settings, session, browser_instance, tmp_path):
    w = pf.world(session, kits=40)
    made = lf.claims(session, w, 30)
    session.commit()
    server = LiveServer(settings, workers=2, env={"KITRUN_LABELS_SYNC_LIMIT": "10"})
    try:
        page = new_page(browser_instance, server.url, **DESKTOP)
        login(page, "zh_CN")
        page.goto("/admin/labels")
        page.select_option("select[name=campaign_id]", str(w.campaign.id))
        page.get_by_text("Avery 5160").click()
        page.locator("button[value=print]").click()
        page.wait_for_url("**/admin/print-jobs/*")
        expect(page.get_by_role("heading", name="正在打印标签")).to_be_visible()
        link = page.get_by_role("link", name="下载 PDF")
        expect(link).to_be_visible(timeout=20000)  # the page refreshes itself until done
        page.screenshot(path=str(tmp_path / "progress-zh-done.png"), full_page=True)
        with page.expect_download() as info:
            link.click()
        pdf = Path(info.value.path()).read_bytes()
        first = sorted(made, key=lambda c: c.name_latin)[0]
        assert lf.first_label_token(pdf, tmp_path, "5160") == first.token
    finally:
        server.stop()
