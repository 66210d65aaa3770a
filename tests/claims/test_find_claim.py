"""Find my claim: the link back by e-mail, or at once with the end of the code; rate limited."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from app.core import mail
from models.claims import Claim
from tests.factories import campaign_setup

FACTS = {"student_number": "S001", "birth_date": "2001-02-03", "name": "zhang san"}


def _setup(client, **kw):
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        return campaign_setup(s, **kw)


def _claim(client, setup, **kw) -> Claim:
    body = {
        "school_id": setup["school"].id, "name_latin": "Zhang San", "student_number": "S001",
        "birth_date": "2001-02-03", "fulfilment": "pickup", "pickup_location_id": setup["point"].id,
        "consent": True, **kw,
    }  # fmt: skip
    r = client.post(f"/api/v1/campaigns/{setup['campaign'].public_id}/claims", json=body)
    assert r.status_code == 201, r.text
    with Session(client.app.state.engine) as s:
        return s.exec(select(Claim).where(Claim.token == r.json()["token"])).one()


def _find(client, setup, **kw):
    url = f"/api/v1/campaigns/{setup['campaign'].public_id}/claims/find"
    body = {"school_id": setup["school"].id, **FACTS, **kw}
    return client.post(url, json=body, headers={"accept-language": "en"})


def _outbox(client, claim):
    return mail.in_outbox(client.app.state.settings, {claim.email or "-"}, {claim.token})


def test_a_claim_with_an_e_mail_gets_its_link_by_mail_only(client):
    setup = _setup(client, mode="manual")
    claim = _claim(client, setup, email="Zhang.San@univ-test.fr")
    assert claim.status == "submitted" and _outbox(client, claim) == []
    wrong = _find(client, setup, birth_date="2001-02-04")
    assert wrong.status_code == 200 and wrong.json()["token"] is None
    assert _outbox(client, claim) == []
    r = _find(client, setup, code_end=claim.short_code[-4:])  # the code does not show it either
    assert r.status_code == 200 and r.json() == {"token": None, "message": wrong.json()["message"]}
    [(_, msg)] = _outbox(client, claim)
    assert msg["To"] == "zhang.san@univ-test.fr"
    assert f"/s/{claim.token}" in msg.get_body().get_content()
    # by the e-mail address instead of the number, and by the Chinese-or-Latin name
    r = _find(client, setup, student_number="", email="zhang.san@univ-test.fr", name="ZHANG-SAN")
    assert r.json()["token"] is None and len(_outbox(client, claim)) == 2


def test_a_claim_without_e_mail_shows_its_link_only_with_the_end_of_its_code(client):
    setup = _setup(client)
    claim = _claim(client, setup)
    assert _find(client, setup).json()["token"] is None  # the facts alone: no link
    end = claim.short_code[-4:]
    wrong = "".join("A" if ch != "A" else "B" for ch in end)
    assert _find(client, setup, code_end=wrong).json()["token"] is None
    assert _find(client, setup, code_end=end, name="Li Si").json()["token"] is None
    r = _find(client, setup, code_end=end.lower())
    assert r.status_code == 200 and r.json()["token"] == claim.token
    assert mail.in_outbox(client.app.state.settings, set(), {claim.token}) == []


def test_finding_is_rate_limited_per_student(client):
    setup = _setup(client)
    _claim(client, setup)
    limit = client.app.state.settings.claim_rate_per_student
    codes = [_find(client, setup, code_end="XXXX").status_code for _ in range(limit + 1)]
    assert codes[:limit] == [200] * limit and codes[limit] == 429


def test_find_my_claim_pages(client):
    setup = _setup(client)
    claim = _claim(client, setup)
    public = setup["campaign"].public_id
    form = client.get(f"/claim/{public}/find?lang=en")
    assert form.status_code == 200 and 'name="code_end"' in form.text
    data = {
        "school_id": str(setup["school"].id),
        **FACTS,
        "csrf_token": client.cookies["kitrun_csrf"],
    }
    r = client.post(f"/claim/{public}/find", data={**data, "birth_date": ""})
    assert (
        r.status_code == 422 and 'aria-invalid="true" aria-describedby="birth_date-error"' in r.text
    )
    assert 'value="S001"' in r.text  # kept
    r = client.post(f"/claim/{public}/find", data=data)
    assert r.status_code == 200 and 'id="find-message"' in r.text and claim.token not in r.text
    r = client.post(
        f"/claim/{public}/find", data={**data, "code_end": claim.short_code[-4:]},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"/s/{claim.token}?msg=found"
    # the form's "already claimed" answer offers to find the claim, with what was typed
    client.get(f"/claim/{public}")
    again = client.post(
        f"/claim/{public}?lang=en",
        data={
            "school_id": str(setup["school"].id), "name_latin": "Zhang San",
            "student_number": "S001", "birth_date": "2001-02-03", "fulfilment": "pickup",
            "pickup_location_id": str(setup["point"].id), "consent": "true",
            "csrf_token": client.cookies["kitrun_csrf"],
        },
    )  # fmt: skip
    assert again.status_code == 409
    offer = re.search(r'<form method="post" action="/claim/[^"]+/find".*?</form>', again.text, re.S)
    assert offer and 'name="student_number" value="S001"' in offer.group(0)
    assert 'name="name" value="Zhang San"' in offer.group(0)
