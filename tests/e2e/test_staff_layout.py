"""Chromium: the staff pages hold at 390 px and 1280 px in both languages (issue 17, item 7).

A menu button on phones and the links inline on wide screens, the current page marked, no
page wider than the window (a table scrolls inside its box), disabled controls that look
disabled, and the run page's stops inside their card. Screenshots go to KITRUN_SHOTS
(default /tmp/shots_staff) to look at.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from app.core.config import Settings
from app.core.db import make_engine
from app.runs import service as runs
from models.claims import Claim
from tests import factories as f
from tests.conftest import DESKTOP, PHONE, LiveServer, new_page
from tests.runs import factories as rf

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("KITRUN_SHOTS") or "/tmp/shots_staff")
WIDTHS = {390: PHONE, 1280: DESKTOP}
LANGS = {"en": "Menu", "zh": "菜单"}
LONG_SCHOOL = "Université Paris 1 Panthéon-Sorbonne, École de droit et de science politique"

# page name → (path with {ids}, the navigation entry marked current)
PAGES = {
    "overview": ("/admin", "/admin"),
    "dashboard": ("/admin/dashboard", "/admin/dashboard"),
    "stock": ("/admin/stock", "/admin/stock"),
    "items": ("/admin/items", "/admin/items"),
    "locations": ("/admin/locations", "/admin/locations"),
    "schools": ("/admin/schools", "/admin/schools"),
    "school": ("/admin/schools/{school}", "/admin/schools"),
    "roster": ("/admin/schools/{school}/roster", "/admin/schools"),
    "campaigns": ("/admin/campaigns", "/admin/campaigns"),
    "claims": ("/admin/claims", "/admin/claims"),
    "claim": ("/admin/claims/{claim}", "/admin/claims"),
    "runs": ("/admin/runs", "/admin/runs"),
    "run": ("/admin/runs/{run}", "/admin/runs"),
    "labels": ("/admin/labels", "/admin/labels"),
    "accounts": ("/admin/pickup/volunteers", "/admin/pickup"),
    "scans": ("/admin/pickup/scans", "/admin/pickup"),
}


def _seed(settings: Settings) -> dict[str, int]:
    """An open campaign, 14 delivery claims planned on two cars, a draft run with nothing in it
    (its Optimise button disabled), staff accounts, a school with a long name."""
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        rf.scattered(s, setup, 14, radius_km=20)
        f.school(
            s,
            LONG_SCHOOL,
            domains="etu.univ-paris1.fr, univ-paris1.fr, etu.sorbonne-universite.fr",
        )
        f.user(s, "dip")
        for n in range(3):
            f.user(s, f"volunteer-{n}", "volunteer")
        f.user(s, "li", "driver")
        run = rf.planned_run(s, settings, setup["depot"].id, capacity=8)
        empty = runs.create_run(
            session=s,
            name="Saturday east",
            run_date=date(2026, 5, 9),
            depot_location_id=setup["depot"].id,
            service_s=300,
        )
        claim = s.exec(select(Claim).order_by(Claim.id)).first()
        ids = {"school": setup["school"].id, "claim": claim.id, "run": run.id, "empty": empty.id}
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def staff(tmp_path_factory, sqlite_template, browser_instance):  # noqa: ANN001, ANN201
    """One server over SQLite for the module, and a logged-in page per width and language."""
    data_dir = tmp_path_factory.mktemp("staff") / "var"
    data_dir.mkdir()
    db = data_dir / "kitrun.db"
    shutil.copy(sqlite_template, db)
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{db}", secret_key="test-secret")
    ids = _seed(settings)
    SHOTS.mkdir(parents=True, exist_ok=True)
    # no tile server: the run page draws its map (the page may reach the app only)
    server = LiveServer(settings, workers=1, env={"KITRUN_TILE_URL": ""})
    pages: dict = {}

    def page_for(width: int, lang: str):  # noqa: ANN202
        if (width, lang) not in pages:
            page = new_page(browser_instance, server.url, **WIDTHS[width])
            page.goto(f"/lang/{'en' if lang == 'en' else 'zh_CN'}?next=/login")
            page.fill("input[name=username]", "dip")
            page.fill("input[name=password]", f.PASSWORD)
            page.locator("form button[type=submit]").first.click()
            expect(page.locator("header.topbar .who")).to_have_count(1)
            pages[(width, lang)] = page
        return pages[(width, lang)]

    try:
        yield ids, page_for
    finally:
        for page in pages.values():
            page.context.close()
        server.stop()


# Every table either fits the window or sits in a box that scrolls sideways and does.
# (On a phone a wider page widens the layout viewport, innerWidth with it: the width the page
# is given is the test's, `vw`.)
LAYOUT = """(vw) => {
  const fits = (r) => r.left >= -0.5 && r.right <= vw + 0.5;
  const wide = [];
  for (const t of document.querySelectorAll("main table")) {
    if (fits(t.getBoundingClientRect())) continue;
    let box = t.parentElement, ok = false;
    for (; box && box !== document.body; box = box.parentElement) {
      if (/auto|scroll/.test(getComputedStyle(box).overflowX)) {
        ok = fits(box.getBoundingClientRect());
        break;
      }
    }
    if (!ok) wide.push(t.className || t.closest("[id]")?.id || "table");
  }
  const out = [];  // anything else that sticks out of the window (not inside a scroll box)
  for (const el of document.querySelectorAll("main *, header *")) {
    const r = el.getBoundingClientRect();
    if (!r.width || fits(r)) continue;
    let clipped = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (/auto|scroll|hidden|clip/.test(getComputedStyle(p).overflowX)) { clipped = true; break; }
    }
    if (!clipped) out.push(el.tagName.toLowerCase() + (el.className ? "." + el.className : ""));
  }
  return {scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth,
          inner: innerWidth, wide, out: out.slice(0, 8)};
}"""

# A disabled control must not look like an enabled one of its kind.
DISABLED = """() => {
  const key = (el) => el.tagName + "." + [...el.classList].sort().join(".");
  const look = (el) => {
    const cs = getComputedStyle(el);
    return {opacity: cs.opacity, cursor: cs.cursor, bg: cs.backgroundColor, color: cs.color};
  };
  const enabled = {};
  const controls = "main button:enabled, main input:enabled, main select:enabled";
  for (const el of document.querySelectorAll(controls)) {
    enabled[key(el)] ??= look(el);
  }
  return [...document.querySelectorAll("main :disabled, main [aria-disabled=true]")]
    .filter((el) => el.type !== "hidden" && el.tagName !== "FIELDSET")
    .map((el) => ({what: key(el), text: (el.textContent || el.name || "").trim().slice(0, 40),
                   look: look(el), enabled: enabled[key(el)] || null}));
}"""


STYLE = (
    "b => { const cs = getComputedStyle(b); return [cs.cursor, cs.opacity, cs.backgroundColor] }"
)


def _check_disabled(page) -> int:  # noqa: ANN001
    found = page.evaluate(DISABLED)
    for d in found:
        look = d["look"]
        assert look["cursor"] == "not-allowed" or float(look["opacity"]) < 1, d
        if d["enabled"]:
            assert look != d["enabled"], d
    return len(found)


@pytest.mark.parametrize("lang", list(LANGS))
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", list(PAGES))
def test_staff_page_holds(staff, name: str, width: int, lang: str) -> None:  # noqa: ANN001
    ids, page_for = staff
    page = page_for(width, lang)
    path, current = PAGES[name]
    response = page.goto(path.format(**ids))
    assert response.status == 200, (path, response.status)
    expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")
    page.screenshot(path=str(SHOTS / f"{name}_{width}_{lang}.png"), full_page=True)

    layout = page.evaluate(LAYOUT, width)
    assert layout["scroll"] <= width and layout["inner"] == width, (name, layout)
    assert layout["body"] <= width, (name, layout)
    assert not layout["wide"], (name, layout)
    assert not layout["out"], (name, layout)

    nav, button = page.locator("nav.nav"), page.locator("summary.navbutton")
    marked = nav.locator("a[aria-current=page]")
    expect(marked).to_have_count(1)
    expect(marked).to_have_attribute("href", current)
    if width == 390:
        expect(button).to_be_visible()
        expect(button).to_contain_text(LANGS[lang])
        expect(nav).to_be_hidden()
        assert page.locator("header.topbar").bounding_box()["height"] < 80
        button.click()
        expect(nav).to_be_visible()
        expect(marked).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.locator("details.navmenu").evaluate("d => d.open = false")
    else:
        expect(button).to_be_hidden()
        expect(nav).to_be_visible()
        expect(marked).to_be_visible()
    _check_disabled(page)


@pytest.mark.parametrize("lang", list(LANGS))
@pytest.mark.parametrize("width", list(WIDTHS))
def test_run_page_stops_hold_in_their_card(staff, width: int, lang: str) -> None:  # noqa: ANN001
    ids, page_for = staff
    page = page_for(width, lang)
    page.goto(f"/admin/runs/{ids['run']}")
    stops = page.locator("table.run-stops tbody tr")
    assert stops.count() >= 12
    # every stop's panel open: the widest the table gets
    page.eval_on_selector_all("details.adjust-box", "ds => ds.forEach(d => d.open = true)")
    page.screenshot(path=str(SHOTS / f"run-open_{width}_{lang}.png"), full_page=True)
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert scroll <= width and inner == width, (scroll, inner)
    cards = page.eval_on_selector_all(
        "#vehicles, #routes, #stops",
        "els => els.map(e => [e.id, e.scrollWidth, e.clientWidth])",
    )
    assert all(sw <= cw for _, sw, cw in cards), cards
    if width == 1280:  # room enough: the stops table needs no sideways scrolling at all
        wraps = page.eval_on_selector_all(
            "#routes .table-wrap", "els => els.map(e => [e.scrollWidth, e.clientWidth])"
        )
        assert wraps and all(sw <= cw for sw, cw in wraps), wraps


@pytest.mark.parametrize("lang", list(LANGS))
@pytest.mark.parametrize("width", list(WIDTHS))
def test_disabled_controls_look_disabled(staff, width: int, lang: str) -> None:  # noqa: ANN001
    ids, page_for = staff
    page = page_for(width, lang)
    page.goto(f"/admin/runs/{ids['empty']}")
    optimise = page.locator("form[action$='/optimize'] button")
    expect(optimise).to_be_disabled()
    page.screenshot(path=str(SHOTS / f"run-empty_{width}_{lang}.png"), full_page=True)
    assert _check_disabled(page) >= 1
    look = optimise.evaluate(STYLE)
    # the same button enabled (a primary button on the planned run's page)
    page.goto(f"/admin/runs/{ids['run']}")
    enabled = page.locator("form[action$='/optimize'] button")
    expect(enabled).to_be_enabled()
    normal = enabled.evaluate(STYLE)
    assert look[0] != normal[0] or look[1] != normal[1], (look, normal)
    assert look[2] != normal[2], (look, normal)  # not the accent colour of an action
