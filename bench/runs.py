"""Benchmark the service-level optimise of a delivery run: 300 claims, 6 cars, on PostgreSQL.

Run: .venv/bin/python bench/runs.py [--claims 300] [--cars 6] [--capacity 60] [--radius 75]
        [--repeat 3] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Creates a fresh PostgreSQL database, migrates it, seeds a district of delivery claims spread
uniformly within --radius km of the depot (kits reserved at the depot through the ledger), then
drives the API in-process (FastAPI TestClient): create the run, add the cars, select the claims,
and time POST /api/v1/runs/{id}/optimize (matrix + VROOM + storing the stops), --repeat times.
The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=300)
    ap.add_argument("--cars", type=int, default=6)
    ap.add_argument("--capacity", type=int, default=60)
    ap.add_argument("--radius", type=float, default=75.0, help="km around the depot")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()

    name = f"kitrun_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(args.postgres, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = args.postgres.rsplit("/", 1)[0] + f"/{name}"
    env = {**os.environ, "KITRUN_DATABASE_URL": url, "KITRUN_SECRET_KEY": "bench-secret"}
    try:
        subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True)
        run(url, args)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def run(url: str, args: argparse.Namespace) -> None:
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from app.core.config import Settings
    from app.main import create_app
    from tests import factories as f
    from tests.runs import factories as rf

    settings = Settings(database_url=url, secret_key="bench-secret")
    app = create_app(settings)
    with TestClient(app) as client, Session(app.state.engine, expire_on_commit=False) as s:
        setup = rf.district(s, kits=args.claims + 10)
        t = time.perf_counter()
        rf.scattered(s, setup, args.claims, radius_km=args.radius)
        print(f"seeded {args.claims} claims in {time.perf_counter() - t:.1f} s")
        headers = f.api_headers(client)
        r = client.post(
            "/api/v1/runs",
            json={"name": "bench", "date": "2026-05-05", "depot_location_id": setup["depot"].id},
            headers=headers,
        )
        run_id = r.json()["id"]
        for i in range(args.cars):
            client.post(
                f"/api/v1/runs/{run_id}/vehicles",
                json={
                    "name": f"Car {i + 1}",
                    "capacity": args.capacity,
                    "shift_start_s": 8 * 3600,
                    "shift_end_s": 20 * 3600,
                },
                headers=headers,
            ).raise_for_status()
        t = time.perf_counter()
        r = client.post(f"/api/v1/runs/{run_id}/claims", json={"limit": 2000}, headers=headers)
        r.raise_for_status()
        print(f"selected {len(r.json())} claims in {time.perf_counter() - t:.2f} s")
        times = []
        for i in range(args.repeat):
            t = time.perf_counter()
            r = client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers)
            times.append(time.perf_counter() - t)
            r.raise_for_status()
            body = r.json()
            routed = sum(1 for x in body["stops"] if x["vehicle_id"] is not None)
            reasons: dict[str, int] = {}
            for x in body["stops"]:
                if x["vehicle_id"] is None:
                    reasons[x["unassigned_reason"]] = reasons.get(x["unassigned_reason"], 0) + 1
            print(
                f"optimise #{i + 1}: {times[-1]:.2f} s  routed {routed}  unassigned "
                f"{sum(reasons.values())} {reasons or ''}  {body['distance_m'] / 1000:,.0f} km"
            )
        print(
            f"{args.claims} claims, {args.cars} cars x {args.capacity}, radius {args.radius:g} km: "
            f"median {statistics.median(times):.2f} s, max {max(times):.2f} s (target 5 s)"
        )


if __name__ == "__main__":
    main()
