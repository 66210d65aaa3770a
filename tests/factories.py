"""Small typed factories for tests."""

from __future__ import annotations

from sqlmodel import Session

from app.services import accounts
from models.users import User

PASSWORD = "correct-horse-42"


def user(session: Session, username: str = "dip", role: str = "diplomat") -> User:
    return accounts.create_user(session=session, username=username, password=PASSWORD, role=role)


def api_headers(client, username: str = "dip", role: str = "diplomat") -> dict[str, str]:  # noqa: ANN001
    """Create a user through the service and log in through the API; return bearer headers."""
    from sqlmodel import Session as S

    with S(client.app.state.engine) as s:
        user(s, username, role)
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def login_page(client, username: str = "dip", role: str = "diplomat") -> None:  # noqa: ANN001
    """Create a user and log in through the login form (cookie session)."""
    from sqlmodel import Session as S

    with S(client.app.state.engine) as s:
        user(s, username, role)
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "next": "/",
            "csrf_token": client.cookies.get("kitrun_csrf"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


# ---------------------------------------------------------------- stock


def item(session: Session, sku: str, **kw) -> Item:  # noqa: F821
    from app.services import inventory
    from models.inventory import ItemCreate

    data = {"name_zh": f"{sku} 中文", "name_en": f"{sku} item", "unit": "piece", **kw}
    return inventory.create_item(session=session, data=ItemCreate(sku=sku, **data))


def location(session: Session, name: str = "Warehouse", kind: str = "warehouse", **kw):  # noqa: ANN201
    from app.services import inventory
    from models.inventory import LocationCreate

    data = {"name_zh": f"{name}（中）", "name_en": name, "lat": 48.85, "lon": 2.35, **kw}
    return inventory.create_location(session=session, data=LocationCreate(kind=kind, **data))


def kit(session: Session, components: dict[str, int], sku: str = "KIT") -> Item:  # noqa: F821
    """A kit item with a recipe of existing component SKUs."""
    from app.services import inventory
    from models.inventory import RecipeLineIn

    k = item(session, sku, tracks_lot=False, unit="kit")
    lines = [
        RecipeLineIn(component_item_id=inventory.item_by_sku(session=session, sku=s).id, quantity=q)
        for s, q in components.items()
    ]
    return inventory.set_recipe(session=session, kit_item_id=k.id, lines=lines)


def move(session: Session, kind: str, *lines: dict, reason: str | None = None, user_id=None):  # noqa: ANN001, ANN201
    """Record a movement through the service."""
    from app.services import inventory
    from models.inventory import MovementIn

    return inventory.record_movement(
        session=session,
        data=MovementIn(kind=kind, reason=reason, lines=list(lines)),
        user_id=user_id,
    )
