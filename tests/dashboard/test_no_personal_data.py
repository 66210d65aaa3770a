"""The dashboard and the reports show no personal data (issue 16, point 7): figures by school,
point, day and run only. Every claim of the small campaign gets distinctive personal values;
none may appear in the dashboard page, its API, the daily report (JSON, CSV) or the PDF's text."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from models.claims import Claim
from tests import factories as f
from tests.dashboard.factories import small_campaign


def _personal(i: int) -> dict[str, str]:
    return {
        "name_latin": f"Qzxjv Wrmplk{i}",
        "name_zh": f"鑫龘{'一二三四五六'[i]}",
        "student_number": f"SNQ77{i}31",
        "email": f"qzxjv.wrmplk{i}@mail-distinct.test",
        "phone": f"+33 6 71 82 93 0{i}",
        "wechat": f"wx_qzxjv_{i}",
        "address": f"{40 + i} impasse Zéphyrine-Quillard, Paris",
    }


@pytest.fixture
def seeded(client, settings) -> tuple[object, list[str]]:  # noqa: ANN001
    """The small campaign, its claims' personal data replaced by values found nowhere else."""
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        small = small_campaign(s, settings)
        values = []
        for i, claim in enumerate(small.claims.values()):
            row = s.get(Claim, claim.id)
            for key, value in _personal(i).items():
                setattr(row, key, value)
                values.append(value)
            s.add(row)
        s.commit()
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
    return small, values


def _leaks(text: str, values: list[str]) -> list[str]:
    return [v for v in values if v in text]


def test_dashboard_and_reports_show_no_personal_data(client, seeded, tmp_path) -> None:  # noqa: ANN001
    small, values = seeded
    c = small.campaign.id
    today = datetime.now(UTC).date()
    week = f"since={today - timedelta(days=7)}&until={today}"
    answers = {}
    for lang in ("en", "zh_CN"):
        answers[f"page {lang}"] = client.get(f"/admin/dashboard?campaign={c}&lang={lang}")
        answers[f"landing {lang}"] = client.get(f"/admin?lang={lang}")
    answers["api"] = client.get(f"/api/v1/dashboard?campaign_id={c}&{week}")
    answers["report"] = client.get(f"/api/v1/reports/daily?campaign_id={c}&{week}")
    answers["report csv"] = client.get(f"/api/v1/reports/daily.csv?campaign_id={c}&{week}")
    for name, r in answers.items():
        assert r.status_code == 200, (name, r.text[:300])
        body = r.content.decode("utf-8-sig")
        assert _leaks(body, values) == [], name
    # the figures are there: the answers are not empty pages
    assert answers["api"].json()["headline"]["claims"] > 0
    # the values are there to find: the claims export (personal data by design) holds them
    export = client.get(f"/api/v1/claims.csv?campaign_id={c}&reason=check").text
    assert len(_leaks(export, values)) > len(values) // 2
    assert "Test round" in answers["page en"].text

    for lang in ("en", "zh_CN"):
        r = client.get(f"/api/v1/reports/daily.pdf?campaign_id={c}&{week}&lang={lang}")
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        pdf = tmp_path / f"report-{lang}.pdf"
        pdf.write_bytes(r.content)
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        # the text layer is readable, the campaign named in the report's language
        assert ("Test round" if lang == "en" else "测试发放") in text
        # pdftotext may break lines: compare without whitespace too
        flat = "".join(text.split())
        squeezed = ["".join(v.split()) for v in values]
        assert _leaks(text, values) == [] and _leaks(flat, squeezed) == [], lang
