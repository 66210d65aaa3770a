"""Safe documents: data never becomes reportlab markup (no fetch, no 500) nor a CSV formula."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session

from app.campaigns import service as campaigns
from app.core import csv_out
from app.inventory import service as inventory
from app.schools import service as schools
from labels import sample_route
from labels.route import render_route_sheets
from models.campaigns import CampaignUpdate
from models.inventory import ItemUpdate, LocationUpdate, MovementIn
from models.schools import SchoolUpdate
from tests import factories as f
from tests.dashboard.factories import small_campaign

HYPERLINK = '=HYPERLINK("http://x")'
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class _Listener(BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:  # noqa: N802
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A local HTTP server that records every request made to it."""
    hits: list[str] = []
    handler = type("Handler", (_Listener,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()


def _pdftotext(pdf: bytes, tmp_path) -> str:  # noqa: ANN001
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_daily_pdf_prints_markup_in_names_as_text(client, settings, listener, tmp_path, lang):
    port, hits = listener
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        small = small_campaign(s, settings)
        campaigns.update_campaign(
            session=s,
            campaign_id=small.campaign.id,
            user_id=small.diplomat.id,
            data=CampaignUpdate(
                name_en=f'<img src="http://127.0.0.1:{port}/x" width="9" height="9"/> <b>&',
                name_zh="<b>&amp; 春季",
            ),
        )
        schools.update_school(
            session=s, school_id=small.roster_school.id, data=SchoolUpdate(name_en="<i>R&D</i>")
        )
    r = client.post("/api/v1/auth/token", json={"username": "dip", "password": f.PASSWORD})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    today = datetime.now(UTC).date()
    r = client.get(
        f"/api/v1/reports/daily.pdf?campaign_id={small.campaign.id}&since={today}&lang={lang}",
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert hits == []  # the <img> was never fetched
    text = _pdftotext(r.content, tmp_path)
    if lang == "en":  # one language per document: the campaign's name in the reader's
        assert f'<img src="http://127.0.0.1:{port}/x"' in text and "<b>&" in text
        assert "<i>R&D</i>" in text
    else:
        assert "<b>&amp; 春季" in text


def test_route_sheet_prints_markup_in_stops_as_text(listener, tmp_path):
    port, hits = listener
    sheet = sample_route(2)
    van = sheet.vehicles[0]
    stop = dataclasses.replace(
        van.stops[0],
        name=f'<img src="http://127.0.0.1:{port}/stop"/><b>&',
        notes="<font size=40>&lt;</font>",
    )
    hostile = dataclasses.replace(
        van, driver=f'<img src="http://127.0.0.1:{port}/driver"/>', stops=[stop, *van.stops[1:]]
    )
    sheet = dataclasses.replace(sheet, run_name="<b>Run & co", vehicles=[hostile])
    text = "".join(_pdftotext(render_route_sheets(sheet), tmp_path).split())  # cells wrap
    assert hits == []
    assert "<b>&" in text and "<b>Run&co" in text and "<fontsize=40>&lt;</font>" in text


# ---------------------------------------------------------------- CSV


def test_cell_rule():
    assert csv_out.cell(HYPERLINK) == "'" + HYPERLINK
    for text in ("=1+2", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "-", "+33 6 12 34 56 78"):
        assert csv_out.cell(text) == "'" + text
    for value in (-3, -0.5, 0, "-3", "-0.5", "12", "a=b", " =1", "", "张三"):
        assert csv_out.cell(value) == value
    assert csv_out.cell(None) == ""
    assert csv_out.cell(date(2024, 5, 6)) == "2024-05-06"


@pytest.fixture
def hostile(client, settings):  # noqa: ANN001, ANN201
    """The small campaign, with formulas in a claim, a school, a point, an item, a stock note
    and a username; returns the diplomat's bearer headers."""
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        small = small_campaign(s, settings)
        kit = small.campaign.kit_item_id
        schools.update_school(
            session=s,
            school_id=small.manual_school.id,
            data=SchoolUpdate(name_en=HYPERLINK, name_zh="=1+2"),
        )
        inventory.update_location(
            session=s,
            location_id=small.point.id,
            data=LocationUpdate(name_en="@SUM(A1)", name_zh="=1+2"),
        )
        inventory.update_item(
            session=s, item_id=kit, data=ItemUpdate(name_en=HYPERLINK, name_zh="@SUM(A1)")
        )
        f.move(s, "receive", {"item_id": kit, "location_id": small.depot.id, "quantity": 3})
        inventory.record_movement(
            session=s,
            data=MovementIn(
                kind="adjust",
                reason="damaged",
                note="=1+2",
                lines=[{"item_id": kit, "location_id": small.depot.id, "quantity": -1}],
            ),
            user_id=small.diplomat.id,
        )
        setup = {"campaign": small.campaign, "school": small.manual_school, "point": small.point}
        small.campaign.asks_phone = small.campaign.asks_wechat = True  # the form asks both
        s.add(small.campaign)
        s.commit()
        f.submit(
            s,
            settings,
            setup,
            student_number="M9",
            name_latin=HYPERLINK,
            name_zh="=1+2",
            wechat="@SUM(A1)",
            phone="+33 6 12 34 56 78",  # (a phone is parsed now: stored as +33612345678)
        )
        mallory = f.user(s, "@sum(a1)")
        campaigns.update_campaign(
            session=s,
            campaign_id=small.campaign.id,
            user_id=mallory.id,
            data=CampaignUpdate(name_en="Spring"),
        )
    r = client.post("/api/v1/auth/token", json={"username": "dip", "password": f.PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}, small


def _cells(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


EXPORTS = {
    "claims": ("/api/v1/claims.csv?reason=check", {HYPERLINK, "=1+2", "@SUM(A1)"}),
    "scans": ("/api/v1/scans.csv?reason=check", {HYPERLINK, "@SUM(A1)"}),
    "stock-levels": ("/api/v1/stock/levels.csv", {HYPERLINK, "=1+2", "@SUM(A1)"}),
    "stock-movements": ("/api/v1/stock/movements.csv", {"=1+2", "@SUM(A1)"}),
    "daily-report": ("/api/v1/reports/daily.csv?campaign_id={c}", {HYPERLINK, "=1+2", "@SUM(A1)"}),
    "audit": ("/api/v1/audit.csv", {"@sum(a1)"}),
}


@pytest.mark.parametrize("export", list(EXPORTS))
def test_csv_export_defuses_formulas(client, hostile, export):
    headers, small = hostile
    url, expected = EXPORTS[export]
    r = client.get(url.format(c=small.campaign.id), headers=headers)
    assert r.status_code == 200, r.text
    rows = _cells(r.content)
    cells = [c for row in rows[1:] for c in row]
    for text in expected:
        assert "'" + text in cells, (text, export)
    live = [c for c in cells if c.startswith(csv_out.TRIGGERS) and not NUMBER.fullmatch(c)]
    assert live == [], f"live formulas in {export}: {live}"
    if export == "stock-movements":  # a negative quantity stays a number
        column = rows[0].index("on_hand_change")
        assert "-1" in [row[column] for row in rows[1:]]
