"""CSRF tokens are bound to the session: another session's token, or one planted in the
cookie, is refused; an anonymous browser keeps its own token until it logs in."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.core import security
from models.schools import School
from tests import factories as f

CSRF = "kitrun_csrf"
SESSION = "kitrun_session"


def _other_browser(client: TestClient, username: str) -> TestClient:
    other = TestClient(client.app, base_url="http://testserver")
    f.login_page(other, username)
    return other


def _plant(client: TestClient, token: str) -> None:
    """What a cookie-tossing attacker can do: set the victim's CSRF cookie to a known value."""
    client.cookies.delete(CSRF)
    client.cookies.set(CSRF, token, domain="testserver.local", path="/")


def test_token_of_another_session_is_refused_on_a_form(client):
    f.login_page(client, "dip")
    mallory = _other_browser(client, "mallory")
    stolen = mallory.cookies[CSRF]
    assert stolen and stolen != client.cookies[CSRF]
    _plant(client, stolen)
    r = client.post("/logout", data={"csrf_token": stolen}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    assert client.get("/admin", follow_redirects=False).status_code == 200  # still logged in


def test_token_of_another_session_is_refused_on_the_api(client):
    f.login_page(client, "dip")
    stolen = _other_browser(client, "mallory").cookies[CSRF]
    _plant(client, stolen)
    r = client.post(
        "/api/v1/schools",
        json={"name_zh": "跨站", "name_en": "Cross-site"},
        headers={"X-CSRF-Token": stolen},
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    with Session(client.app.state.engine) as s:
        assert s.exec(select(School).where(School.name_en == "Cross-site")).first() is None


def test_session_token_is_derived_from_the_session(client):
    client.get("/login")
    anonymous = client.cookies[CSRF]
    f.login_page(client, "dip")
    token = client.cookies[CSRF]
    secret = client.app.state.settings.secret
    assert token == security.session_csrf_token(secret, client.cookies[SESSION]) != anonymous
    page = client.get("/admin/schools")
    assert f'name="csrf_token" value="{token}"' in page.text
    # the anonymous token of this very browser no longer works once it is logged in
    _plant(client, anonymous)
    r = client.post("/logout", data={"csrf_token": anonymous}, follow_redirects=False)
    assert r.status_code == 403
    # the session's own token does (even with a planted cookie: the cookie is not trusted)
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    # logged out: a fresh anonymous token, not the old session's
    assert client.cookies[CSRF] not in (token, anonymous)


def test_api_write_with_the_session_token_passes(client):
    f.login_page(client, "dip")
    r = client.post(
        "/api/v1/schools",
        json={"name_zh": "同站", "name_en": "Same-site"},
        headers={"X-CSRF-Token": client.cookies[CSRF]},
    )
    assert r.status_code == 201, r.text
