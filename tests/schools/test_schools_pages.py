"""Diplomat pages for schools through the HTTP client (the browser test covers the look)."""

import re

from tests.factories import login_page
from tests.schools.factories import roster_csv, students


def _csrf(client):
    return client.cookies.get("kitrun_csrf")


def _create(client, **kw):
    data = {
        "name_zh": "里昂中央理工学院",
        "name_en": "École Centrale de Lyon",
        "city": "Écully",
        "lat": "45,78",
        "lon": "4.77",
        "email_domains": "EC-Lyon.fr",
        "in_district": "true",
        "csrf_token": _csrf(client),
        **kw,
    }
    return client.post("/admin/schools/new", data=data, follow_redirects=False)


def test_pages_need_a_diplomat(client):
    r = client.get("/admin/schools", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    login_page(client, "vol", role="volunteer")
    assert client.get("/admin/schools").status_code == 403


def test_create_edit_and_list(client):
    login_page(client)
    r = _create(client)
    assert r.status_code == 303
    url = r.headers["location"]
    page = client.get(url + "?lang=en")
    assert "École Centrale de Lyon" in page.text and "ec-lyon.fr" in page.text
    assert "45.7800" in page.text
    r = _create(client, lat="north")
    assert r.status_code == 422 and "Latitude must be a number" in r.text
    r = _create(client)
    assert r.status_code == 409 and "already exists" in r.text
    r = client.post(
        url + "/edit",
        data={"name_zh": "里昂中央理工学院", "name_en": "ECL", "csrf_token": _csrf(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    listing = client.get("/admin/schools", params={"q": "ECL", "district": "out"})
    assert "ECL" in listing.text and "outside" in listing.text
    assert client.get("/admin/schools", params={"district": "in"}).text.count('/roster"') == 0


def test_roster_upload_runs_and_shows_result(client):
    login_page(client)
    url = _create(client).headers["location"]
    r = client.post(
        url + "/roster",
        data={"csrf_token": _csrf(client)},
        files={"file": ("名单.csv", roster_csv(students(7), encoding="gbk"))},
        follow_redirects=False,
    )
    assert r.status_code == 303
    progress = r.headers["location"]
    # the TestClient runs background tasks before returning, so the import has finished
    page = client.get(progress + "?lang=en")
    assert "Imported 7 students" in page.text and 'http-equiv="refresh"' not in page.text
    roster = client.get(url + "/roster?lang=en")
    assert "S000006" in roster.text and "7 students" in roster.text
    assert "7" in client.get("/admin/schools").text


def test_bad_roster_shows_translated_lines(client):
    login_page(client)
    url = _create(client).headers["location"]
    rows = students(3)
    rows[2][2] = "2001-13-45"
    r = client.post(
        url + "/roster",
        data={"csrf_token": _csrf(client)},
        files={"file": ("r.csv", roster_csv(rows))},
    )
    assert r.status_code == 200
    zh = client.get(r.url.path + "?lang=zh_CN").text
    assert re.search(r"<td class=\"num\">4</td>", zh)
    en = client.get(r.url.path + "?lang=en").text
    assert "1 line has problems: nothing was imported" in en
    assert "Birth date" in en and "2001-13-45" in en


def test_school_import_page(client):
    login_page(client)
    good = "name_zh,name_en\n甲,Alpha\n".encode()
    r = client.post(
        "/admin/schools/import?lang=en",
        data={"csrf_token": _csrf(client)},
        files={"file": ("s.csv", good)},
    )
    assert r.status_code == 200 and "1 school(s) created" in r.text
    r = client.post(
        "/admin/schools/import?lang=en",
        data={"csrf_token": _csrf(client)},
        files={"file": ("s.csv", b"name_zh,name_en,in_district\n,Beta,perhaps\n")},
    )
    assert r.status_code == 422 and "nothing was imported" in r.text and "perhaps" in r.text
