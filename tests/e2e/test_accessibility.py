"""axe-core in Chromium on every page a student, volunteer or driver sees and on the main staff
pages, in Chinese and English, at 390 px (phone) and 1280 px: no violation of any impact.

axe-core comes from npm (node_modules/axe-core) and is injected by Playwright; the pages reach
the app under test only (and a local tile server for the run map). One live server and one
database (SQLite: one kind is enough here) for the module; one browser context per width, its
page reused from test to test; a test per page, language and width, so a failure names the page
and lists what to fix."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.campaigns import service as campaigns
from app.claims import actions as claim_actions
from app.claims import submit as claims
from app.core.config import Settings
from app.core.db import make_engine
from app.pickup import volunteers
from app.privacy import erase
from app.runs import delivery as run_delivery
from app.runs import plan as run_plan
from app.runs import service as runs
from models.campaigns import Campaign, PickupSlotCreate
from models.claims import Claim
from models.inventory import Item, Lot
from models.schools import RosterEntry
from tests import factories as f
from tests.conftest import DESKTOP, PHONE, ROOT, LiveServer, new_page
from tests.dashboard.factories import small_campaign
from tests.e2e.tiles import TileServer
from tests.pickup import factories as pf
from tests.runs import factories as rf

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"390": PHONE, "1280": DESKTOP}
LANGS = ("zh_CN", "en")
SHOTS = os.environ.get("KITRUN_SHOTS")  # a folder: save screenshots there to look at them

RUN_AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html,
                              why: n.failureSummary}))}));
}"""


# ---------------------------------------------------------------- the world


@dataclass
class World:
    server: LiveServer
    tiles: str
    ids: dict[str, object]
    tokens: dict[str, str]
    go_tokens: list[str] = field(default_factory=list)  # allocated at Point A, one per scan
    pages: dict[str, Page] = field(default_factory=dict)  # width → page
    role: dict[str, str | None] = field(default_factory=dict)  # width → who is logged in


def _seed(session: Session, settings: Settings) -> tuple[dict, dict, list[str]]:
    """Claims in every state a student sees, a volunteer at a stocked point, a planned run with
    a map and a dispatched run with a driver."""
    small = small_campaign(session, settings)  # diplomat "dip", claims a1…b3
    setup = {
        "campaign": small.campaign,
        "school": small.roster_school,
        "depot": small.depot,
        "kit": session.get(Campaign, small.campaign.id).kit_item_id,
    }
    kit_id = setup["kit"]
    f.move(session, "receive", {"item_id": kit_id, "location_id": small.depot.id, "quantity": 20})

    def manual(number: str, school=small.manual_school, **kw) -> Claim:  # noqa: ANN001, ANN003
        data = {"school_id": school.id, "student_number": number}
        return claims.submit(
            session=session,
            settings=settings,
            campaign=small.campaign,
            data=f.claim_in({"school": school, "point": small.point}, **data, **kw),
            locale="zh_CN",
            address=f"10.1.0.{len(number) + int(number[1:])}",
        )

    submitted = manual("M4", name_latin="Chen Liu", name_zh="陈六")
    cancelled = manual("M5", name_latin="Zhao Qi")
    claim_actions.cancel(session=session, token=cancelled.token)
    erased = manual("M6", name_latin="Sun Ba")
    by_mail = manual("M7", school=small.email_school, email="m7@lycee-courriel.fr")
    erase.erase(session, settings, claim_id=erased.id, user_id=small.diplomat.id, reason="asked")
    campaigns.create_slot(
        session=session,
        data=PickupSlotCreate(
            location_id=small.point.id,
            starts_at=datetime.now(UTC) + timedelta(days=2),
            ends_at=datetime.now(UTC) + timedelta(days=2, hours=2),
            capacity=20,
        ),
    )

    # A volunteer at a stocked point; allocated claims to hand over, one campaign asking for
    # an ID check first.
    point = f.location(session, "Point A", kind="pickup_point", address="1 rue A")
    f.move(session, "receive", {"item_id": kit_id, "location_id": point.id, "quantity": 20})
    vol = f.user(session, "vol", "volunteer")
    volunteers.assign_volunteer(session=session, user_id=vol.id, location_id=point.id)
    lot = session.exec(select(Lot).where(Lot.item_id == kit_id)).first()
    kit = session.get(Item, kit_id)
    checked = Campaign(
        name_zh="核验发放",
        name_en="Checked round",
        opens_at=datetime.now(UTC) - timedelta(days=1),
        closes_at=datetime.now(UTC) + timedelta(days=10),
        kit_item_id=kit_id,
        public_id=uuid.uuid4().hex[:16],
        status="open",
        confirm_after_id_check=True,
    )
    closed = Campaign(
        name_zh="已结束发放",
        name_en="Closed round",
        opens_at=datetime.now(UTC) - timedelta(days=30),
        closes_at=datetime.now(UTC) - timedelta(days=1),
        kit_item_id=kit_id,
        public_id=uuid.uuid4().hex[:16],
        status="closed",
    )
    session.add_all([checked, closed])
    session.commit()
    plain = pf.World(small.campaign, small.manual_school, kit, lot, point, point, small.diplomat,
                     vol)  # fmt: skip
    ask = pf.World(checked, small.manual_school, kit, lot, point, point, small.diplomat, vol)
    go = [pf.claim(session, plain, name_zh="李四", name_latin="Li Si").token for _ in range(6)]
    check = pf.claim(session, ask, name_zh="王小明", name_latin="Wang Xiaoming")

    # Runs: one planned (the map), one dispatched to the driver "li".
    driver = f.user(session, "li", "driver")
    dsetup = {**setup, "kit": kit, "lot": lot}
    planned_claims = rf.scattered(session, dsetup, 6, radius_km=15)
    nowhere = rf.delivery_claim(session, dsetup, lat=None, lon=None, name="Wang Wu")
    planned = rf.planned_run(
        session,
        settings,
        small.depot.id,
        capacity=4,
        claim_ids=[c.id for c in planned_claims] + [nowhere.id],
        run_date=date.today(),
    )
    road_claims = rf.scattered(session, dsetup, 3, radius_km=10, seed=11)
    road = runs.create_run(
        session=session, name="Friday east", run_date=date.today(), depot_location_id=small.depot.id
    )
    car = runs.add_vehicle(
        session=session,
        run_id=road.id,
        name="Van",
        driver="Li",
        driver_user_id=driver.id,
        capacity=5,
        shift_start_s=8 * 3600,
        shift_end_s=18 * 3600,
    )
    runs.select_claims(session=session, run_id=road.id, claim_ids=[c.id for c in road_claims])
    run_plan.optimise(session=session, settings=settings, run_id=road.id)
    run_delivery.dispatch(session=session, run_id=road.id, user=small.diplomat)

    entry = session.exec(
        select(RosterEntry).where(RosterEntry.school_id == small.roster_school.id)
    ).first()
    c = small.claims
    for claim in (c["a1"], c["a3"], c["b2"], c["b3"], submitted, cancelled, erased, check):
        session.refresh(claim)
    states = {
        "submitted": submitted,
        "allocated": c["a3"],
        "waitlisted": c["b3"],
        "handed_over": c["a1"],
        "rejected": c["b2"],
        "cancelled": cancelled,
        "erased": erased,
    }
    got = {k: ("erased" if v.erased_at else v.status) for k, v in states.items()}
    assert got == {k: k for k in states}, got  # each page shows the state it is named for
    assert by_mail.status == "submitted" and by_mail.email_code_hash
    tokens = {k: v.token for k, v in states.items()} | {"check": check.token}
    tokens["email_code"] = by_mail.token
    ids = {
        "campaign": small.campaign.id,
        "public": small.campaign.public_id,
        "closed": closed.public_id,
        "school": small.roster_school.id,
        "manual_school": small.manual_school.id,
        "entry": entry.id,
        "kit": kit_id,
        "point": point.id,
        "claim": c["a3"].id,
        "handed": c["a1"].id,
        "planned": planned.id,
        "road": road.id,
        "car": car.id,
        "submitted_birth": submitted.birth_date.isoformat(),
        "submitted_code": submitted.short_code,
    }
    return ids, tokens, go


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template, browser_instance
) -> Iterator[World]:  # noqa: ANN001
    data_dir = tmp_path_factory.mktemp("axe") / "var"
    data_dir.mkdir()
    db = data_dir / "kitrun.db"
    shutil.copy(sqlite_template, db)
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{db}", secret_key="test")
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        ids, tokens, go = _seed(s, settings)
    engine.dispose()
    tiles = TileServer()
    tile_origin = tiles.url
    server = LiveServer(
        settings,
        workers=1,
        env={
            "KITRUN_TILE_URL": tile_origin + "/{z}/{x}/{y}.png",
            "KITRUN_CLAIM_RATE_PER_IP": "10000",
            "KITRUN_CLAIM_RATE_PER_STUDENT": "10000",
        },
    )
    w = World(server, tile_origin, ids, tokens, go)
    try:
        yield w
    finally:
        for page in w.pages.values():
            page.context.close()
        server.stop()
        tiles.close()


def _page(w: World, browser, width: str, role: str | None) -> Page:  # noqa: ANN001
    """The width's page (one context per width), logged in as `role`'s user (None: nobody)."""
    page = w.pages.get(width)
    if page is None:
        # bypass_csp: Playwright injects axe-core as an inline script, which our policy refuses.
        page = new_page(browser, w.server.url, bypass_csp=True, **WIDTHS[width])
        page.unroute("**/*")
        allowed = (w.server.url, w.tiles)
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith(allowed) else r.abort()
        )
        w.pages[width] = page
        w.role[width] = None
    if w.role[width] != role:
        page.context.clear_cookies()
        if role is not None:
            page.goto("/login?lang=en")
            page.fill("input[name=username]", role)
            page.fill("input[name=password]", f.PASSWORD)
            page.locator("form button[type=submit]").first.click()
            page.wait_for_url("**/" + {"dip": "admin", "vol": "volunteer", "li": "driver"}[role])
        w.role[width] = role
    return page


def _q(url: str, lang: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}lang={lang}"


# ---------------------------------------------------------------- what each page needs


def _claim_errors(page: Page, w: World, lang: str) -> None:
    page.goto(_q(f"/claim/{w.ids['public']}", lang))
    page.locator("form button[type=submit].primary").click()
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()


def _claim_open(page: Page, w: World, lang: str) -> None:
    """The form for a delivery, with the privacy notice unfolded."""
    page.goto(_q(f"/claim/{w.ids['public']}", lang))
    page.check("input[name=fulfilment][value=delivery]")
    expect(page.locator("textarea[name=address]")).to_be_visible()
    page.locator("#notice summary").click()
    expect(page.locator("#notice .notice-text")).to_be_visible()


def _find_answer(page: Page, w: World, lang: str) -> None:
    page.goto(_q(f"/claim/{w.ids['public']}/find", lang))
    page.select_option("select[name=school_id]", str(w.ids["manual_school"]))
    page.fill("input[name=student_number]", "M4")
    page.fill("input[name=birth_date]", w.ids["submitted_birth"])
    page.fill("input[name=name]", "Chen Liu")
    page.locator("#find-form button[type=submit]").click()
    expect(page.locator("#find-message")).to_be_visible()


def _find_errors(page: Page, w: World, lang: str) -> None:
    page.goto(_q(f"/claim/{w.ids['public']}/find", lang))
    page.locator("#find-form button[type=submit]").click()
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()


def _find_found(page: Page, w: World, lang: str) -> None:
    _find_answer(page, w, lang)
    page.fill("input[name=code_end]", w.ids["submitted_code"][-4:])
    page.locator("#find-form button[type=submit]").click()
    page.wait_for_url("**/s/*?msg=found")


def _cancel_refused(page: Page, w: World, lang: str) -> None:
    """The cancel form sent without its confirmation box (the server says why)."""
    page.goto(_q(f"/s/{w.tokens['allocated']}", lang))
    page.locator("input[name=confirm]").evaluate("e => e.removeAttribute('required')")
    page.locator(".cancel-form button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _scan(kind: str) -> Callable[[Page, World, str], None]:
    def run(page: Page, w: World, lang: str) -> None:
        page.goto(_q(f"/scan/{w.ids['point']}", lang))
        code = {"go": w.go_tokens.pop() if kind == "go" else "", "stop": w.tokens["handed_over"],
                "check": w.tokens["check"]}[kind]  # fmt: skip
        page.locator("#code").fill(code)
        page.keyboard.press("Enter")
        expect(page.locator("#result")).to_have_class(f"scan-result {kind}")
        if kind == "check":
            expect(page.locator("#result button")).to_be_visible()

    return run


def _driver_wrong_code(page: Page, w: World, lang: str) -> None:
    page.goto(_q(f"/driver/runs/{w.ids['road']}/{w.ids['car']}", lang))
    page.fill("input[name=code]", "NOT-A-CODE")
    page.locator(".driver-scan button[type=submit]").click()
    expect(page.locator(".alert.error")).to_be_visible()


def _run_map(page: Page, w: World, lang: str) -> None:
    page.goto(_q(f"/admin/runs/{w.ids['planned']}", lang))
    expect(page.locator("#runmap .leaflet-tile-loaded").first).to_be_visible()
    expect(page.locator("#runmap .runmap-stop").first).to_be_visible()


# (role, name, url or action); the name is the test's id.
Action = str | Callable[[Page, World, str], None]
PAGES: list[tuple[str | None, str, Action]] = [
    # students
    (None, "claim-form", "/claim/{public}"),
    (None, "claim-form-errors", _claim_errors),
    (None, "claim-form-delivery-notice", _claim_open),
    (None, "claim-closed", "/claim/{closed}"),
    (None, "claim-not-found", "/claim/no-such-campaign"),
    (None, "status-submitted", "/s/{t_submitted}"),
    (None, "status-email-code", "/s/{t_email_code}"),
    (None, "status-allocated-qr", "/s/{t_allocated}"),
    (None, "status-waitlisted", "/s/{t_waitlisted}"),
    (None, "status-handed-over", "/s/{t_handed_over}"),
    (None, "status-rejected", "/s/{t_rejected}"),
    (None, "status-cancelled", "/s/{t_cancelled}?msg=cancelled"),
    (None, "status-erased", "/s/{t_erased}"),
    (None, "cancel-refused", _cancel_refused),
    (None, "find", "/claim/{public}/find"),
    (None, "find-errors", _find_errors),
    (None, "find-answer", _find_answer),
    (None, "find-found", _find_found),
    (None, "login", "/login"),
    # volunteers
    ("vol", "volunteer-home", "/volunteer"),
    ("vol", "scanner", "/scan/{point}"),
    ("vol", "scan-go", _scan("go")),
    ("vol", "scan-already-handed-over", _scan("stop")),
    ("vol", "scan-check-id", _scan("check")),
    # drivers
    ("li", "driver-home", "/driver"),
    ("li", "driver-run", "/driver/runs/{road}/{car}"),
    ("li", "driver-run-wrong-code", _driver_wrong_code),
    # staff
    ("dip", "overview", "/admin"),
    ("dip", "dashboard", "/admin/dashboard?campaign={campaign}"),
    ("dip", "audit", "/admin/audit"),
    ("dip", "stock", "/admin/stock"),
    ("dip", "stock-card", "/admin/stock/card?item_id={kit}"),
    ("dip", "stock-receive", "/admin/stock/receive"),
    ("dip", "stock-adjust", "/admin/stock/adjust"),
    ("dip", "stock-assemble", "/admin/stock/assemble"),
    ("dip", "items", "/admin/items"),
    ("dip", "locations", "/admin/locations"),
    ("dip", "schools", "/admin/schools"),
    ("dip", "school", "/admin/schools/{school}"),
    ("dip", "school-new", "/admin/schools/new"),
    ("dip", "school-edit", "/admin/schools/{school}/edit"),
    ("dip", "school-import", "/admin/schools/import"),
    ("dip", "roster", "/admin/schools/{school}/roster"),
    ("dip", "campaigns", "/admin/campaigns"),
    ("dip", "slots", "/admin/slots"),
    ("dip", "claims", "/admin/claims"),
    ("dip", "claim", "/admin/claims/{claim}"),
    ("dip", "pickup", "/admin/pickup"),
    ("dip", "pickup-volunteers", "/admin/pickup/volunteers"),
    ("dip", "scan-log", "/admin/pickup/scans"),
    ("dip", "pickup-conflicts", "/admin/pickup/conflicts"),
    ("dip", "pickup-claim", "/admin/pickup/claims/{handed}"),
    ("dip", "runs", "/admin/runs"),
    ("dip", "run-map", _run_map),
    ("dip", "run-dispatched", "/admin/runs/{road}"),
    ("dip", "labels", "/admin/labels"),
    ("dip", "privacy-views", "/admin/privacy/views"),
    ("dip", "claim-personal-data", "/admin/claims/{claim}/privacy"),
    ("dip", "roster-personal-data", "/admin/schools/{school}/roster/{entry}/privacy"),
]
CASES = [
    pytest.param(width, role, action, lang, id=f"{name}-{lang}-{width}")
    for width in WIDTHS
    for role, name, action in PAGES
    for lang in LANGS
]


def _axe(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE)


def _format(violations: list[dict]) -> str:
    out = []
    for v in violations:
        out.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for n in v["nodes"][:8]:
            out.append(f"    {n['target']}\n        {n['html'][:300]}\n        {n['why']}")
    return "\n".join(out)


@pytest.mark.parametrize(("width", "role", "action", "lang"), CASES)
def test_no_axe_violations(world, browser_instance, width, role, action, lang, request) -> None:  # noqa: ANN001
    page = _page(world, browser_instance, width, role)
    if callable(action):
        action(page, world, lang)
    else:
        values = {**world.ids, **{f"t_{k}": v for k, v in world.tokens.items()}}
        page.goto(_q(action.format(**values), lang))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh_CN" else "en")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{request.node.callspec.id}.png", full_page=True)
    violations = _axe(page)
    assert violations == [], f"{page.url}\n{_format(violations)}"


def test_axe_finds_what_it_should(world, browser_instance) -> None:  # noqa: ANN001
    """The harness itself: an unlabelled field and faint text are reported."""
    page = _page(world, browser_instance, "1280", None)
    page.goto("/login?lang=en")
    page.locator("main").evaluate(
        """m => m.insertAdjacentHTML('beforeend',
             '<input id=bare><p style="color:#ccc;background:#fff">faint</p>')"""
    )
    found = {v["id"] for v in _axe(page)}
    assert {"label", "color-contrast"} <= found, found
