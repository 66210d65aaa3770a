"""Two worker processes, 100 phones scanning the same code at the same moment."""

import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.core.db import make_engine
from models.claims import Claim
from models.inventory import StockMovement
from models.pickup import Scan
from tests.concurrency import burst
from tests.factories import PASSWORD
from tests.pickup import factories as pf

pytestmark = pytest.mark.slow


def seed(server, claims: int = 1):  # noqa: ANN001, ANN201
    """Create the world and claims in the live server's database."""
    engine = make_engine(server.settings)
    with Session(engine, expire_on_commit=False) as s:
        w = pf.world(s, kits=claims + 5)
        made = [pf.claim(s, w) for _ in range(claims)]
    return engine, w, made


def test_hundred_scans_of_one_code_hand_over_once(live_server):
    engine, w, (claim,) = seed(live_server)
    url = live_server.url
    import httpx

    headers = {}
    for name in ("vol", "dip"):
        r = httpx.post(f"{url}/api/v1/auth/token", json={"username": name, "password": PASSWORD})
        headers[name] = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def scan(c, i):  # noqa: ANN001, ANN202
        return c.post(
            f"{url}/api/v1/scans",
            headers=headers["vol" if i % 2 else "dip"],
            json={
                "code": claim.token if i % 3 else claim.short_code,
                "point_id": w.point.id,
                "nonce": str(uuid.uuid4()),
                "scanned_at": datetime.now(UTC).isoformat(),
            },
        )

    results = burst(100, scan)
    codes = Counter(getattr(r, "status_code", repr(r)) for r in results)
    assert codes == {200: 100}, codes
    outcomes = Counter(r.json()["result"] for r in results)
    assert outcomes == {"ok": 1, "already_handed_over": 99}, outcomes
    assert not any(r.json().get("conflict") for r in results)
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(Scan)).scalar_one() == 100
        issues = s.execute(
            select(func.count()).select_from(StockMovement).where(StockMovement.kind == "issue")
        ).scalar_one()
        assert issues == 1
        assert s.get(Claim, claim.id).status == "handed_over"
    engine.dispose()
    check = live_server.cli("stock", "check")
    assert check.returncode == 0, check.stderr


def test_same_nonce_raced_records_one_scan(live_server):
    engine, w, (claim,) = seed(live_server)
    url = live_server.url
    import httpx

    r = httpx.post(f"{url}/api/v1/auth/token", json={"username": "vol", "password": PASSWORD})
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    payload = {
        "code": claim.token,
        "point_id": w.point.id,
        "nonce": "retry-storm",
        "scanned_at": datetime.now(UTC).isoformat(),
    }
    results = burst(30, lambda c, i: c.post(f"{url}/api/v1/scans", headers=h, json=payload))
    assert Counter(r.status_code for r in results) == {200: 30}
    assert {r.json()["result"] for r in results} == {"ok"}
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(Scan)).scalar_one() == 1
    engine.dispose()
