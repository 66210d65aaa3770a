"""Access on request: everything about one student, nothing about another, as JSON and PDF."""

from __future__ import annotations

import json
import subprocess

from sqlmodel import Session, select

from models.audit import AuditEntry
from models.campaigns import Campaign
from models.claims import PERSONAL_FIELDS
from tests import factories as f


def _two_students(client):  # noqa: ANN001, ANN202
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = f.campaign_setup(s, kits=5)
        campaign = s.get(Campaign, setup["campaign"].id)
        campaign.asks_phone = campaign.asks_wechat = True
        s.add(campaign)
        s.commit()
        settings = client.app.state.settings
        a = f.submit(
            s, settings, setup, name_zh="张三", phone="+33 6 11 22 33 44", wechat="zs_wx_1"
        )
        b = f.submit(
            s,
            settings,
            setup,
            name_latin="Wang Wu",
            student_number="S003",
            birth_date=__import__("datetime").date(2000, 1, 1),
            phone="+33 7 99 88 77 66",
        )
    return a, b


def test_the_export_holds_every_personal_field_and_nobody_else(client) -> None:  # noqa: ANN001
    headers = f.api_headers(client)
    a, b = _two_students(client)
    r = client.get(f"/api/v1/claims/{a.id}/personal-data", headers=headers)
    assert r.status_code == 422  # a reason is required
    r = client.get(
        f"/api/v1/claims/{a.id}/personal-data",
        params={"reason": "request by the student"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    [claim] = body["claims"]
    for field in PERSONAL_FIELDS:  # every personal field stored, as stored
        stored = getattr(a, field)
        assert claim["personal"][field] == (
            stored.isoformat() if hasattr(stored, "isoformat") else stored
        ), field
    assert claim["notice"]["version"] == 1 and claim["history"]
    [entry] = body["roster_entries"]
    assert (entry["student_number"], entry["name"]) == ("S001", "Zhang San")
    text = json.dumps(body, ensure_ascii=False)
    for other in ("Wang Wu", "S003", "2000-01-01", "+33799887766", "李四", "S002"):
        assert other not in text, other
    with Session(client.app.state.engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "student.access")).one()
        assert entry.after["reason"] == "request by the student"


def test_the_pdf_is_in_the_readers_language(client, tmp_path) -> None:  # noqa: ANN001
    headers = f.api_headers(client)
    a, _b = _two_students(client)
    for lang, heading in (
        ("zh_CN", "防疫包发放系统保存的关于您的信息"),
        ("en", "What kitrun holds about you"),
    ):
        r = client.get(
            f"/api/v1/claims/{a.id}/personal-data.pdf",
            params={"reason": "request", "lang": lang},
            headers=headers,
        )
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        path = tmp_path / f"{lang}.pdf"
        path.write_bytes(r.content)
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout
        assert heading in text and "ZHANG San" in text and "+33611223344" in text
        assert "Wang Wu" not in text
        other = "What kitrun holds about you" if lang == "zh_CN" else "保存的关于您的信息"
        assert other not in text


def test_the_diplomat_pages_export_and_erase(client) -> None:  # noqa: ANN001
    a, _b = _two_students(client)
    f.login_page(client)
    page = client.get(f"/admin/claims/{a.id}/privacy")
    assert page.status_code == 200 and a.short_code in page.text
    import re

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        f"/admin/claims/{a.id}/erase", data={"csrf_token": csrf, "reason": "asked", "confirm": ""}
    )
    assert r.status_code == 422 and "cannot be undone" in r.text or "无法撤销" in r.text
    r = client.post(
        f"/admin/claims/{a.id}/erase",
        data={"csrf_token": csrf, "reason": "asked", "confirm": "yes"},
    )
    assert r.status_code == 200, r.text
    with Session(client.app.state.engine) as s:
        from models.claims import Claim

        assert s.get(Claim, a.id).erased_at is not None
