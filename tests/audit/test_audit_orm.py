"""Changes a logged-in person makes through the pages and the API land in the audit trail."""

from sqlmodel import Session, select

from models.audit import AuditEntry
from tests.factories import api_headers, login_page


def _entries(client, object_type):
    with Session(client.app.state.engine) as s:
        return s.exec(
            select(AuditEntry).where(AuditEntry.object_type == object_type).order_by(AuditEntry.id)
        ).all()


def test_item_and_location_changes_are_audited_with_who(client):
    h = api_headers(client)
    item = client.post(
        "/api/v1/items",
        headers=h,
        json={"sku": "GEL", "name_zh": "洗手液", "name_en": "Gel", "low_stock_threshold": 5},
    ).json()
    client.patch(f"/api/v1/items/{item['id']}", headers=h, json={"low_stock_threshold": 50})
    rows = _entries(client, "item")
    assert [r.action for r in rows] == ["item.create", "item.update"]
    assert rows[1].before == {"low_stock_threshold": 5}
    assert rows[1].after == {"low_stock_threshold": 50}
    assert rows[0].user_id is not None and rows[0].object_id == str(item["id"])


def test_page_changes_are_audited_and_secrets_left_out(client):
    login_page(client)
    r = client.post(
        "/admin/locations",
        data={
            "kind": "pickup_point",
            "name_zh": "新点",
            "name_en": "New point",
            "csrf_token": client.cookies["kitrun_csrf"],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert [r.action for r in _entries(client, "location")] == ["location.create"]
    for row in _entries(client, "user"):
        assert "password_hash" not in (row.after or {})
