"""A new user in Chromium: demo data, switch language, log in, land on the overview."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import DESKTOP, PHONE, LiveServer, new_page

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_server(settings, tmp_path):
    """A live server (2 workers) whose database got `kitrun demo`; yields (server, password)."""
    server = LiveServer(settings, workers=2)
    out = server.cli("demo")
    assert out.returncode == 0, out.stderr
    match = re.search(r"diplomat\s+username: diplomat\s+password: (\S+)", out.stdout)
    assert match, out.stdout
    yield server, match.group(1)
    server.stop()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_demo_diplomat_logs_in_in_both_languages(
    demo_server, browser_instance, viewport, tmp_path, request
):
    server, password = demo_server
    device = PHONE if viewport == "phone" else DESKTOP
    page = new_page(browser_instance, server.url, **device)
    page.goto("/")
    # Chinese by default
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    # switch to English and back to Chinese without JavaScript help
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Staff login")).to_be_visible()
    page.fill("input[name=username]", "diplomat")
    page.fill("input[name=password]", "wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin")
    expect(page.get_by_role("heading", name="Consulate overview")).to_be_visible()
    page.screenshot(path=str(tmp_path / f"admin-en-{viewport}.png"), full_page=True)
    page.get_by_role("link", name="中文").click()
    page.wait_for_url("**/admin")
    expect(page.get_by_role("heading", name="领馆管理首页")).to_be_visible()
    page.screenshot(path=str(tmp_path / f"admin-zh-{viewport}.png"), full_page=True)
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    page.context.close()
