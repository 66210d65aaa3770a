"""The claim form's errors beside their fields, specific refusals, and the status page's words."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session, select

from app.campaigns import service as campaigns
from models.base import utcnow
from models.campaigns import PickupSlotCreate
from models.claims import Claim
from tests.factories import campaign_setup


def _setup(client, **kw):
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        return campaign_setup(s, **kw)


def _post(client, setup, lang="en", **kw):
    url = f"/claim/{setup['campaign'].public_id}?lang={lang}"
    client.get(url)
    data = {
        "school_id": str(setup["school"].id), "name_latin": "Zhang San", "student_number": "S001",
        "birth_date": "2001-02-03", "fulfilment": "pickup",
        "pickup_location_id": str(setup["point"].id), "consent": "true",
        "csrf_token": client.cookies["kitrun_csrf"], **kw,
    }  # fmt: skip
    return client.post(url, data=data, headers={"accept-language": lang}, follow_redirects=False)


def _tag(html: str, name: str) -> str:
    return re.search(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', html).group(0)


def test_an_empty_birth_date_asks_to_fill_it_in_beside_the_field(client):
    setup = _setup(client)
    r = _post(client, setup, birth_date="", name_zh="张三")
    assert r.status_code == 422
    assert '<span class="field-error" id="birth_date-error">Fill in “Birth date”.</span>' in r.text
    tag = _tag(r.text, "birth_date")
    assert 'aria-invalid="true"' in tag and 'aria-describedby="birth_date-error"' in tag
    assert "autofocus" in tag and r.text.count("autofocus") == 1
    assert "Check your birth date" not in r.text
    # nothing typed is lost, the consent included
    assert 'value="张三"' in r.text and 'value="S001"' in r.text
    assert "checked" in _tag(r.text, "consent")


def test_errors_are_marked_in_the_pages_language_first_one_focused(client):
    setup = _setup(client)
    r = _post(client, setup, lang="zh_CN", name_latin="", consent="")
    assert r.status_code == 422
    assert "autofocus" in _tag(r.text, "name_latin") and "autofocus" not in _tag(r.text, "consent")
    assert 'aria-describedby="consent-error"' in _tag(r.text, "consent")
    assert "请同意" in re.search(r'id="consent-error">([^<]*)<', r.text).group(1)
    assert "checked" not in _tag(r.text, "consent")


def test_refusals_say_which_fields_to_check(client):
    setup = _setup(client)
    unknown = _post(client, setup, student_number="S999")
    assert unknown.status_code == 422
    assert "is not on your school" in unknown.text
    assert 'aria-invalid="true"' in _tag(unknown.text, "student_number")
    assert "aria-invalid" not in _tag(unknown.text, "birth_date")
    # the number exists, the rest differs: birth date and names marked, one message
    minor = {"student_number": "S002", "name_latin": "Li Si", "birth_date": "2009-05-06"}
    for change in ({"birth_date": "2001-02-04"}, {**minor, "phone": "0612345678"}):
        r = _post(client, setup, **change)
        assert r.status_code == 422 and "the Chinese name if the school lists it" in r.text
        for field in ("birth_date", "name_zh", "name_latin"):
            assert 'aria-invalid="true"' in _tag(r.text, field), field
        assert 'aria-describedby="name_zh-error"' in _tag(r.text, "birth_date")
    # the roster holds 李四: the form says the Chinese name is needed
    assert 'id="zh-name-hint"' in client.get(f"/claim/{setup['campaign'].public_id}?lang=en").text


def test_a_minor_without_a_phone_is_asked_for_one(client):
    setup = _setup(client)
    r = _post(client, setup, student_number="S002", name_zh="李四", name_latin="Li Si",
              birth_date="2009-05-06")  # fmt: skip
    assert r.status_code == 422 and 'id="phone-error"' in r.text
    assert "autofocus" in _tag(r.text, "phone")
    r = _post(client, setup, student_number="S002", name_zh="李四", name_latin="Li Si",
              birth_date="2009-05-06", phone="06 12 34 56 78")  # fmt: skip
    assert r.status_code == 303


def test_the_status_page_speaks_one_language(client):
    setup = _setup(client)
    with Session(client.app.state.engine) as s:
        campaigns.create_slot(session=s, data=PickupSlotCreate(
            location_id=setup["point"].id, starts_at=utcnow() + timedelta(days=1),
            ends_at=utcnow() + timedelta(days=1, hours=2), capacity=5))  # fmt: skip
    r = _post(client, setup)
    assert r.status_code == 303
    zh = client.get(r.headers["location"], params={"lang": "zh_CN"}).text
    reasons = re.search(r'<ul class="reasons">.*?</ul>', zh, re.S).group(0)
    assert "Université Test（中）" in reasons and "Campus（中）" in reasons
    assert "Université Test " not in reasons.replace("Université Test（中）", "")
    en = client.get(r.headers["location"], params={"lang": "en"}).text
    reasons = re.search(r'<ul class="reasons">.*?</ul>', en, re.S).group(0)
    assert "Université Test" in reasons and "（中）" not in reasons
    assert "only link" not in en and f"/claim/{setup['campaign'].public_id}/find" in en
    # "any time" was chosen: no slot preselected
    select_ = re.search(r'<select name="slot_id".*?</select>', en, re.S).group(0)
    assert re.findall(r"<option[^>]*selected[^>]*>", select_) == [
        '<option value="" selected disabled>'
    ]
    assert 'name="confirm"' in en  # cancelling asks to confirm


def test_no_qr_while_a_claim_awaits_verification(client):
    setup = _setup(client, mode="manual")
    r = _post(client, setup)
    page = client.get(r.headers["location"], params={"lang": "en"})
    assert 'id="qr"' not in page.text and "<svg" not in page.text
    assert "What happens next" in page.text and 'id="short-code"' in page.text
    assert client.get(r.headers["location"] + "/qr.png").status_code == 404
    with Session(client.app.state.engine) as s:
        assert s.exec(select(Claim.status)).one() == "submitted"
