"""Privacy notices: versions per campaign (API and the diplomat's page), the public notice, and
the campaign's retention and what its form asks, as the campaign page edits them."""

from __future__ import annotations

import html

import pytest
from sqlmodel import Session, select

from models.audit import AuditEntry
from models.campaigns import Campaign
from models.claims import Claim
from tests.factories import api_headers, campaign_setup, login_page


@pytest.fixture
def setup(client) -> dict:  # noqa: ANN001
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        return campaign_setup(s)


def _campaign(client, campaign_id: int) -> Campaign:  # noqa: ANN001
    with Session(client.app.state.engine) as s:
        return s.get(Campaign, campaign_id)


# ---------------------------------------------------------------- API


def test_a_new_campaign_has_version_1_and_a_post_makes_version_2(client, setup):
    h = api_headers(client)
    cid, public_id = setup["campaign"].id, setup["campaign"].public_id
    r = client.get(f"/api/v1/campaigns/{cid}/notices", headers=h)
    assert r.status_code == 200, r.text
    assert [n["version"] for n in r.json()] == [1]
    assert "90" in r.json()[0]["text_en"] and "90" in r.json()[0]["text_zh"]  # its retention
    r = client.post(
        f"/api/v1/campaigns/{cid}/notices",
        headers=h,
        json={"text_zh": "新的隐私声明", "text_en": "The new notice"},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["version"], r.json()["campaign_id"]) == (2, cid)
    listed = client.get(f"/api/v1/campaigns/{cid}/notices", headers=h).json()
    assert [n["version"] for n in listed] == [2, 1]
    public = client.get(f"/api/v1/public/campaigns/{public_id}/notice")
    assert public.status_code == 200
    assert {k: public.json()[k] for k in ("version", "text_zh", "text_en")} == {
        "version": 2,
        "text_zh": "新的隐私声明",
        "text_en": "The new notice",
    }
    with Session(client.app.state.engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "campaign.notice")).one()
    assert entry.object_id == str(cid) and entry.after["version"] == 2


def test_notice_refusals(client, setup):
    h = api_headers(client)
    cid = setup["campaign"].id
    url = f"/api/v1/campaigns/{cid}/notices"
    assert client.post(url, headers=h, json={"text_zh": "中", "text_en": ""}).status_code == 422
    assert client.post(url, headers=h, json={"text_zh": "中"}).status_code == 422
    too_long = {"text_zh": "中", "text_en": "x" * 20001}
    assert client.post(url, headers=h, json=too_long).status_code == 422
    extra = {"text_zh": "中", "text_en": "en", "version": 9}
    assert client.post(url, headers=h, json=extra).status_code == 422
    body = {"text_zh": "中", "text_en": "en"}
    assert client.post("/api/v1/campaigns/999999/notices", headers=h, json=body).status_code == 404
    assert client.get("/api/v1/campaigns/999999/notices", headers=h).status_code == 404
    assert client.get("/api/v1/public/campaigns/nope/notice").status_code == 404
    assert client.post(url, json=body).status_code == 401  # no account
    assert client.get(url).status_code == 401
    assert [n["version"] for n in client.get(url, headers=h).json()] == [1]


def test_an_api_claim_with_an_old_notice_version_is_a_409(client, setup):
    h = api_headers(client)
    cid, public_id = setup["campaign"].id, setup["campaign"].public_id
    shown = client.get(f"/api/v1/public/campaigns/{public_id}/notice").json()["version"]
    client.post(
        f"/api/v1/campaigns/{cid}/notices", headers=h, json={"text_zh": "二", "text_en": "2"}
    )
    body = {
        "school_id": setup["school"].id,
        "name_latin": "Zhang San",
        "student_number": "S001",
        "birth_date": "2001-02-03",
        "fulfilment": "pickup",
        "pickup_location_id": setup["point"].id,
        "consent": True,
    }
    url = f"/api/v1/campaigns/{public_id}/claims"
    r = client.post(url, json={**body, "notice_version": shown})
    assert r.status_code == 409 and r.json()["error"]["code"] == "notice_changed"
    with Session(client.app.state.engine) as s:
        assert s.exec(select(Claim)).all() == []
    r = client.post(url, json={**body, "notice_version": shown + 1})
    assert r.status_code == 201, r.text
    with Session(client.app.state.engine) as s:
        claim = s.exec(select(Claim)).one()
        from models.privacy import PrivacyNotice

        assert s.get(PrivacyNotice, claim.notice_id).version == 2
        assert claim.consented_at is not None


# ---------------------------------------------------------------- the diplomat's page


def test_the_campaign_page_shows_the_notice_and_publishes_a_new_version(client, setup):
    login_page(client)
    cid = setup["campaign"].id
    page = html.unescape(client.get("/admin/campaigns?lang=en").text)
    assert "Privacy notice" in page and "Version 1, published" in page
    assert "The consulate collects your personal data" in page  # English
    assert "领馆为向在校学生发放防疫健康包" in page  # and Chinese
    assert f'action="/admin/campaigns/{cid}/notice"' in page
    r = client.post(
        f"/admin/campaigns/{cid}/notice",
        data={
            "text_zh": "第二版声明",
            "text_en": "Second notice",
            "csrf_token": client.cookies["kitrun_csrf"],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = html.unescape(client.get("/admin/campaigns?lang=en").text)
    assert "Version 2, published" in page and "第二版声明" in page and "Second notice" in page
    assert "The consulate collects your personal data" not in page  # only the current one
    empty = client.post(
        f"/admin/campaigns/{cid}/notice",
        data={"text_zh": "第三版", "text_en": " ", "csrf_token": client.cookies["kitrun_csrf"]},
    )
    assert empty.status_code == 422 and "in Chinese and in English" in empty.text
    gone = client.post(
        "/admin/campaigns/999999/notice",
        data={"text_zh": "中", "text_en": "en", "csrf_token": client.cookies["kitrun_csrf"]},
    )
    assert gone.status_code == 404


def _save(client, cid: int, **fields) -> object:  # noqa: ANN001, ANN003
    data = {"campaign_id": str(cid), "status": "open", **fields}
    return client.post(
        "/admin/campaigns?lang=en",
        data={**data, "csrf_token": client.cookies["kitrun_csrf"]},
        follow_redirects=False,
    )


def test_the_campaign_form_edits_retention_and_what_the_form_asks(client, setup):
    login_page(client)
    cid = setup["campaign"].id
    page = client.get("/admin/campaigns").text
    for name in ("retention_days", "retention_days_minors", "asks_phone", "asks_wechat",
                 "asks_passport_name"):  # fmt: skip
        assert f'name="{name}"' in page
    r = _save(client, cid, retention_days="60", retention_days_minors="14", asks_phone="true",
              asks_passport_name="true")  # fmt: skip
    assert r.status_code == 303, r.text
    c = _campaign(client, cid)
    assert (c.retention_days, c.retention_days_minors) == (60, 14)
    assert (c.asks_phone, c.asks_wechat, c.asks_passport_name) == (True, False, True)
    # unticked: no longer asked; empty retention fields: unchanged
    assert _save(client, cid, asks_wechat="true").status_code == 303
    c = _campaign(client, cid)
    assert (c.asks_phone, c.asks_wechat, c.asks_passport_name) == (False, True, False)
    assert (c.retention_days, c.retention_days_minors) == (60, 14)


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"retention_days": "20", "retention_days_minors": "30"}, 422, "Minors' data cannot"),
        ({"retention_days": "91"}, 422, "between 0 and 90 days"),
        ({"retention_days_minors": "-1"}, 422, "between 0 and 90 days"),
        ({"retention_days": "ninety"}, 422, "the numbers"),
    ],
)
def test_bad_retention_is_a_clear_4xx(client, setup, fields, status, message):
    login_page(client)
    cid = setup["campaign"].id
    r = _save(client, cid, **fields)
    assert r.status_code == status and message in html.unescape(r.text)
    c = _campaign(client, cid)
    assert (c.retention_days, c.retention_days_minors) == (90, 30)


def test_a_new_campaign_from_the_page_takes_its_retention_and_asks(client, setup):
    login_page(client)
    r = client.post(
        "/admin/campaigns?lang=en",
        data={
            "name_zh": "第二轮",
            "name_en": "Second round",
            "opens_at": "2030-01-01T09:00",
            "closes_at": "2030-02-01T09:00",
            "kit_item_id": str(setup["kit"].id),
            "school_ids": str(setup["school"].id),
            "retention_days": "45",
            "retention_days_minors": "10",
            "asks_wechat": "true",
            "csrf_token": client.cookies["kitrun_csrf"],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with Session(client.app.state.engine) as s:
        c = s.exec(select(Campaign).where(Campaign.name_en == "Second round")).one()
        from app.campaigns import notices

        first = notices.current(s, c.id)
    assert (c.retention_days, c.retention_days_minors, c.asks_wechat) == (45, 10, True)
    assert first.version == 1 and "45" in first.text_en  # the standard text, its retention
