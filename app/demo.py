"""Demo data for a fresh database: accounts, stock, and whatever each capability seeds."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, select

from app.accounts import service as accounts
from app.campaigns import service as campaigns
from app.inventory import service as inventory
from app.pickup import volunteers
from app.schools import rosters
from app.schools import service as schools
from models.base import utcnow
from models.campaigns import Campaign, CampaignCreate, CampaignSchoolIn, PickupSlotCreate
from models.inventory import ItemCreate, LocationCreate, MovementIn, RecipeLineIn
from models.schools import School, SchoolCreate
from models.users import User

ITEMS = [
    # sku, zh, en, unit, lot, expiry, threshold
    ("KN95", "KN95 口罩", "KN95 mask", "piece", True, True, 2000),
    ("SURG", "医用外科口罩", "Surgical mask", "piece", True, True, 2000),
    ("GEL500", "免洗洗手液 500 毫升", "Hand sanitizer 500 ml", "bottle", True, True, 100),
    ("WIPES", "消毒湿巾", "Disinfecting wipes", "pack", True, False, 100),
    ("GUIDE", "防疫指南（中英双语）", "Prevention guide (zh/en)", "copy", False, False, 50),
]


def seed(*, session: Session) -> list[tuple[str, str, str]]:
    """Seed when there are no users yet; return (username, password, role) of new accounts."""
    if session.exec(select(User).limit(1)).first() is not None:
        return []
    created = []
    for username, role, name in (
        ("diplomat", "diplomat", "领事 Consul Demo"),
        ("volunteer", "volunteer", "志愿者 Volunteer Demo"),
        ("driver", "driver", "司机 Driver Demo"),  # assign to a vehicle on a delivery run
    ):
        password = secrets.token_urlsafe(9)
        accounts.create_user(
            session=session, username=username, password=password, role=role, display_name=name
        )
        created.append((username, password, role))
    stock = seed_stock(session=session, user_id=session.exec(select(User)).first().id)
    campaign = seed_campaign(session=session, stock=stock)
    volunteer = session.exec(select(User).where(User.username == "volunteer")).one()
    volunteers.set_volunteer_points(
        session=session, user_id=volunteer.id, location_ids=[p.id for p in stock["points"]]
    )
    session.info["demo_campaign"] = campaign.public_id
    return created


def seed_campaign(*, session: Session, stock: dict) -> Campaign:
    """The demo schools and rosters, an open campaign, and pickup slots for the next days."""
    made = seed_schools(session=session)
    modes = ["roster", "roster", "roster", "email", "manual"]
    now = utcnow()
    campaign = campaigns.create_campaign(
        session=session,
        data=CampaignCreate(
            name_zh="2026 冬季防疫健康包发放",
            name_en="Winter 2026 health kit round",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
            kit_item_id=stock["kit"].id,
            status="open",
            depot_location_id=stock["warehouse"].id,
            delivery_distance_km=150,
            schools=[
                CampaignSchoolIn(school_id=s.id, verification=m)
                for s, m in zip(made, modes, strict=True)
                if s.in_district
            ],
        ),
    )
    day = datetime.combine(date.today(), time(0), tzinfo=UTC)
    for point in stock["points"]:
        for d in range(1, 6):
            for start, end in ((10, 12), (14, 17)):
                campaigns.create_slot(
                    session=session,
                    data=PickupSlotCreate(
                        location_id=point.id,
                        starts_at=day + timedelta(days=d, hours=start),
                        ends_at=day + timedelta(days=d, hours=end),
                        capacity=30,
                    ),
                )
    return campaign


def seed_stock(*, session: Session, user_id: int | None) -> dict:
    """A warehouse, two pickup points, the usual items, a kit recipe, and assembled kits."""
    wh = inventory.create_location(
        session=session,
        data=LocationCreate(
            kind="warehouse",
            name_zh="总领馆仓库",
            name_en="Consulate warehouse",
            address="20 Rue Washington, 75008 Paris",
            lat=48.8729,
            lon=2.3010,
        ),
    )
    points = [
        inventory.create_location(
            session=session,
            data=LocationCreate(
                kind="pickup_point", name_zh=zh, name_en=en, address=addr, lat=lat, lon=lon
            ),
        )
        for zh, en, addr, lat, lon in (
            (
                "巴黎萨克雷大学学联",
                "Paris-Saclay student association",
                "3 Rue Joliot Curie, 91190 Gif-sur-Yvette",
                48.7111,
                2.1710,
            ),
            (
                "里昂中国学生学者联谊会",
                "Lyon CSSA office",
                "15 Parvis René Descartes, 69007 Lyon",
                45.7300,
                4.8320,
            ),
        )
    ]
    items = {}
    for sku, zh, en, unit, lot, expiry, threshold in ITEMS:
        items[sku] = inventory.create_item(
            session=session,
            data=ItemCreate(
                sku=sku,
                name_zh=zh,
                name_en=en,
                unit=unit,
                tracks_lot=lot,
                tracks_expiry=expiry,
                low_stock_threshold=threshold,
            ),
        )
    kit = inventory.create_item(
        session=session,
        data=ItemCreate(
            sku="KIT-A",
            name_zh="防疫健康包",
            name_en="Health kit",
            unit="kit",
            tracks_lot=False,
            low_stock_threshold=20,
        ),
    )
    inventory.set_recipe(
        session=session,
        kit_item_id=kit.id,
        lines=[
            RecipeLineIn(component_item_id=items[s].id, quantity=q)
            for s, q in (("KN95", 20), ("GEL500", 1), ("WIPES", 10), ("GUIDE", 1))
        ],
    )
    today = date.today()
    inventory.record_movement(
        session=session,
        user_id=user_id,
        data=MovementIn(
            kind="receive",
            note="demo donation",
            lines=[
                {
                    "sku": "KN95",
                    "location_id": wh.id,
                    "quantity": 4000,
                    "lot_code": "KN-2026-11",
                    "expiry": today + timedelta(days=540),
                    "donor": "法国华侨华人会",
                },
                {
                    "sku": "KN95",
                    "location_id": wh.id,
                    "quantity": 1000,
                    "lot_code": "KN-2025-03",
                    "expiry": today + timedelta(days=21),
                    "donor": "Chamber of Commerce",
                },
                {
                    "sku": "GEL500",
                    "location_id": wh.id,
                    "quantity": 300,
                    "lot_code": "GEL-77",
                    "expiry": today + timedelta(days=365),
                    "donor": "法国华侨华人会",
                },
                {"sku": "WIPES", "location_id": wh.id, "quantity": 3000, "lot_code": "W-1"},
                {"sku": "GUIDE", "location_id": wh.id, "quantity": 300},
            ],
        ),
    )
    inventory.record_movement(
        session=session,
        user_id=user_id,
        data=MovementIn(
            kind="assemble", lines=[{"item_id": kit.id, "location_id": wh.id, "quantity": 120}]
        ),
    )
    for point, n in zip(points, (40, 30), strict=True):
        inventory.record_movement(
            session=session,
            user_id=user_id,
            data=MovementIn(
                kind="transfer",
                lines=[
                    {
                        "item_id": kit.id,
                        "from_location_id": wh.id,
                        "to_location_id": point.id,
                        "quantity": n,
                    }
                ],
            ),
        )
    return {"warehouse": wh, "points": points, "kit": kit, "items": items}


# ---------------------------------------------------------------- schools and rosters

DEMO_SCHOOLS = [
    # zh, en, city, lat, lon, domains, in district, student-number prefix
    ("巴黎萨克雷大学", "Université Paris-Saclay", "Orsay", 48.7117, 2.1700,
     "universite-paris-saclay.fr", True, "PS"),
    ("里昂中央理工学院", "École Centrale de Lyon", "Écully", 45.7835, 4.7658,
     "ec-lyon.fr", True, "ECL"),
    ("巴黎国际学校", "École Internationale de Paris", "Paris", 48.8566, 2.2923,
     "eip-paris.fr", True, "EIP"),
    ("索邦大学", "Sorbonne Université", "Paris", 48.8473, 2.3569,
     "sorbonne-universite.fr, etu.sorbonne-universite.fr", True, "SU"),
    ("蒙彼利埃大学", "Université de Montpellier", "Montpellier", 43.6318, 3.8612,
     "umontpellier.fr", False, "UM"),
]  # fmt: skip
DEMO_STUDENTS = [
    # pinyin name, Chinese name, birth date
    ("Zhang San", "张三", date(2001, 3, 5)),
    ("Li Si", "李四", date(2000, 11, 23)),
    ("Wang Wu", "王五", date(2002, 7, 14)),
    ("Zhao Liu", "赵六", date(1999, 1, 30)),
    ("Chen Jing", "陈静", date(2003, 5, 9)),
    ("Liu Yang", "刘洋", date(2001, 9, 18)),
    ("Yang Xue", "杨雪", date(2009, 2, 11)),
    ("Huang Lei", "黄磊", date(2010, 6, 2)),
    ("Zhou Min", "周敏", date(2008, 12, 24)),
    ("Wu Hao", "吴昊", date(2011, 4, 17)),
]


def seed_schools(*, session: Session) -> list[School]:
    """Five schools in France, ten students on each roster (minors at the boarding school)."""
    made = []
    for i, (zh, en, city, lat, lon, domains, district, prefix) in enumerate(DEMO_SCHOOLS):
        school = schools.create_school(
            session=session,
            data=SchoolCreate(
                name_zh=zh,
                name_en=en,
                city=city,
                lat=lat,
                lon=lon,
                email_domains=domains,
                in_district=district,
            ),
        )
        domain = schools.domains_of(school)[-1]
        lines = ["学号,姓名,出生日期,邮箱"]
        for j, (pinyin, hanzi, born) in enumerate(DEMO_STUDENTS):
            name = hanzi if j % 2 else pinyin  # rosters hold either the Chinese or passport name
            if prefix != "EIP" and born > date(2005, 1, 1):
                born = born.replace(year=2001 + j % 4)  # minors go to the boarding school
            mail = f"{pinyin.lower().replace(' ', '.')}{i}@{domain}"
            lines.append(f"{prefix}{2024000 + j},{name},{born.isoformat()},{mail}")
        rosters.import_roster(
            session=session,
            school_id=school.id,
            data="\n".join(lines).encode(),
            filename=f"demo-{prefix.lower()}.csv",
        )
        made.append(school)
    return made
