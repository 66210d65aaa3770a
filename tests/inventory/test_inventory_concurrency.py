"""Two worker processes, 50 simultaneous withdrawals of one unit from a level of 20."""

from collections import Counter

import pytest

from tests.concurrency import burst, token

pytestmark = pytest.mark.slow


def test_fifty_take_one_from_twenty(live_server):
    url = live_server.url
    h = token(url, live_server.cli, "dip")
    import httpx

    wh = httpx.post(
        f"{url}/api/v1/locations",
        headers=h,
        json={"kind": "warehouse", "name_zh": "仓库", "name_en": "WH"},
    ).json()
    pt = httpx.post(
        f"{url}/api/v1/locations",
        headers=h,
        json={"kind": "pickup_point", "name_zh": "点", "name_en": "PT"},
    ).json()
    httpx.post(
        f"{url}/api/v1/items",
        headers=h,
        json={"sku": "GEL", "name_zh": "洗手液", "name_en": "Gel", "tracks_lot": False},
    )
    r = httpx.post(
        f"{url}/api/v1/stock/movements",
        headers=h,
        json={
            "kind": "receive",
            "lines": [{"sku": "GEL", "location_id": wh["id"], "quantity": 20}],
        },
    )
    assert r.status_code == 201

    def take_one(c, i):
        return c.post(
            f"{url}/api/v1/stock/movements",
            headers=h,
            json={
                "kind": "transfer",
                "lines": [
                    {
                        "sku": "GEL",
                        "from_location_id": wh["id"],
                        "to_location_id": pt["id"],
                        "quantity": 1,
                    }
                ],
            },
        )

    results = burst(50, take_one)
    codes = Counter(getattr(r, "status_code", repr(r)) for r in results)
    assert codes == {201: 20, 409: 30}, codes
    for r in results:
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "out_of_stock"
    levels = httpx.get(f"{url}/api/v1/stock/levels?include_empty=true", headers=h).json()["items"]
    by_loc = {lv["location_id"]: lv["on_hand"] for lv in levels}
    assert by_loc == {wh["id"]: 0, pt["id"]: 20}
    check = live_server.cli("stock", "check")
    assert check.returncode == 0, check.stderr
    assert "equal the ledger" in check.stdout
