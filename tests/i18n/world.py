"""The world the pages and documents are rendered from: the access matrix's world (a campaign,
a dispatched run, a volunteer, a driver, a print job, a roster import), with names in proper
Chinese and Latin-only English, and claims in every status for the student's status page."""

from __future__ import annotations

from datetime import date

from sqlalchemy import String
from sqlmodel import Session, SQLModel, select

from app.claims import submit as claims
from app.pickup.handover import mask_name
from models.campaigns import Campaign
from models.claims import Claim, ClaimStatus
from models.inventory import Item, Location, Lot
from models.printing import PrintJob
from models.schools import RosterEntry, School
from tests import factories as f
from tests.i18n.support import CJK, msgid_texts, read_catalog
from tests.runs import factories as rf
from tests.security.test_access_matrix import World, seed

# Things with a name in each language: (model, {factory's name: (English, Chinese)}); no
# English name is a msgid (a name "Depot" could not be told from the word).
NAMES = (
    (School, {"Université Test": ("Université Test", "巴黎测试大学")}),
    (
        Location,
        {
            "Depot": ("Ivry warehouse", "伊夫里仓库"),
            "Campus": ("Saclay campus", "萨克雷校园取件点"),
            "Elsewhere": ("Nanterre hall", "南泰尔取件点"),
        },
    ),
    (Item, {"KIT item": ("Health kit KIT", "防疫包")}),
    (Campaign, {"Test round": ("Spring round", "春季发放")}),
)


def build(app) -> tuple[World, dict[str, list]]:  # noqa: ANN001
    """The world, and for routes that show one object in several states, the objects to show
    (path parameter → values: every claim status's token, claims with and without reasons)."""
    world = seed(app)
    settings = app.state.settings
    with Session(app.state.engine, expire_on_commit=False) as s:
        for model, names in NAMES:
            for row in s.exec(select(model)).all():
                row.name_en, row.name_zh = names.get(row.name_en, (row.name_en, row.name_zh))
                s.add(row)
        job = s.get(PrintJob, world.params["job_id"])
        job.params = {"format": "L7160", "campaign_id": world.params["campaign_id"]}
        s.add(job)
        s.commit()
        setup = {
            "campaign": s.get(Campaign, world.params["campaign_id"]),
            "school": s.get(School, world.params["school_id"]),
            "point": s.get(Location, world.params["point_id"]),
            "kit": s.get(Item, world.params["item_id"]),
        }
        setup["depot"] = s.get(Location, setup["campaign"].depot_location_id)
        setup["lot"] = s.exec(select(Lot).where(Lot.item_id == setup["kit"].id)).first()
        # through the service: reasons recorded as a real claim has them
        picked = claims.submit(
            session=s,
            settings=settings,
            campaign=setup["campaign"],
            data=f.claim_in(
                setup, student_number="S003", name_latin="WANG Wu", birth_date=date(2000, 1, 1)
            ),
            locale="zh_CN",
            address="10.0.0.9",
        )
        by_status = []
        for status in ClaimStatus:
            c = rf.delivery_claim(s, setup, status=status.value, name="Li Si", minor=True)
            if status is ClaimStatus.submitted:
                c.email, c.email_code_hash = "li.si@univ-test.fr", "0" * 64
                s.add(c)
                s.commit()
            by_status.append(c)
        tokens = [c.token for c in by_status] + [picked.token]
        claim_ids = [world.params["claim_id"], picked.id, by_status[-3].id]
    return world, {"token": tokens, "claim_id": claim_ids}


def values(app) -> tuple[set[str], set[str], dict[str, str]]:
    """The data's text as the database holds it: every string value that is not a msgid (a
    msgid is a code, translated where shown), the students' own Chinese names (shown on
    English pages too), and the bilingual names, English → Chinese."""
    data: set[str] = set()
    with app.state.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            cols = [
                c
                for c in table.columns
                if isinstance(c.type, String) or isinstance(getattr(c.type, "impl", None), String)
            ]
            if not cols:
                continue
            for row in conn.execute(table.select().with_only_columns(*cols)):
                data.update(v for v in row if isinstance(v, str) and len(v) > 1)
        people = {v for (v,) in conn.execute(select(Claim.name_zh)).all() if v}
        people |= {v for (v,) in conn.execute(select(RosterEntry.name)).all() if v}
        people = {p for p in people if CJK.search(p)}
        people |= {mask_name(p, "")["name_zh"] for p in people}  # what a volunteer sees
    named = dict(pair for _model, names in NAMES for pair in names.values())
    return data - set(msgid_texts(read_catalog())), people, named
