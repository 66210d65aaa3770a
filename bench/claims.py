"""Benchmark the public claim endpoint: claims/s and p50/p99 at 50 concurrent clients.

Run: .venv/bin/python bench/claims.py [--seconds 10] [--clients 50] [--students 120000]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--workers 2]

Creates a fresh PostgreSQL database, migrates it, seeds an open campaign with one school whose
roster lists `--students` students and kits for half of them at a pickup point, starts
`kitrun serve --workers 2`, then runs a closed-loop load (each client sends its next request when
the last one answered) against GET /healthz (which queries the database) and, in the same run,
against POST /api/v1/campaigns/{id}/claims with a distinct student per request (roster check,
one-claim constraint, kit reservation or waitlist). Client processes run the threads so the load
generator is not one GIL. It does this in --rounds rounds (default 3), /healthz then claims
back to back, and prints each round with the CPU per request of the server processes, their
PostgreSQL backends and the load generator, then the median ratio. The database is dropped at
the end.
"""

from __future__ import annotations

import argparse
import os
import sys
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


def seed(url: str, students: int) -> dict:
    """An open campaign, a school with a roster of `students`, kits for half of them."""
    from datetime import date, timedelta

    from sqlalchemy import insert
    from sqlmodel import Session

    from app.campaigns import service as campaigns
    from app.core.config import Settings
    from app.core.db import make_engine
    from app.inventory import service as inventory
    from app.schools.rosters import normalize_name
    from models.base import utcnow
    from models.campaigns import CampaignCreate, CampaignSchoolIn
    from models.inventory import ItemCreate, LocationCreate, MovementIn
    from models.schools import RosterEntry, School

    engine = make_engine(Settings(database_url=url, secret_key="bench"))
    with Session(engine, expire_on_commit=False) as s:
        point = inventory.create_location(
            session=s,
            data=LocationCreate(
                kind="pickup_point", name_zh="点", name_en="Point", lat=48.8, lon=2.3
            ),
        )
        kit = inventory.create_item(
            session=s,
            data=ItemCreate(
                sku="KIT", name_zh="健康包", name_en="Kit", unit="kit", tracks_lot=False
            ),
        )
        inventory.record_movement(
            session=s,
            user_id=None,
            data=MovementIn(
                kind="receive",
                lines=[{"item_id": kit.id, "location_id": point.id, "quantity": students // 2}],
            ),
        )
        kit.is_kit = True
        s.add(kit)
        school = School(name_zh="学校", name_en="School", city="Paris")
        s.add(school)
        s.commit()
        s.execute(
            insert(RosterEntry),
            [
                {
                    "school_id": school.id,
                    "student_number": f"B{i:06d}",
                    "name": f"Student {i}",
                    "name_norm": normalize_name(f"Student {i}"),
                    "birth_date": date(2000, 1, 1),
                }
                for i in range(students)
            ],
        )
        s.commit()
        c = campaigns.create_campaign(
            session=s,
            data=CampaignCreate(
                name_zh="压测",
                name_en="Bench",
                opens_at=utcnow() - timedelta(days=1),
                closes_at=utcnow() + timedelta(days=1),
                kit_item_id=kit.id,
                status="open",
                schools=[CampaignSchoolIn(school_id=school.id, verification="roster")],
            ),
        )
        out = {"public_id": c.public_id, "school_id": school.id, "point_id": point.id}
    engine.dispose()
    return out


def claim_request(c: httpx.Client, numbers: list, i: int, job: dict) -> str:
    """A claim by the client's next student."""
    n = numbers[i]
    r = c.post(
        f"/api/v1/campaigns/{job['public_id']}/claims",
        json={
            "school_id": job["school_id"],
            "name_latin": f"Student {n}",
            "student_number": f"B{n:06d}",
            "birth_date": "2000-01-01",
            "fulfilment": "pickup",
            "pickup_location_id": job["point_id"],
            "consent": True,
        },
    )
    return r.json().get("status") or str(r.status_code)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--students", type=int, default=120000)
    ap.add_argument("--processes", type=int, default=2, help="client processes")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--rounds", type=int, default=3, help="healthz-then-claims rounds")
    args = ap.parse_args()

    # the load comes from one address; the limits are tested elsewhere
    with fresh_database(args.postgres, KITRUN_CLAIM_RATE_PER_IP="100000000") as (url, env):
        print(f"seeding a roster of {args.students} students …", flush=True)
        info = seed(url, args.students)
        per = args.students // args.clients // args.rounds
        rounds = []
        with serve(env, args.workers) as base:
            for n in range(args.rounds):
                # each round claims for students who have not claimed yet
                first = n * per * args.clients
                numbers = [
                    list(range(first + i * per, first + (i + 1) * per)) for i in range(args.clients)
                ]
                clients = [({}, nums) for nums in numbers]
                common = (clients, info, args.seconds, args.processes)
                with CpuMeter(base, url) as trivial_cpu:
                    trivial = closed_loop(base, healthz_request, *common)
                with CpuMeter(base, url) as claims_cpu:
                    claims = closed_loop(base, claim_request, *common)
                rounds.append((trivial, trivial_cpu, claims, claims_cpu))
        check = kitrun(env, "stock", "check")

    print(
        f"\nkitrun serve --workers {args.workers} on PostgreSQL, {args.clients} concurrent "
        f"clients, {args.seconds:.0f} s per phase, {os.cpu_count()} CPUs (client on the same "
        "host); CPU per request: server processes, their PostgreSQL backends, load generator"
    )
    report_rounds(
        "GET /healthz",
        "POST /api/v1/campaigns/…/claims",
        rounds,
        target_ratio=0.5,
        target_p99_ms=300,
    )
    print("stock check:", check.stdout.strip() or check.stderr.strip())


if __name__ == "__main__":
    main()
