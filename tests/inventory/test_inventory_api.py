from datetime import date, timedelta

from tests.factories import api_headers

FUTURE = (date.today() + timedelta(days=300)).isoformat()


def _setup(client, h):
    wh = client.post(
        "/api/v1/locations",
        headers=h,
        json={"kind": "warehouse", "name_zh": "领馆仓库", "name_en": "Consulate warehouse"},
    ).json()
    pt = client.post(
        "/api/v1/locations",
        headers=h,
        json={
            "kind": "pickup_point",
            "name_zh": "校园点",
            "name_en": "Campus point",
            "lat": 48.8,
            "lon": 2.3,
        },
    ).json()
    mask = client.post(
        "/api/v1/items",
        headers=h,
        json={"sku": "KN95", "name_zh": "KN95口罩", "name_en": "KN95 mask", "tracks_expiry": True},
    ).json()
    guide = client.post(
        "/api/v1/items",
        headers=h,
        json={"sku": "GUIDE", "name_zh": "防疫指南", "name_en": "Guide", "tracks_lot": False},
    ).json()
    kit = client.post(
        "/api/v1/items",
        headers=h,
        json={
            "sku": "KIT",
            "name_zh": "防疫包",
            "name_en": "Health kit",
            "tracks_lot": False,
            "unit": "kit",
        },
    ).json()
    r = client.put(
        f"/api/v1/items/{kit['id']}/recipe",
        headers=h,
        json=[
            {"component_item_id": mask["id"], "quantity": 20},
            {"component_item_id": guide["id"], "quantity": 1},
        ],
    )
    assert r.status_code == 200 and r.json()["is_kit"] and len(r.json()["recipe"]) == 2
    return wh, pt, mask, guide, kit


def test_stock_flow_through_the_api(client):
    h = api_headers(client)
    wh, pt, mask, guide, kit = _setup(client, h)
    r = client.post(
        "/api/v1/stock/movements",
        headers=h,
        json={
            "kind": "receive",
            "lines": [
                {
                    "sku": "KN95",
                    "location_id": wh["id"],
                    "quantity": 200,
                    "lot_code": "M1",
                    "expiry": FUTURE,
                    "donor": "华侨华人联合会",
                },
                {"sku": "GUIDE", "location_id": wh["id"], "quantity": 10},
            ],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["user"] == "dip" and len(r.json()["entries"]) == 2
    r = client.get(
        f"/api/v1/stock/assemblable?kit_item_id={kit['id']}&location_id={wh['id']}", headers=h
    )
    assert r.json()["kits"] == 10
    r = client.post(
        "/api/v1/stock/movements",
        headers=h,
        json={
            "kind": "assemble",
            "lines": [{"item_id": kit["id"], "location_id": wh["id"], "quantity": 4}],
        },
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/stock/movements",
        headers=h,
        json={
            "kind": "transfer",
            "lines": [
                {
                    "item_id": kit["id"],
                    "from_location_id": wh["id"],
                    "to_location_id": pt["id"],
                    "quantity": 3,
                }
            ],
        },
    )
    assert r.status_code == 201
    levels = client.get(f"/api/v1/stock/levels?location_id={pt['id']}", headers=h).json()
    assert levels["total"] == 1 and levels["items"][0]["available"] == 3
    ledger = client.get("/api/v1/stock/movements?kind=assemble", headers=h).json()
    assert ledger["total"] == 1
    lots = client.get(f"/api/v1/lots?item_id={mask['id']}", headers=h).json()
    assert lots["items"][0]["donor"] == "华侨华人联合会"
    csv = client.get("/api/v1/stock/movements.csv", headers=h)
    assert csv.content.startswith(b"\xef\xbb\xbf") and "text/csv" in csv.headers["content-type"]
    alerts = client.get("/api/v1/stock/alerts?days=400", headers=h).json()
    assert alerts["expiring"][0]["lot_code"] == "M1"


def test_bad_movements_say_what_to_fix(client):
    h = api_headers(client)
    wh, pt, mask, guide, kit = _setup(client, h)

    def post(body):
        return client.post("/api/v1/stock/movements", headers=h, json=body)

    r = post(
        {
            "kind": "transfer",
            "lines": [
                {
                    "sku": "GUIDE",
                    "from_location_id": wh["id"],
                    "to_location_id": pt["id"],
                    "quantity": 5,
                }
            ],
        }
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "out_of_stock"
    assert r.json()["error"]["details"]["available"] == 0
    assert (
        post(
            {"kind": "receive", "lines": [{"sku": "NOPE", "location_id": wh["id"], "quantity": 1}]}
        ).status_code
        == 404
    )
    r = post(
        {"kind": "receive", "lines": [{"sku": "GUIDE", "location_id": wh["id"], "quantity": 1.5}]}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    assert post({"kind": "receive", "lines": []}).status_code == 422
    assert post({"kind": "teleport", "lines": [{"sku": "GUIDE", "quantity": 1}]}).status_code == 422
    r = post(
        {
            "kind": "receive",
            "lines": [
                {
                    "sku": "KN95",
                    "location_id": wh["id"],
                    "quantity": 1,
                    "lot_code": "X",
                    "expiry": "2001-01-01",
                }
            ],
        }
    )
    assert r.status_code == 422 and "past" in r.json()["error"]["message"]
    assert client.get("/api/v1/stock/movements", headers=h).json()["total"] == 0


def test_stock_api_is_for_diplomats_only(client):
    vol = api_headers(client, "vol", "volunteer")
    assert client.get("/api/v1/stock/levels", headers=vol).status_code == 403
    assert client.get("/api/v1/stock/levels").status_code == 401


def test_errors_in_chinese_when_asked(client):
    h = api_headers(client)
    r = client.get("/api/v1/items/9999", headers={**h, "accept-language": "zh-CN,zh;q=0.9"})
    assert r.status_code == 404 and r.json()["error"]["message"] == "没有 id 为 9999 的物品。"
    r = client.get("/api/v1/items/9999", headers=h)
    assert r.json()["error"]["message"] == "No item with id 9999."
