"""Roster uploads in Chromium: a GBK file imports, a bad file lists its bad lines."""

import pytest
from playwright.sync_api import expect

from tests.conftest import DESKTOP, PHONE, LiveServer, new_page
from tests.schools.factories import roster_csv, students

pytestmark = pytest.mark.browser

PASSWORD = "roster-test-pass-42"


@pytest.fixture
def server(settings):
    srv = LiveServer(settings, workers=2)
    out = srv.cli(
        "user", "create", "--username", "consul", "--role", "diplomat", "--password", PASSWORD
    )
    assert out.returncode == 0, out.stderr
    yield srv
    srv.stop()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_diplomat_uploads_gbk_roster_and_a_bad_one(server, browser_instance, viewport, tmp_path):
    page = new_page(browser_instance, server.url, **(PHONE if viewport == "phone" else DESKTOP))
    page.goto("/login?lang=en")
    page.fill("input[name=username]", "consul")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin")
    if viewport == "phone":  # the navigation is behind the menu button on a phone
        page.get_by_text("Menu").click()
    page.get_by_role("link", name="Schools").first.click()
    expect(page.get_by_role("heading", name="Schools")).to_be_visible()
    page.get_by_role("link", name="New school").click()
    page.fill("input[name=name_zh]", "巴黎萨克雷大学")
    page.fill("input[name=name_en]", "Université Paris-Saclay")
    page.fill("input[name=city]", "Orsay")
    page.fill("input[name=email_domains]", "universite-paris-saclay.fr")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Université Paris-Saclay")).to_be_visible()

    good = tmp_path / "名单.csv"
    good.write_bytes(roster_csv(students(25), encoding="gbk"))
    page.set_input_files("input[name=file]", str(good))
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_role("status")).to_contain_text("Imported 25 students", timeout=15000)
    page.screenshot(path=str(tmp_path / f"done-en-{viewport}.png"), full_page=True)
    page.get_by_role("link", name="See the roster").click()
    expect(page.get_by_text("25 students")).to_be_visible()
    expect(page.get_by_role("cell", name="S000024")).to_be_visible()
    page.screenshot(path=str(tmp_path / f"roster-en-{viewport}.png"), full_page=True)

    page.goto(page.url.rsplit("/roster", 1)[0] + "?lang=zh_CN")
    rows = students(5)
    rows[1][2] = "2001-02-30"
    rows[3][0] = ""
    bad = tmp_path / "bad.csv"
    bad.write_bytes(roster_csv(rows, encoding="gbk"))
    page.set_input_files("input[name=file]", str(bad))
    page.get_by_role("button", name="上传并导入").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("2", timeout=15000)
    table = page.locator(".bad-lines table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").nth(0)).to_contain_text("3")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("5")
    page.screenshot(path=str(tmp_path / f"bad-zh-{viewport}.png"), full_page=True)
    # the previous roster is still there
    page.goto(page.url.split("/admin/")[0] + "/admin/schools?lang=en")
    expect(page.get_by_role("cell", name="25")).to_be_visible()
    page.screenshot(path=str(tmp_path / f"list-en-{viewport}.png"), full_page=True)
    page.context.close()
