"""Claims racing on a real server with two worker processes (SQLite and PostgreSQL)."""

from collections import Counter

import pytest
from sqlmodel import Session, func, select

from app.core.db import make_engine
from models.claims import Claim
from tests.concurrency import burst
from tests.conftest import LiveServer
from tests.factories import campaign_setup, roster

pytestmark = pytest.mark.slow


@pytest.fixture
def server(settings):
    s = LiveServer(
        settings,
        workers=2,
        env={"KITRUN_CLAIM_RATE_PER_IP": "100000", "KITRUN_CLAIM_RATE_PER_STUDENT": "1000"},
    )
    yield s
    s.stop()


def _body(setup, number, name, birth):
    return {
        "school_id": setup["school"].id,
        "name_latin": name,
        "student_number": number,
        "birth_date": birth,
        "fulfilment": "pickup",
        "pickup_location_id": setup["point"].id,
        "consent": True,
    }


def test_same_student_twenty_times_gives_one_claim(server, settings):
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        setup = campaign_setup(s, kits=5)
        public_id = setup["campaign"].public_id
    url = f"{server.url}/api/v1/campaigns/{public_id}/claims"
    body = _body(setup, "S001", "Zhang San", "2001-02-03")
    results = burst(20, lambda c, i: c.post(url, json=body))
    codes = Counter(getattr(r, "status_code", repr(r)) for r in results)
    assert codes == {201: 1, 409: 19}, codes
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Claim)).one() == 1
    engine.dispose()


def test_two_hundred_students_fifty_kits(server, settings):
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        setup = campaign_setup(s, kits=50)
        roster(
            s, setup["school"].id, [(f"N{i:03d}", f"Student {i}", "2000-06-15") for i in range(200)]
        )
        public_id, kit_id = setup["campaign"].public_id, setup["kit"].id
    url = f"{server.url}/api/v1/campaigns/{public_id}/claims"
    results = burst(
        200, lambda c, i: c.post(url, json=_body(setup, f"N{i:03d}", f"Student {i}", "2000-06-15"))
    )
    codes = Counter(getattr(r, "status_code", repr(r)) for r in results)
    assert codes == {201: 200}, codes
    statuses = Counter(r.json()["status"] for r in results)
    assert statuses == {"allocated": 50, "waitlisted": 150}, statuses
    from app.claims import submit as claims_service

    with Session(engine) as s:
        assert claims_service.reserved_total(s, kit_id) == 50
    check = server.cli("stock", "check")
    assert check.returncode == 0, check.stderr
    engine.dispose()
