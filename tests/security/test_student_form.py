"""The student's claim form: every refusal shows the form again, with what was typed and a
message in the student's language (an over-long field, a stale CSRF token, a bad checkbox)."""

from __future__ import annotations

import html

import pytest
from sqlmodel import Session, select

from models.claims import Claim
from tests.factories import campaign_setup

LONG_NAME = "张" * 60  # the Chinese name takes at most 50 characters


@pytest.fixture
def setup(client):  # noqa: ANN001, ANN201
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        return campaign_setup(s, asks_wechat=True)  # (the form shows WeChat when asked)


def _form(setup: dict, **kw) -> dict:
    return {
        "school_id": str(setup["school"].id),
        "name_zh": "张三",
        "name_latin": "Zhang San",
        "student_number": "S001",
        "birth_date": "2001-02-03",
        "wechat": "zs-wechat",
        "fulfilment": "pickup",
        "pickup_location_id": str(setup["point"].id),
        "consent": "true",
        **kw,
    }


def _claims(client) -> int:  # noqa: ANN001
    with Session(client.app.state.engine) as s:
        return len(s.exec(select(Claim)).all())


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("zh_CN", "“中文姓名”太长：最多 50 个字符。"),
        ("en", "“Chinese name” is too long: at most 50 characters."),
    ],
)
def test_over_long_field_shows_the_form_again_in_the_students_language(
    client, setup, lang, message
):
    url = f"/claim/{setup['campaign'].public_id}?lang={lang}"
    client.get(url)
    r = client.post(
        url, data={**_form(setup, name_zh=LONG_NAME), "csrf_token": client.cookies["kitrun_csrf"]}
    )
    assert r.status_code == 422
    page = html.unescape(r.text)
    assert 'id="claim-form"' in page and message in page
    assert f'value="{LONG_NAME}"' in page and 'value="zs-wechat"' in page  # kept as typed
    assert 'value="S001"' in page and 'value="2001-02-03"' in page
    assert _claims(client) == 0


def test_several_problems_are_all_named(client, setup):
    url = f"/claim/{setup['campaign'].public_id}?lang=en"
    client.get(url)
    form = _form(setup, wechat="w" * 61, phone="1" * 41, consent="")
    r = client.post(url, data={**form, "csrf_token": client.cookies["kitrun_csrf"]})
    page = html.unescape(r.text)
    assert r.status_code == 422
    assert "“WeChat ID” is too long: at most 60 characters." in page
    assert "“Phone” is too long: at most 40 characters." in page
    assert "Please agree to the use of your data" in page


@pytest.mark.parametrize(
    ("lang", "message"),
    [("zh_CN", "表单已过期。请检查填写的内容"), ("en", "The form expired. Check what you typed")],
)
def test_stale_csrf_token_shows_the_form_again_with_a_fresh_token(client, setup, lang, message):
    url = f"/claim/{setup['campaign'].public_id}?lang={lang}"
    client.get(url)
    r = client.post(url, data={**_form(setup), "csrf_token": "from-yesterday"})
    assert r.status_code == 403
    page = html.unescape(r.text)
    assert message in page and 'value="Zhang San"' in page and 'value="zs-wechat"' in page
    assert _claims(client) == 0
    token = client.cookies["kitrun_csrf"]
    assert f'name="csrf_token" value="{token}"' in page  # sending it again works
    r = client.post(url, data={**_form(setup), "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and _claims(client) == 1


def test_a_checkbox_with_an_odd_value_is_not_an_error_page(client, setup):
    url = f"/claim/{setup['campaign'].public_id}?lang=en"
    client.get(url)
    form = _form(setup, consent="maybe", quarantine="perhaps")
    r = client.post(url, data={**form, "csrf_token": client.cookies["kitrun_csrf"]})
    assert r.status_code == 422 and 'id="claim-form"' in r.text
    assert "Please agree to the use of your data" in html.unescape(r.text)
