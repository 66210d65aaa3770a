"""One set of named date forms, in the district's time zone, on every page (issue 17)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import qrcode
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from app.core.localtime import FORMATS, show, span
from app.inventory import ledger
from models.claims import Claim
from models.inventory import StockMovement
from tests.pickup import factories as pf
from tests.pickup.test_pickup_api import bearer, body, login

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
NEW_YORK = "America/New_York"  # UTC-5 in December: 03:05 UTC is the evening before


def test_the_named_forms_in_the_districts_zone() -> None:
    utc = datetime(2026, 12, 2, 3, 5, 9, tzinfo=UTC)
    naive = utc.replace(tzinfo=None)  # as SQLite returns it: UTC
    for value in (utc, naive, utc.isoformat()):
        assert show(value, NEW_YORK) == "2026-12-01 22:05"
        assert show(value, NEW_YORK, "seconds") == "2026-12-01 22:05:09"
        assert show(value, NEW_YORK, "date") == "2026-12-01"
        assert show(value, NEW_YORK, "time") == "22:05"
    assert show(utc, "Asia/Shanghai") == "2026-12-02 11:05"
    # a calendar day (a birth date, an expiry) has no zone: it is never shifted
    assert show(date(2001, 2, 3), NEW_YORK, "date") == "2001-02-03"
    assert show("2001-02-03", NEW_YORK, "date") == "2001-02-03"
    assert show(None, NEW_YORK) == ""
    with pytest.raises(KeyError):
        show(utc, NEW_YORK, "%Y-%m-%d")  # only the named forms
    end = datetime(2026, 12, 2, 3, 35, tzinfo=UTC)
    assert span(utc, end, NEW_YORK) == "2026-12-01 22:05–22:35"
    assert span(utc, datetime(2026, 12, 2, 6, 0, tzinfo=UTC), NEW_YORK) == (
        "2026-12-01 22:05–2026-12-02 01:00"
    )


# Formatting a moment in a template by hand skips the district's zone (and the named forms).
AD_HOC = re.compile(r"strftime|isoformat|%[YmdHMSyIpbBaA]\b|\|\s*local\(\s*['\"](?P<form>[^'\"]*)")


def test_templates_use_only_the_named_forms() -> None:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for m in AD_HOC.finditer(line):
                if m.group("form") is not None and m.group("form") in FORMATS:
                    continue
                found.append(f"{path.relative_to(TEMPLATES)}:{n}: {m.group(0)}")
    assert not found, "format dates with |local('date'|'datetime'|'time'|'seconds'):\n" + "\n".join(
        found
    )
    assert list(TEMPLATES.rglob("*.html"))  # the scan saw the templates


def test_a_utc_moment_shows_in_the_districts_zone_on_every_staff_page(settings) -> None:  # noqa: ANN001
    from app.main import create_app

    app = create_app(settings.model_copy(update={"timezone": NEW_YORK}))
    try:
        with TestClient(app, base_url="http://testserver") as client:
            _check_pages(client)
    finally:
        app.state.engine.dispose()


def _check_pages(client: TestClient) -> None:
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        w = pf.world(s)
        c = pf.claim(s, w)
    # A phone that scanned at 03:05:09 UTC and sent it later (an offline scan): the claim was
    # handed over and the scan logged at that moment.
    stored = datetime(2026, 1, 15, 3, 5, 9, tzinfo=UTC)
    vol = bearer(client, "vol")
    first = body(c.token, w.point.id, scanned_at=stored.isoformat(), queued=True)
    live = client.post("/api/v1/scans", json=first, headers=vol)
    assert live.json()["ok"], live.text
    with Session(client.app.state.engine) as s:
        assert s.get(Claim, c.id).handed_over_at == stored
        s.execute(update(Claim).where(Claim.id == c.id).values(submitted_at=stored))
        # a receipt recorded at that moment (movements are append-only: written so, not changed)
        mv = StockMovement(kind="receive", reference="test:tz", created_at=stored)
        s.add(mv)
        s.flush()
        ledger.apply(s, mv, ledger.Delta(w.kit.id, w.lot.id, w.point.id, on_hand=1))
        s.commit()
    local, local_s, utc = "2026-01-14 22:05", "2026-01-14 22:05:09", "2026-01-15 03:05"

    # A second live scan: the API keeps UTC ISO 8601 (scanner.js shows it in the zone).
    again = client.post(
        "/api/v1/scans", json=body(c.token, w.point.id), headers=bearer(client, "vol")
    )
    at = again.json()["handed_over"]["at"]
    assert datetime.fromisoformat(at) == stored, at
    assert datetime.fromisoformat(at).utcoffset() is not None, at  # never a bare local time
    # The photo scan's verdict, rendered by the server: the same form as the live scan's.
    login(client, "vol")
    png = io.BytesIO()
    qrcode.make(c.token).save(png)
    photo = client.post(
        f"/scan/{w.point.id}/photo",
        data={"nonce": "ph-tz", "csrf_token": client.cookies.get("kitrun_csrf")},
        files={"photo": ("qr.png", png.getvalue(), "image/png")},
    )
    assert f"已于 {local} 在" in photo.text, photo.text[-3000:]
    assert f'data-tz="{NEW_YORK}"' in photo.text
    client.post("/logout", data={"csrf_token": client.cookies.get("kitrun_csrf")})

    client.cookies.clear()
    login(client, "dip")
    client.get("/lang/en")
    pages = {
        f"/admin/stock/card?item_id={w.kit.id}": [local],
        f"/admin/claims/{c.id}": [local],
        f"/admin/pickup/claims/{c.id}": [local, local_s],
        "/admin/pickup/scans": [local_s],
    }
    for path, shown in pages.items():
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        for text in shown:
            assert text in r.text, (path, text, re.findall(r"<td>20[^<]*<", r.text))
        assert utc not in r.text, (path, "shown in UTC")
