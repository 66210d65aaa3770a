"""Small typed factories for tests."""

from __future__ import annotations

from sqlmodel import Session

from app.accounts import service as accounts
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
    from app.inventory import service as inventory
    from models.inventory import ItemCreate

    data = {"name_zh": f"{sku} 中文", "name_en": f"{sku} item", "unit": "piece", **kw}
    return inventory.create_item(session=session, data=ItemCreate(sku=sku, **data))


def location(session: Session, name: str = "Warehouse", kind: str = "warehouse", **kw):  # noqa: ANN201
    from app.inventory import service as inventory
    from models.inventory import LocationCreate

    data = {"name_zh": f"{name}（中）", "name_en": name, "lat": 48.85, "lon": 2.35, **kw}
    return inventory.create_location(session=session, data=LocationCreate(kind=kind, **data))


def kit(session: Session, components: dict[str, int], sku: str = "KIT") -> Item:  # noqa: F821
    """A kit item with a recipe of existing component SKUs."""
    from app.inventory import service as inventory
    from models.inventory import RecipeLineIn

    k = item(session, sku, tracks_lot=False, unit="kit")
    lines = [
        RecipeLineIn(component_item_id=inventory.item_by_sku(session=session, sku=s).id, quantity=q)
        for s, q in components.items()
    ]
    return inventory.set_recipe(session=session, kit_item_id=k.id, lines=lines)


def move(session: Session, kind: str, *lines: dict, reason: str | None = None, user_id=None):  # noqa: ANN001, ANN201
    """Record a movement through the service."""
    from app.inventory import service as inventory
    from models.inventory import MovementIn

    return inventory.record_movement(
        session=session,
        data=MovementIn(kind=kind, reason=reason, lines=list(lines)),
        user_id=user_id,
    )


# ---------------------------------------------------------------- schools, campaigns, claims


def school(session: Session, name: str = "Université Test", domains: str = "univ-test.fr", **kw):  # noqa: ANN201
    from models.schools import School

    s = School(
        name_zh=f"{name}（中）",
        name_en=name,
        city="Paris",
        lat=48.85,
        lon=2.35,
        email_domains=domains,
        **kw,
    )
    session.add(s)
    session.commit()
    session.refresh(s)
    return s


def roster(session: Session, school_id: int, rows: list[tuple[str, str, str]]) -> None:
    """rows: (student_number, name, birth date ISO)."""
    from datetime import date

    from app.schools.rosters import normalize_name, normalize_student_number
    from models.schools import RosterEntry

    for number, name, birth in rows:
        session.add(
            RosterEntry(
                school_id=school_id,
                student_number=normalize_student_number(number),
                name=name,
                name_norm=normalize_name(name),
                birth_date=date.fromisoformat(birth),
            )
        )
    session.commit()


def campaign_setup(
    session: Session, *, kits: int = 5, mode: str = "roster", delivery: bool = True, **campaign
) -> dict:
    """An open campaign with one school (given verification mode), a pickup point holding
    `kits` assembled kits, a depot, and a roster of three students; `campaign`: more of the
    campaign's fields (asks_phone=True, ...)."""
    from datetime import timedelta

    from app.campaigns import service as campaigns
    from models.base import utcnow
    from models.campaigns import CampaignCreate, CampaignSchoolIn

    wh = location(session, "Depot")
    point = location(session, "Campus", "pickup_point")
    kit_item = item(session, "KIT", tracks_lot=False, unit="kit", is_kit=True)
    if kits:
        move(
            session, "receive", {"item_id": kit_item.id, "location_id": point.id, "quantity": kits}
        )
    s = school(session)
    roster(
        session,
        s.id,
        [
            ("S001", "Zhang San", "2001-02-03"),
            ("S002", "李四", "2009-05-06"),
            ("S003", "Wang Wu", "2000-01-01"),
        ],
    )
    c = campaigns.create_campaign(
        session=session,
        data=CampaignCreate(
            name_zh="测试发放",
            name_en="Test round",
            opens_at=utcnow() - timedelta(days=1),
            closes_at=utcnow() + timedelta(days=10),
            kit_item_id=kit_item.id,
            status="open",
            depot_location_id=wh.id if delivery else None,
            delivery_distance_km=100,
            schools=[CampaignSchoolIn(school_id=s.id, verification=mode)],
            **campaign,
        ),
    )
    return {"campaign": c, "school": s, "point": point, "depot": wh, "kit": kit_item}


def claim_in(setup: dict, **kw):  # noqa: ANN201
    from datetime import date

    from models.claims import ClaimIn

    data = {
        "school_id": setup["school"].id,
        "name_latin": "ZHANG San",
        "student_number": "S001",
        "birth_date": date(2001, 2, 3),
        "fulfilment": "pickup",
        "pickup_location_id": setup["point"].id,
        "consent": True,
        **kw,
    }
    return ClaimIn(**data)


def submit(session: Session, settings, setup: dict, counted=False, token=None, **kw):  # noqa: ANN001, ANN003, ANN201
    """A claim by `claim_in(setup, **kw)` through claims.submit (the session path)."""
    from app.claims import submit as claims

    return claims.submit(
        session=session,
        settings=settings,
        campaign=setup["campaign"],
        data=claim_in(setup, **kw),
        locale="zh_CN",
        address="10.0.0.9",
        counted=counted,
        token=token,
    )
