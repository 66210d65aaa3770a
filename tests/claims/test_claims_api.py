from sqlmodel import Session, select

from tests.factories import api_headers, campaign_setup, login_page


def _setup(client, **kw):
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        return campaign_setup(s, **kw)


def _body(setup, **kw):
    return {
        "school_id": setup["school"].id,
        "name_latin": "Zhang San",
        "student_number": "S001",
        "birth_date": "2001-02-03",
        "fulfilment": "pickup",
        "pickup_location_id": setup["point"].id,
        "consent": True,
        **kw,
    }


def test_public_claim_and_status(client):
    setup = _setup(client)
    url = f"/api/v1/campaigns/{setup['campaign'].public_id}/claims"
    r = client.post(url, json=_body(setup))
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert r.json()["status"] == "allocated"
    st = client.get(f"/api/v1/claims/{token}").json()
    assert st["short_code"] == r.json()["short_code"] and st["pickup_point"]
    again = client.post(url, json=_body(setup))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_claimed"


def test_bad_claims_get_4xx_in_the_students_language(client):
    setup = _setup(client)
    url = f"/api/v1/campaigns/{setup['campaign'].public_id}/claims"
    r = client.post(
        url, json=_body(setup, student_number="S999"), headers={"accept-language": "zh-CN"}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "roster_unknown_number"
    assert r.json()["error"]["details"] == {"fields": ["student_number"]}
    r = client.post(url, json=_body(setup, consent=False), headers={"accept-language": "zh-CN"})
    assert r.status_code == 422 and "请同意" in r.json()["error"]["message"]
    r = client.post(url, json=_body(setup, name_latin="x" * 101))
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    r = client.post(url, json=_body(setup, birth_date="2001-13-45"))
    assert r.status_code == 422
    r = client.post(url, json=_body(setup, consent=False))
    assert r.status_code == 422
    assert client.post("/api/v1/campaigns/nope/claims", json=_body(setup)).status_code == 404
    assert client.get("/api/v1/claims/not-a-token").status_code == 404


def test_claim_form_refusals_show_the_form_again_counted_once(client):
    """On PostgreSQL the form's pickups take the event-loop path (claim_fast.py): a refusal
    there shows the form again with what was typed, counted once against the rate limits."""
    from app.core import ratelimit

    setup = _setup(client)
    url = f"/claim/{setup['campaign'].public_id}"
    client.get(url)  # the CSRF cookie
    form = {k: str(v) for k, v in _body(setup, student_number="S999", name_zh="张三").items()}
    form.update(consent="true", csrf_token=client.cookies["kitrun_csrf"])
    r = client.post(url, data=form, headers={"accept-language": "zh-CN"})
    assert r.status_code == 422 and 'id="student_number-error"' in r.text
    assert 'value="S999"' in r.text and 'value="张三"' in r.text
    with Session(client.app.state.engine) as s:
        settings = client.app.state.settings
        window = settings.claim_rate_window_seconds
        assert ratelimit.count(s, "claim:ip:testclient", window_seconds=window) == 1
    assert client.post("/claim/nope", data=form).status_code == 404


def test_staff_list_decide_and_csv(client):
    setup = _setup(client, mode="manual")
    url = f"/api/v1/campaigns/{setup['campaign'].public_id}/claims"
    ids = []
    for n in ("M1", "M2"):
        client.post(url, json=_body(setup, student_number=n, name_latin=f"Student {n}"))
    h = api_headers(client)
    rows = client.get("/api/v1/claims?status=submitted", headers=h).json()
    assert rows["total"] == 2
    ids = [c["id"] for c in rows["items"]]
    r = client.post(
        "/api/v1/claims/decisions", headers=h, json={"claim_ids": ids[:1], "decision": "approve"}
    )
    assert r.json()["decided"] == ids[:1]
    r = client.post(
        "/api/v1/claims/decisions",
        headers=h,
        json={"claim_ids": ids[1:], "decision": "reject", "reason": "left school"},
    )
    assert r.json()["decided"] == ids[1:]
    assert (
        client.post(
            "/api/v1/claims/decisions", headers=h, json={"claim_ids": ids, "decision": "maybe"}
        ).status_code
        == 422
    )
    csv = client.get("/api/v1/claims.csv?reason=review", headers=h)
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("# ") and lines[1].startswith("id,campaign,school,status")
    assert len(lines) == 4
    assert (
        client.get("/api/v1/claims", headers=api_headers(client, "v", "volunteer")).status_code
        == 403
    )


def test_campaign_api_validation(client):
    setup = _setup(client)
    h = api_headers(client)
    base = {
        "name_zh": "测试",
        "name_en": "Test",
        "opens_at": "2026-01-02T00:00:00Z",
        "closes_at": "2026-01-01T00:00:00Z",
        "kit_item_id": setup["kit"].id,
    }
    r = client.post("/api/v1/campaigns", headers=h, json=base)
    assert r.status_code == 422
    r = client.post(
        "/api/v1/campaigns",
        headers=h,
        json={**base, "closes_at": "2026-02-01T00:00Z", "schools": [{"school_id": 999}]},
    )
    assert r.status_code == 404
    ok = client.post(
        "/api/v1/campaigns",
        headers=h,
        json={
            **base,
            "closes_at": "2026-02-01T00:00:00Z",
            "schools": [{"school_id": setup["school"].id, "verification": "email"}],
        },
    )
    assert ok.status_code == 201 and len(ok.json()["public_id"]) >= 10
    slot = client.post(
        f"/api/v1/pickup-points/{setup['point'].id}/slots",
        headers=h,
        json={
            "location_id": 0,
            "starts_at": "2030-01-01T10:00:00Z",
            "ends_at": "2030-01-01T09:00:00Z",
            "capacity": 5,
        },
    )
    assert slot.status_code == 422


def test_claim_form_page_flow(client):
    setup = _setup(client)
    page = client.get(f"/claim/{setup['campaign'].public_id}")
    assert page.status_code == 200 and "申领健康包" in page.text
    form = {k: str(v) for k, v in _body(setup).items() if k != "consent"}
    r = client.post(
        f"/claim/{setup['campaign'].public_id}",
        data={**form, "csrf_token": client.cookies["kitrun_csrf"]},
    )
    assert r.status_code == 422 and "同意" in r.text  # consent missing
    r = client.post(
        f"/claim/{setup['campaign'].public_id}",
        data={
            **form,
            "consent": "true",
            "website": "http://spam",
            "csrf_token": client.cookies["kitrun_csrf"],
        },
    )
    assert r.status_code == 400  # honeypot
    r = client.post(
        f"/claim/{setup['campaign'].public_id}",
        data={**form, "consent": "true", "csrf_token": client.cookies["kitrun_csrf"]},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/s/")
    status = client.get(r.headers["location"])
    assert "<svg" in status.text and "已预留健康包" in status.text
    png = client.get(r.headers["location"] + "/qr.png")
    assert png.headers["content-type"] == "image/png"
    unconfirmed = client.post(
        r.headers["location"] + "/cancel", data={"csrf_token": client.cookies["kitrun_csrf"]}
    )
    assert unconfirmed.status_code == 422 and "已预留健康包" in unconfirmed.text
    cancel = client.post(
        r.headers["location"] + "/cancel",
        data={"csrf_token": client.cookies["kitrun_csrf"], "confirm": "true"},
        follow_redirects=True,
    )
    assert "已取消" in cancel.text


def test_admin_claim_pages(client):
    setup = _setup(client, mode="manual")
    client.post(f"/api/v1/campaigns/{setup['campaign'].public_id}/claims", json=_body(setup))
    login_page(client)
    r = client.get("/admin/claims?lang=en")
    assert r.status_code == 200 and "Zhang San" in r.text
    from models.claims import Claim

    with Session(client.app.state.engine) as s:
        cid = s.exec(select(Claim)).first().id
    r = client.post(
        "/admin/claims/decide",
        data={
            "claim_ids": str(cid),
            "decision": "approve",
            "csrf_token": client.cookies["kitrun_csrf"],
        },
        follow_redirects=True,
    )
    assert "1 claims decided" in r.text
    detail = client.get(f"/admin/claims/{cid}")
    assert "Approved by consular staff" in detail.text
    assert client.get("/admin/campaigns").status_code == 200
    assert client.get("/admin/slots").status_code == 200
