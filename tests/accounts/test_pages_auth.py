from sqlmodel import Session, select

from models.users import UserToken
from tests.factories import PASSWORD, login_page, user


def test_login_page_in_both_languages(client):
    r = client.get("/login")
    assert r.status_code == 200 and 'lang="zh-CN"' in r.text and "登录" in r.text
    r = client.get("/login?lang=en")
    assert 'lang="en"' in r.text and "Log in" in r.text
    # the choice sticks in a cookie
    assert "Log in" in client.get("/login").text
    r = client.get("/lang/zh_CN?next=/login", follow_redirects=True)
    assert "登录" in r.text


def test_login_requires_csrf(client):
    with Session(client.app.state.engine) as s:
        user(s)
    client.get("/login")
    r = client.post("/login", data={"username": "dip", "password": PASSWORD})
    assert r.status_code == 403 and "CSRF" in r.text
    with Session(client.app.state.engine) as s:
        assert s.exec(select(UserToken)).all() == []


def test_wrong_password_shows_form_again(client):
    with Session(client.app.state.engine) as s:
        user(s)
    client.get("/login?lang=en")
    r = client.post(
        "/login",
        data={"username": "dip", "password": "no", "csrf_token": client.cookies["kitrun_csrf"]},
    )
    assert r.status_code == 401 and "Wrong username or password" in r.text


def test_login_lands_on_role_page_and_logout(client):
    assert client.get("/admin", follow_redirects=False).headers["location"].startswith("/login")
    login_page(client)
    r = client.get("/", follow_redirects=True)
    assert r.url.path == "/admin" and r.status_code == 200
    cookie = client.cookies.get("kitrun_session")
    assert cookie
    r = client.post(
        "/logout", data={"csrf_token": client.cookies["kitrun_csrf"]}, follow_redirects=False
    )
    assert r.status_code == 303
    client.cookies.set("kitrun_session", cookie)
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_volunteer_is_kept_out_of_diplomat_pages(client):
    login_page(client, "vol", "volunteer")
    assert client.get("/", follow_redirects=True).url.path == "/volunteer"
    assert client.get("/admin").status_code == 403


def test_open_redirect_is_refused(client):
    login_page(client)
    r = client.get("/lang/en?next=https://evil.example/", follow_redirects=False)
    assert r.headers["location"] == "/"


def test_session_cookie_flags(client):
    with Session(client.app.state.engine) as s:
        user(s)
    client.get("/login")
    r = client.post(
        "/login",
        data={"username": "dip", "password": PASSWORD, "csrf_token": client.cookies["kitrun_csrf"]},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_unknown_page_is_html_404(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]


def test_throttled_login_page_says_how_long_to_wait(client):
    with Session(client.app.state.engine) as s:
        user(s)
    client.get("/login?lang=en")
    for _ in range(5):
        r = client.post(
            "/login",
            data={"username": "dip", "password": "no", "csrf_token": client.cookies["kitrun_csrf"]},
        )
        assert r.status_code == 401
    r = client.post(
        "/login",
        data={"username": "dip", "password": PASSWORD, "csrf_token": client.cookies["kitrun_csrf"]},
    )
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 30
    assert "try again in" in r.text and 'value="dip"' in r.text
