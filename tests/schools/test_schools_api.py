"""Schools and rosters over the API: auth, CRUD, uploads (201 / 422), progress, public search."""

import pytest

from tests.factories import api_headers
from tests.schools.factories import roster_csv, students

NEW = {
    "name_zh": "巴黎萨克雷大学",
    "name_en": "Université Paris-Saclay",
    "city": "Orsay",
    "lat": 48.71,
    "lon": 2.17,
    "email_domains": "Universite-Paris-Saclay.FR, @etu.universite-paris-saclay.fr",
}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/schools"),
        ("post", "/api/v1/schools"),
        ("get", "/api/v1/schools/1"),
        ("patch", "/api/v1/schools/1"),
        ("post", "/api/v1/schools/import"),
        ("post", "/api/v1/schools/1/roster"),
        ("get", "/api/v1/schools/1/roster"),
        ("get", "/api/v1/roster-imports/1"),
    ],
)
def test_staff_endpoints_need_a_diplomat(client, method, path):
    r = getattr(client, method)(path)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    h = api_headers(client, "vol", role="volunteer")
    r = client.request(method.upper(), path, headers=h, json={})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden_role"


def test_school_crud(client):
    h = api_headers(client)
    r = client.post("/api/v1/schools", headers=h, json=NEW)
    assert r.status_code == 201, r.text
    school = r.json()
    assert school["email_domains"] == "universite-paris-saclay.fr,etu.universite-paris-saclay.fr"
    assert school["roster_size"] == 0 and school["in_district"] is True
    r = client.post("/api/v1/schools", headers=h, json=NEW)
    assert r.status_code == 409
    r = client.post(
        "/api/v1/schools", headers=h, json={**NEW, "name_en": "X", "name_zh": "乙", "lat": 99}
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/schools",
        headers=h,
        json={**NEW, "name_en": "X", "name_zh": "乙", "email_domains": "a b!"},
    )
    assert r.status_code == 422 and "not an e-mail domain" in r.json()["error"]["message"]
    r = client.patch(f"/api/v1/schools/{school['id']}", headers=h, json={"in_district": False})
    assert r.status_code == 200 and r.json()["in_district"] is False
    assert client.get(f"/api/v1/schools/{school['id']}", headers=h).json()["city"] == "Orsay"
    assert client.get("/api/v1/schools/999", headers=h).status_code == 404
    r = client.get("/api/v1/schools", headers=h, params={"q": "saclay", "in_district": False})
    assert r.json()["total"] == 1


def test_roster_upload_and_progress(client):
    h = api_headers(client)
    sid = client.post("/api/v1/schools", headers=h, json=NEW).json()["id"]
    data = roster_csv(students(12), encoding="gbk")
    r = client.post(
        f"/api/v1/schools/{sid}/roster", headers=h, files={"file": ("名单.csv", data, "text/csv")}
    )
    assert r.status_code == 201, r.text
    imp = r.json()
    assert (imp["status"], imp["imported"], imp["filename"]) == ("done", 12, "名单.csv")
    r = client.get(f"/api/v1/roster-imports/{imp['id']}", headers=h)
    assert r.json()["processed_lines"] == r.json()["total_lines"] == 13
    assert client.get(f"/api/v1/schools/{sid}", headers=h).json()["roster_size"] == 12
    page = client.get(f"/api/v1/schools/{sid}/roster", headers=h, params={"limit": 5}).json()
    assert page["total"] == 12 and len(page["items"]) == 5
    assert page["items"][0] == {
        "id": page["items"][0]["id"],
        "school_id": sid,
        "student_number": "S000000",
        "name": "张 三0",
        "birth_date": "2001-01-01",
        "email": "s0@etu.test.fr",
    }
    r = client.get(f"/api/v1/schools/{sid}/roster", headers=h, params={"q": "三11"})
    assert [e["student_number"] for e in r.json()["items"]] == ["S000011"]


def test_bad_roster_upload_is_422_with_every_line(client):
    h = api_headers(client)
    sid = client.post("/api/v1/schools", headers=h, json=NEW).json()["id"]
    rows = students(4)
    rows[1][2] = "2001-02-31"
    rows[3][0] = rows[0][0]
    r = client.post(
        f"/api/v1/schools/{sid}/roster", headers=h, files={"file": ("r.csv", roster_csv(rows))}
    )
    assert r.status_code == 422
    body = r.json()["error"]
    assert body["code"] == "bad_lines"
    assert body["details"] == [
        {"line": 3, "field": "birth_date", "reason": "Birth date “2001-02-31” does not exist."},
        {
            "line": 5,
            "field": "student_number",
            "reason": "Student number S000000 already appears on line 2.",
        },
    ]
    assert client.get(f"/api/v1/schools/{sid}", headers=h).json()["roster_size"] == 0
    r = client.post(
        f"/api/v1/schools/{sid}/roster",
        headers=h,
        files={"file": ("r.csv", "学号,姓名,出生日期\n".encode("utf-16"))},
    )
    assert r.status_code == 422 and "not UTF-8 or GBK" in r.json()["error"]["message"]
    r = client.post(f"/api/v1/schools/{sid}/roster", headers=h, files={"file": ("r.csv", b"")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "empty_file"
    r = client.post("/api/v1/schools/999/roster", headers=h, files={"file": ("r.csv", b"x")})
    assert r.status_code == 404


def test_school_csv_import_over_the_api(client):
    h = api_headers(client)
    csv = "中文名,英文名,城市,邮箱域名\n甲校,Alpha,Paris,alpha.fr\n乙校,Beta,Lyon,beta.fr\n"
    r = client.post(
        "/api/v1/schools/import", headers=h, files={"file": ("s.csv", csv.encode("gbk"))}
    )
    assert r.status_code == 200 and r.json() == {"created": 2, "updated": 0}
    r = client.post("/api/v1/schools/import", headers=h, files={"file": ("s.csv", b"name_zh\n1\n")})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["line"] == 1


def test_public_school_search(client):
    h = api_headers(client)
    client.post("/api/v1/schools", headers=h, json=NEW)
    client.post(
        "/api/v1/schools",
        headers=h,
        json={"name_zh": "尼斯大学", "name_en": "Université Côte d'Azur", "in_district": False},
    )
    for i in range(25):
        client.post(
            "/api/v1/schools", headers=h, json={"name_zh": f"学校{i}", "name_en": f"School {i}"}
        )
    r = client.get("/api/v1/public/schools", params={"q": "萨克雷"})
    assert r.status_code == 200
    assert r.json() == [
        {
            "id": 1,
            "name_zh": "巴黎萨克雷大学",
            "name_en": "Université Paris-Saclay",
            "city": "Orsay",
        }
    ]
    assert client.get("/api/v1/public/schools", params={"q": "azur"}).json() == []
    assert len(client.get("/api/v1/public/schools").json()) == 20
    assert "max-age" in r.headers["cache-control"]
