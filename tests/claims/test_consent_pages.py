"""The student's pages and privacy: the claim form shows the campaign's notice in the page's
language and asks only what the campaign needs; the status page says what is held, until
when, and nothing once it is erased."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import Session, select

from app.campaigns import notices
from app.core.localtime import to_local
from models.base import utcnow
from models.campaigns import Campaign
from models.claims import PERSONAL_FIELDS, Claim
from models.privacy import NoticeIn
from tests.factories import campaign_setup

ZH_TEXT = "领馆为向在校学生发放防疫健康包收集您的个人信息。"
EN_TEXT = "The consulate collects your personal data to give health kits"


def _setup(client, **kw) -> dict:  # noqa: ANN001, ANN003
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        return campaign_setup(s, **kw)


def _page(client, setup: dict, lang: str) -> str:  # noqa: ANN001
    r = client.get(f"/claim/{setup['campaign'].public_id}?lang={lang}")
    assert r.status_code == 200
    return html.unescape(r.text)


def _details(page: str) -> str:
    found = re.search(r'<details class="notice".*?</details>', page, re.S)
    assert found, "no notice block"
    return found.group(0)


def _names(page: str) -> set[str]:
    """The names of the claim form's fields."""
    form = re.search(r'<form method="post" class="form" id="claim-form".*?</form>', page, re.S)
    return set(re.findall(r'name="([a-z_]+)"', form.group(0)))


@pytest.mark.parametrize(
    ("lang", "shown", "hidden"), [("zh_CN", ZH_TEXT, EN_TEXT), ("en", EN_TEXT, ZH_TEXT)]
)
def test_the_form_shows_the_notice_in_the_pages_language(client, lang, shown, hidden):
    setup = _setup(client)
    page = _page(client, setup, lang)
    block = _details(page)
    assert shown in block and hidden not in page  # one language per page
    assert "<summary>" in block
    assert '<input type="hidden" name="notice_version" value="1">' in page
    if lang == "en":
        assert "I have read the privacy notice (version 1) and agree." in page


def test_the_form_shows_a_new_version_at_once(client):
    setup = _setup(client)
    with Session(client.app.state.engine) as s:
        notices.publish(
            session=s,
            campaign_id=setup["campaign"].id,
            data=NoticeIn(text_zh="第二版", text_en="Second version"),
            user_id=None,
        )
    page = _page(client, setup, "en")
    assert "Second version" in _details(page) and EN_TEXT not in page
    assert 'name="notice_version" value="2"' in page


def test_the_form_asks_only_what_the_campaign_needs(client):
    bare = _setup(client, delivery=False)
    names = _names(_page(client, bare, "en"))
    assert {"name_latin", "birth_date", "consent", "notice_version"} <= names
    # a phone is asked of everyone (students under 18 need one), kept only where needed
    assert "phone" in names and not names & {"wechat", "address", "lat", "lon"}
    assert "needed for a delivery and for students under 18" in _page(client, bare, "en")
    assert "Name in Latin letters, as on your student card" in _page(client, bare, "en")
    with Session(client.app.state.engine) as s:
        c = s.get(Campaign, bare["campaign"].id)
        c.asks_phone = c.asks_wechat = c.asks_passport_name = True
        s.add(c)
        s.commit()
    page = _page(client, bare, "en")
    assert {"phone", "wechat"} <= _names(page) and "address" not in _names(page)
    assert "Name as in your passport" in page and "as on your student card" not in page


def test_a_delivery_campaign_asks_address_and_phone_for_deliveries_only(client):
    setup = _setup(client)  # with a depot: deliveries possible
    page = _page(client, setup, "en")
    delivery = re.search(r'<div id="delivery-fields".*?</div>', page, re.S).group(0)
    assert 'name="address"' in delivery and 'name="phone"' not in delivery
    assert page.count('name="phone"') == 1 and 'name="wechat"' not in page


def test_a_form_sent_with_an_old_notice_is_shown_again_with_the_new_one(client):
    setup = _setup(client)
    url = f"/claim/{setup['campaign'].public_id}?lang=en"
    client.get(url)
    with Session(client.app.state.engine) as s:
        notices.publish(
            session=s,
            campaign_id=setup["campaign"].id,
            data=NoticeIn(text_zh="第二版", text_en="Second version"),
            user_id=None,
        )
    form = {
        "school_id": str(setup["school"].id),
        "name_latin": "Zhang San",
        "student_number": "S001",
        "birth_date": "2001-02-03",
        "fulfilment": "pickup",
        "pickup_location_id": str(setup["point"].id),
        "consent": "true",
        "notice_version": "1",
        "csrf_token": client.cookies["kitrun_csrf"],
    }
    r = client.post(url, data=form)
    page = html.unescape(r.text)
    assert r.status_code == 409 and "The privacy notice has changed" in page
    assert "Second version" in page and 'name="notice_version" value="2"' in page
    consent = re.search(r'<input type="checkbox" name="consent"[^>]*>', page).group(0)
    assert "checked" not in consent  # to be given again, for the new text
    with Session(client.app.state.engine) as s:
        assert s.exec(select(Claim)).all() == []
    # any other refusal shown with the new notice asks the consent again too
    r = client.post(url, data={**form, "name_zh": "张" * 60})
    consent = re.search(r'<input type="checkbox" name="consent"[^>]*>', r.text).group(0)
    assert r.status_code == 422 and "checked" not in consent
    r = client.post(url, data={**form, "name_zh": "张" * 60, "notice_version": "2"})
    consent = re.search(r'<input type="checkbox" name="consent"[^>]*>', r.text).group(0)
    assert r.status_code == 422 and "checked" in consent  # the same notice: kept as given
    r = client.post(url, data={**form, "notice_version": "2"}, follow_redirects=False)
    assert r.status_code == 303


def _claim(client, setup: dict, **extra) -> str:  # noqa: ANN003
    url = f"/claim/{setup['campaign'].public_id}"
    client.get(url)
    form = {
        "school_id": str(setup["school"].id),
        "name_zh": "张三",
        "name_latin": "Zhang San",
        "student_number": "S001",
        "birth_date": "2001-02-03",
        "fulfilment": "pickup",
        "pickup_location_id": str(setup["point"].id),
        "consent": "true",
        "notice_version": "1",
        "csrf_token": client.cookies["kitrun_csrf"],
        **extra,
    }
    r = client.post(url, data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def _tz(client) -> str:  # noqa: ANN001
    return client.app.state.settings.timezone


def _held(page: str) -> str:
    found = re.search(r'<section id="held".*?</section>', page, re.S)
    assert found, "no 'What we hold about you' section"
    return found.group(0)


def test_the_status_page_says_what_we_hold_and_until_when(client):
    setup = _setup(client, asks_wechat=True)
    where = _claim(client, setup, wechat="zs-wx", phone="0612345678", address="1 rue X")
    page = html.unescape(client.get(where + "?lang=en").text)
    held = _held(page)
    assert "What we hold about you" in held
    for value in ("张三", "Zhang San", "2001-02-03", "S001", "zs-wx"):
        assert value in held
    assert "0612345678" not in page and "1 rue X" not in page  # not kept: a pickup, not asked
    with Session(client.app.state.engine) as s:
        claim = s.exec(select(Claim)).one()
        campaign = s.get(Campaign, claim.campaign_id)
        until = to_local(notices.erase_after(campaign, minor=False), _tz(client))
    assert "You accepted the privacy notice version 1 on" in held
    assert f"Your personal data will be erased on {until:%Y-%m-%d}." in held
    assert "contact the consulate" in held
    zh = _held(html.unescape(client.get(where + "?lang=zh_CN").text))
    assert "张三" in zh and "2001-02-03" in zh


def test_once_erased_the_status_page_shows_nothing_personal(client):
    setup = _setup(client)
    where = _claim(client, setup)
    erased = utcnow()
    with Session(client.app.state.engine) as s:
        claim = s.exec(select(Claim)).one()
        for name, value in PERSONAL_FIELDS.items():
            setattr(claim, name, value)
        claim.erased_at = erased
        s.add(claim)
        s.commit()
    r = client.get(where + "?lang=en")
    assert r.status_code == 200
    held = _held(html.unescape(r.text))
    assert f"Your personal data was erased on {to_local(erased, _tz(client)):%Y-%m-%d}." in held
    assert "Chinese name" not in held and "will be erased" not in held
    assert "Zhang San" not in r.text and "S001" not in r.text
