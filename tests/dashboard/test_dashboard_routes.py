"""Dashboard API and page, report CSV and PDF, the exports, and the audit trail over HTTP."""

import csv
import io
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from models.claims import Claim
from tests import factories as f
from tests.dashboard.factories import small_campaign


@pytest.fixture
def small(client, settings):  # noqa: ANN001, ANN201
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        return small_campaign(s, settings)


@pytest.fixture
def logged_in(client, small):  # noqa: ANN001, ANN201
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": "dip",
            "password": f.PASSWORD,
            "next": "/",
            "csrf_token": client.cookies.get("kitrun_csrf"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    return client


def _rows(body: bytes, notice: bool = False) -> list[dict]:
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    if notice:  # an export of personal data: its first line is the notice
        first, text = text.split("\n", 1)
        assert first.startswith("# "), first
    return list(csv.DictReader(io.StringIO(text)))


def test_api_dashboard_and_bad_input(logged_in, small):
    r = logged_in.get(f"/api/v1/dashboard?campaign_id={small.campaign.id}")
    assert r.status_code == 200, r.text
    with Session(logged_in.app.state.engine) as s:
        handed = len(s.exec(select(Claim).where(Claim.status == "handed_over")).all())
    assert r.json()["headline"]["handed_over"] == handed == 3
    assert logged_in.get("/api/v1/dashboard?campaign_id=9999").status_code == 404
    today = datetime.now(UTC).date()
    back = today - timedelta(2)
    r = logged_in.get(
        f"/api/v1/dashboard?campaign_id={small.campaign.id}&since={today}&until={back}"
    )
    assert r.status_code == 422 and "wrong way round" in r.json()["error"]["message"]
    assert logged_in.get("/api/v1/reports/daily.csv?campaign_id=9999").status_code == 404


def test_page_figures_and_charts(logged_in, small):
    r = logged_in.get(f"/admin/dashboard?campaign={small.campaign.id}")
    assert r.status_code == 200
    html = r.text
    assert html.count('<svg id="chart-') == 3
    assert 'data-k="handed_over">3<' in html and 'data-k="failed_deliveries">1<' in html
    assert "/api/v1/reports/daily.pdf?campaign_id=" in html
    assert logged_in.get("/admin/dashboard?campaign=9999").status_code == 404
    today = datetime.now(UTC).date()
    bad = logged_in.get(f"/admin/dashboard?since={today}&until={today - timedelta(1)}")
    assert bad.status_code == 422
    assert "/admin/dashboard" in logged_in.get("/admin").text


def test_empty_campaign_page(logged_in, small):
    with Session(logged_in.app.state.engine) as s:
        from app.campaigns import service as campaigns
        from models.campaigns import CampaignCreate

        c = campaigns.create_campaign(
            session=s,
            data=CampaignCreate(
                name_zh="空的",
                name_en="Empty",
                opens_at=small.campaign.opens_at,
                closes_at=small.campaign.closes_at,
                kit_item_id=small.campaign.kit_item_id,
            ),
        )
    logged_in.cookies.set("kitrun_lang", "en")
    r = logged_in.get(f"/admin/dashboard?campaign={c.id}")
    assert r.status_code == 200 and "No data yet" in r.text
    assert 'data-k="claims">0<' in r.text


def test_daily_csv_and_exports(logged_in, small):
    today = datetime.now(UTC).date()
    r = logged_in.get(f"/api/v1/reports/daily.csv?campaign_id={small.campaign.id}&since={today}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = _rows(r.content)
    assert list(rows[0]) == [
        "section", "id", "name_zh", "name_en", "claims", "handovers", "deliveries",
        "scans", "refused_scans", "stock_movements", "kits_in", "kits_out",
    ]  # fmt: skip
    schools = {int(x["id"]): x for x in rows if x["section"] == "school"}
    assert schools[small.roster_school.id]["claims"] == "3"
    assert schools[small.roster_school.id]["deliveries"] == "1"
    assert schools[small.manual_school.id]["handovers"] == "1"
    points = {int(x["id"]): x for x in rows if x["section"] == "point"}
    assert points[small.point.id]["handovers"] == "2" and points[small.point.id]["scans"] == "2"
    [total] = [x for x in rows if x["section"] == "total"]
    assert (total["claims"], total["handovers"], total["deliveries"]) == ("6", "2", "1")
    claims = _rows(
        logged_in.get(f"/api/v1/claims.csv?campaign_id={small.campaign.id}&reason=count").content,
        notice=True,
    )
    assert len(claims) == 6 and {"id", "status", "school"} <= set(claims[0])
    scans = _rows(logged_in.get("/api/v1/scans.csv?reason=count").content, notice=True)
    assert len(scans) == 2 and {"scan_id", "result", "point"} <= set(scans[0])
    ledger = _rows(logged_in.get("/api/v1/stock/movements.csv").content)
    assert {"movement", "kind", "on_hand_change"} <= set(ledger[0])


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_daily_pdf_renders_with_cjk(logged_in, small, tmp_path, lang):
    today = datetime.now(UTC).date()
    r = logged_in.get(
        f"/api/v1/reports/daily.pdf?campaign_id={small.campaign.id}&since={today}&lang={lang}"
    )
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(r.content)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M) and "595.276 x 841.89" in info  # one A4 page
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if "WenQuanYi" in line]
    assert cjk and all(" yes yes " in line for line in cjk), fonts
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    # one language: the campaign's name and every heading in the report's language only
    zh, en = ("测试发放", "日报", "期间申领", "学校"), ("Test round", "Daily report", "Claims in")
    mine, other = (zh, en) if lang == "zh_CN" else (en, zh)
    assert all(word in text for word in mine), text
    assert not any(word in text for word in other), text
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    shutil.copy(png, f"/tmp/dash/report-{lang}.png") if shutil.os.path.isdir("/tmp/dash") else None
    from PIL import Image

    img = Image.open(png).convert("L")
    dark = sum(img.histogram()[:128])
    assert dark > 2000  # text and bars, not a blank page


def test_audit_trail(logged_in, small):
    """A stock change, a claim decision and a handover are in the trail, per object and listed."""
    with Session(logged_in.app.state.engine, expire_on_commit=False) as s:
        mv = f.move(
            s,
            "adjust",
            {"item_id": small.campaign.kit_item_id, "location_id": small.depot.id, "quantity": 3},
            reason="found",
            user_id=small.diplomat.id,
        )
    r = logged_in.get("/api/v1/audit?object_type=stock_movement&object_id=" + str(mv.id))
    [entry] = r.json()["items"]
    assert entry["action"] == "stock.adjust" and entry["user"] == "dip"
    assert entry["after"]["lines"][0]["quantity"] == 3 and entry["after"]["reason"] == "found"
    b2 = small.claims["b2"].id
    [decision] = logged_in.get(f"/api/v1/audit?object_type=claim&object_id={b2}").json()["items"]
    assert decision["action"] == "claim.reject"
    assert (decision["before"]["status"], decision["after"]["status"]) == ("submitted", "rejected")
    a1 = small.claims["a1"].id
    r = logged_in.get(f"/api/v1/audit?object_type=claim&object_id={a1}&action=claim.handover")
    [handover] = r.json()["items"]
    assert handover["before"]["status"] == "allocated"
    assert handover["after"]["status"] == "handed_over"
    assert handover["after"]["handed_over_location_id"] == small.point.id
    page = logged_in.get(f"/admin/audit?object_type=claim&object_id={a1}")
    assert page.status_code == 200 and "claim.handover" in page.text
    listed = logged_in.get("/admin/audit?action=claim.approve")
    assert listed.text.count("<td>claim.approve</td>") == 2
    rows = _rows(logged_in.get("/api/v1/audit.csv?object_type=claim").content)
    assert list(rows[0]) == [
        "id", "at_utc", "user", "action", "object_type", "object_id", "changed", "before", "after",
    ]  # fmt: skip
    assert {x["action"] for x in rows} >= {"claim.approve", "claim.reject", "claim.handover"}
    today = datetime.now(UTC).date()
    assert (
        logged_in.get(f"/admin/audit?since={today}&until={today - timedelta(1)}").status_code == 422
    )
