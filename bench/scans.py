"""Benchmark redeeming scans: scans/s and p50/p99 at 50 concurrent volunteers, beside /healthz.

Run: .venv/bin/python bench/scans.py [--seconds 10] [--volunteers 50] [--claims 120000]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--rounds 3]

Creates a fresh PostgreSQL database, migrates it, seeds allocated claims, starts
`kitrun serve --workers 2`, then runs the same closed-loop load (each volunteer sends its next
request when the last one answered) against POST /api/v1/scans with distinct codes and against
GET /healthz (which also queries the database). Client processes run the threads so the load
generator is not one GIL. It does this in --rounds rounds (default 3), /healthz, scans that hand
a kit over, then refused scans (codes of kits handed over before, each scan with a new nonce:
answered `already_handed_over` and logged, as when phones race) back to back, and prints each
round with the CPU per request of the server processes, their
PostgreSQL backends and the load generator, then the median ratio. The database is dropped at
the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.harness import (  # noqa: E402
    CpuMeter,
    closed_loop,
    fresh_database,
    healthz_request,
    kitrun,
    report_rounds,
    serve,
)


def seed(
    url: str, claims: int, volunteers: int, handed: int = 2000
) -> tuple[int, list[str], list[str], list[str]]:
    """A kit at a point, `claims` allocated claims, `handed` claims already handed over there
    and `volunteers` volunteers with API tokens."""
    from sqlalchemy import insert
    from sqlmodel import Session

    from app.accounts import service as accounts
    from app.core.config import Settings
    from app.core.db import make_engine
    from app.core.security import new_claim_token, new_short_code
    from app.inventory import ledger
    from app.inventory import service as inventory
    from app.inventory.ledger import Delta
    from app.pickup import volunteers as vol_service
    from models.campaigns import Campaign
    from models.claims import Claim
    from models.inventory import ItemCreate, LocationCreate, MovementIn, RecipeLineIn
    from models.schools import School

    engine = make_engine(Settings(database_url=url, secret_key="bench"))
    with Session(engine, expire_on_commit=False) as s:
        mask = inventory.create_item(
            session=s, data=ItemCreate(sku="MASK", name_zh="口罩", name_en="Mask", tracks_lot=False)
        )
        kit = inventory.create_item(
            session=s, data=ItemCreate(sku="KIT", name_zh="防疫包", name_en="Kit", tracks_lot=False)
        )
        inventory.set_recipe(
            session=s,
            kit_item_id=kit.id,
            lines=[RecipeLineIn(component_item_id=mask.id, quantity=20)],
        )
        point = inventory.create_location(
            session=s,
            data=LocationCreate(kind="pickup_point", name_zh="取货点", name_en="Point"),
        )
        inventory.record_movement(
            session=s,
            data=MovementIn(
                kind="receive",
                lines=[{"item_id": kit.id, "location_id": point.id, "quantity": claims}],
            ),
            user_id=None,
        )
        lot = inventory.default_lot(s, kit)
        school = School(name_zh="大学", name_en="University")
        now = datetime.now(UTC)
        campaign = Campaign(
            name_zh="发放",
            name_en="Round",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=9),
            kit_item_id=kit.id,
            public_id=uuid.uuid4().hex[:16],
            status="open",
        )
        s.add_all([school, campaign])
        s.flush()
        mv = ledger.new_movement(s, kind="reserve", reference="bench")
        ledger.apply(s, mv, Delta(kit.id, lot.id, point.id, reserved=claims))
        tokens = [new_claim_token() for _ in range(claims)]
        rows = [
            {
                "campaign_id": campaign.id,
                "school_id": school.id,
                "student_key": f"bench-{i}",
                "status": "allocated",
                "token": t,
                "short_code": new_short_code(),
                "name_zh": "王小明",
                "name_latin": "Wang Xiaoming",
                "birth_date": date(2000, 1, 1),
                "reserved_item_id": kit.id,
                "reserved_lot_id": lot.id,
                "reserved_location_id": point.id,
                "pickup_location_id": point.id,
                "kits": 1,
                "reasons": [],
                "priority": 1,
                "fulfilment": "pickup",
                "locale": "zh_CN",
                "submitted_at": now,
                "updated_at": now,
            }
            for i, t in enumerate(tokens)
        ]
        handed_tokens = [new_claim_token() for _ in range(handed)]
        handed_rows = [
            {
                **rows[0],
                "student_key": f"bench-handed-{i}",
                "status": "handed_over",
                "token": t,
                "short_code": new_short_code(),
                "handed_over_at": now,
                "handed_over_location_id": point.id,
            }
            for i, t in enumerate(handed_tokens)
        ]
        for batch in (rows, handed_rows):
            for i in range(0, len(batch), 5000):
                s.execute(insert(Claim), batch[i : i + 5000])
        s.commit()
        api_tokens = []
        for i in range(volunteers):
            u = accounts.create_user(
                session=s, username=f"vol{i}", password="bench-password-1", role="volunteer"
            )
            vol_service.assign_volunteer(session=s, user_id=u.id, location_id=point.id)
            raw, _ = accounts.issue_token(session=s, user=u, kind="api", days=1)
            api_tokens.append(raw)
    engine.dispose()
    return point.id, tokens, handed_tokens, api_tokens


def scan_request(c: httpx.Client, codes: list, i: int, job: dict) -> str:
    """The volunteer's next code, with a fresh nonce."""
    r = c.post(
        "/api/v1/scans",
        json={
            "code": codes[i],
            "point_id": job["point_id"],
            "nonce": uuid.uuid4().hex,
            "scanned_at": datetime.now(UTC).isoformat(),
        },
    )
    return r.json().get("result", str(r.status_code))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--volunteers", type=int, default=50)
    ap.add_argument("--claims", type=int, default=120000)
    ap.add_argument("--processes", type=int, default=2, help="client processes")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--rounds", type=int, default=3, help="healthz-then-scans rounds")
    args = ap.parse_args()

    with fresh_database(args.postgres) as (url, env):
        print(f"seeding {args.claims} claims and {args.volunteers} volunteers …", flush=True)
        point_id, tokens, handed, api_tokens = seed(url, args.claims, args.volunteers)
        per = len(tokens) // args.volunteers // args.rounds
        rounds, refused_rounds = [], []
        with serve(env, args.workers) as base:
            for n in range(args.rounds):
                # each round scans codes not scanned before
                first = n * per * args.volunteers
                codes = [
                    tokens[first + i * per : first + (i + 1) * per] for i in range(args.volunteers)
                ]
                clients = [
                    ({"Authorization": f"Bearer {tok}"}, mine)
                    for tok, mine in zip(api_tokens, codes, strict=True)
                ]
                common = (clients, {"point_id": point_id}, args.seconds, args.processes)
                with CpuMeter(base, url) as trivial_cpu:
                    trivial = closed_loop(base, healthz_request, *common)
                with CpuMeter(base, url) as scans_cpu:
                    scans = closed_loop(base, scan_request, *common)
                # refusals: every volunteer cycles through kits handed over before
                again = [(headers, handed[i::7] * 200) for i, (headers, _) in enumerate(clients)]
                with CpuMeter(base, url) as refused_cpu:
                    refused = closed_loop(base, scan_request, again, *common[1:])
                rounds.append((trivial, trivial_cpu, scans, scans_cpu))
                refused_rounds.append((trivial, trivial_cpu, refused, refused_cpu))
        check = kitrun(env, "stock", "check")

    print(
        f"\nkitrun serve --workers {args.workers} on PostgreSQL, {args.volunteers} concurrent "
        f"volunteers, {args.seconds:.0f} s per phase, {os.cpu_count()} CPUs (client on the same "
        "host); CPU per request: server processes, their PostgreSQL backends, load generator"
    )
    report_rounds("GET /healthz", "POST /api/v1/scans", rounds, target_ratio=0.6, target_p99_ms=200)
    print("\nrefused scans (already handed over), against the same rounds' /healthz:")
    report_rounds(
        "GET /healthz",
        "POST /api/v1/scans (refused)",
        refused_rounds,
        target_ratio=0.6,
        target_p99_ms=200,
    )
    print("stock check:", check.stdout.strip() or check.stderr.strip())


if __name__ == "__main__":
    main()
