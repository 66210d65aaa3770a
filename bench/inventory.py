"""Benchmark the stock ledger: movements per second through the service layer and over HTTP.

Run: .venv/bin/python bench/inventory.py [--n 300] [--clients 20] [--seconds 8]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

On a fresh PostgreSQL database: receive, transfer, assemble (a 4-component kit) and issue, each
`--n` times through app.inventory.service in one process; then the same kinds over HTTP against
`kitrun serve --workers 2` with `--clients` concurrent clients for `--seconds` each. Prints
movements per second per kind. The database is dropped at the end and `kitrun stock check` must
pass.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.harness import fresh_database, kitrun, serve  # noqa: E402

FUTURE = (date.today() + timedelta(days=400)).isoformat()


def seed(session) -> dict:  # noqa: ANN001
    from app.inventory import service as inventory
    from models.inventory import ItemCreate, LocationCreate, RecipeLineIn

    wh = inventory.create_location(
        session=session, data=LocationCreate(kind="warehouse", name_zh="仓库", name_en="Warehouse")
    )
    pt = inventory.create_location(
        session=session, data=LocationCreate(kind="pickup_point", name_zh="点", name_en="Point")
    )
    items = {}
    for sku, lot in (("KN95", True), ("GEL", True), ("WIPES", False), ("GUIDE", False)):
        items[sku] = inventory.create_item(
            session=session, data=ItemCreate(sku=sku, name_zh=sku, name_en=sku, tracks_lot=lot)
        )
    kit = inventory.create_item(
        session=session,
        data=ItemCreate(sku="KIT", name_zh="包", name_en="Kit", tracks_lot=False, unit="kit"),
    )
    inventory.set_recipe(
        session=session,
        kit_item_id=kit.id,
        lines=[
            RecipeLineIn(component_item_id=items[s].id, quantity=q)
            for s, q in (("KN95", 2), ("GEL", 1), ("WIPES", 1), ("GUIDE", 1))
        ],
    )
    return {"wh": wh.id, "pt": pt.id, "kit": kit.id, **{s: i.id for s, i in items.items()}}


def lines(kind: str, ids: dict, i: int) -> list[dict]:
    if kind == "receive":
        return [
            {
                "item_id": ids["KN95"],
                "location_id": ids["wh"],
                "quantity": 100,
                "lot_code": f"L{i % 50}",
                "expiry": FUTURE,
            },
            {
                "item_id": ids["GEL"],
                "location_id": ids["wh"],
                "quantity": 50,
                "lot_code": f"G{i % 50}",
                "expiry": FUTURE,
            },
            {"item_id": ids["WIPES"], "location_id": ids["wh"], "quantity": 50},
            {"item_id": ids["GUIDE"], "location_id": ids["wh"], "quantity": 50},
        ]
    if kind == "assemble":
        return [{"item_id": ids["kit"], "location_id": ids["wh"], "quantity": 1}]
    if kind == "transfer":
        return [
            {
                "item_id": ids["kit"],
                "from_location_id": ids["wh"],
                "to_location_id": ids["pt"],
                "quantity": 1,
            }
        ]
    return [
        {"item_id": ids["kit"], "location_id": ids["pt"], "lot_id": ids["kit_lot"], "quantity": 1}
    ]


KINDS = ("receive", "assemble", "transfer", "issue")


def _kit_lot(session, ids: dict) -> int:  # noqa: ANN001
    from sqlmodel import select

    from models.inventory import StockLevel

    return session.exec(
        select(StockLevel.lot_id).where(
            StockLevel.item_id == ids["kit"], StockLevel.location_id == ids["pt"]
        )
    ).first()


def service_run(url: str, n: int) -> tuple[dict, dict]:
    from sqlmodel import Session

    from app.core.config import Settings
    from app.core.db import make_engine
    from app.inventory import service as inventory
    from models.inventory import MovementIn

    engine = make_engine(Settings(database_url=url, secret_key="bench"))
    out = {}
    with Session(engine, expire_on_commit=False) as s:
        ids = seed(s)
        for kind in KINDS:
            if kind == "issue":
                ids["kit_lot"] = _kit_lot(s, ids)
            t0 = time.perf_counter()
            for i in range(n):
                inventory.record_movement(
                    session=s, user_id=None, data=MovementIn(kind=kind, lines=lines(kind, ids, i))
                )
            out[kind] = n / (time.perf_counter() - t0)
    engine.dispose()
    return ids, out


def http_run(base: str, token: str, ids: dict, clients: int, seconds: float) -> dict:
    out = {}
    for kind in KINDS:
        done = [0] * clients
        stop = time.time() + seconds

        def client(k: int, kind: str = kind, done: list = done, stop: float = stop) -> None:
            with httpx.Client(
                base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}
            ) as c:
                i = 0
                while time.time() < stop:
                    r = c.post(
                        "/api/v1/stock/movements",
                        json={
                            "kind": kind,
                            "reason": "other" if kind == "adjust" else None,
                            "lines": lines(kind, ids, k * 100000 + i),
                        },
                    )
                    if r.status_code == 201:
                        done[k] += 1
                    i += 1

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out[kind] = sum(done) / (time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    with fresh_database(args.postgres) as (url, env):
        ids, svc = service_run(url, args.n)
        kitrun(
            env,
            "user",
            "create",
            "--username",
            "bench",
            "--role",
            "diplomat",
            "--password",
            "bench-pass-1",
        )
        with serve(env, 2) as base:
            token = httpx.post(
                base + "/api/v1/auth/token", json={"username": "bench", "password": "bench-pass-1"}
            ).json()["access_token"]
            web = http_run(base, token, ids, args.clients, args.seconds)
        check = kitrun(env, "stock", "check")
    print(
        f"\nstock movements per second on PostgreSQL ({os.cpu_count()} CPUs; HTTP: kitrun serve "
        f"--workers 2, {args.clients} clients on the same host)"
    )
    print(f"{'movement':<22}{'service':>10}{'HTTP':>10}")
    for kind in KINDS:
        print(f"{kind:<22}{svc[kind]:>10.0f}{web[kind]:>10.0f}")
    print("stock check:", check.stdout.strip() or check.stderr.strip())


if __name__ == "__main__":
    main()
