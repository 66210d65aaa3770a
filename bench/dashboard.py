"""Benchmark the dashboard of a large campaign on PostgreSQL.

Run: .venv/bin/python bench/dashboard.py [--claims 150000] [--schools 500] [--scans 1000000]
        [--repeat 7]   (env KITRUN_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test)

Creates a fresh database, migrates it, seeds one campaign with `claims` claims at `schools`
schools (rosters of the same size), stock at 20 pickup points with a week of issues, a dispatched
run, and `scans` scan-log rows, all with INSERT … SELECT FROM generate_series, then VACUUM
ANALYZE (as autovacuum would after a bulk load). Then times the
dashboard service and GET /admin/dashboard through the HTTP client (median and max of the warm
runs; the first run is reported apart), then the first dashboard view of a freshly started
`kitrun serve` (fonts, templates and catalogs are loaded before it forks its workers), and
drops the database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

PG_URL = os.environ.get("KITRUN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
POINTS = 20

SEED_SQL = """
INSERT INTO item (sku, name_zh, name_en, unit, tracks_lot, tracks_expiry, low_stock_threshold,
                  is_kit)
VALUES ('KIT', '防疫包', 'Health kit', 'kit', true, true, 0, true);
INSERT INTO location (kind, name_zh, name_en, address, active)
VALUES ('warehouse', '领馆仓库', 'Consulate warehouse', '', true);
INSERT INTO location (kind, name_zh, name_en, address, active)
SELECT 'pickup_point', '领取点' || g, 'Point ' || g, '', true FROM generate_series(1, %(points)s) g;
INSERT INTO lot (item_id, code, expiry, donor, created_at)
SELECT 1, 'L' || g, current_date + g * 10, '', now() FROM generate_series(1, %(points)s + 1) g;
INSERT INTO "user" (username, display_name, role, password_hash, active, created_at)
VALUES ('dip', 'Diplomat', 'diplomat', %(hash)s, true, now()),
       ('vol', 'Volunteer', 'volunteer', %(hash)s, true, now());
INSERT INTO school (name_zh, name_en, city, email_domains, in_district)
SELECT '学校' || g, 'School ' || lpad(g::text, 3, '0'), 'City', '', true
FROM generate_series(1, %(schools)s) g;
INSERT INTO campaign (name_zh, name_en, opens_at, closes_at, kit_item_id, kits_per_student,
                      delivery_minors, delivery_quarantine, depot_location_id, public_id,
                      status, created_at)
VALUES ('春季发放', 'Spring round', now() - interval '30 days', now() + interval '30 days', 1, 1,
        true, true, 1, 'benchcampaign01', 'open', now());
INSERT INTO campaign_school (campaign_id, school_id, verification)
SELECT 1, g, CASE WHEN g %% 10 = 0 THEN 'email' ELSE 'roster' END
FROM generate_series(1, %(schools)s) g;
INSERT INTO roster_entry (school_id, student_number, name, name_norm, birth_date)
SELECT 1 + g %% %(schools)s, 'S' || g, 'Student ' || g, 'student' || g, date '2000-01-01'
FROM generate_series(1, %(claims)s * 11 / 10) g WHERE (1 + g %% %(schools)s) %% 10 <> 0;
INSERT INTO claim (campaign_id, school_id, student_key, status, token, short_code, name_zh,
                   name_latin, student_number, birth_date, phone, wechat, is_minor, quarantine,
                   priority, fulfilment, pickup_location_id, address, delivery_reason, locale,
                   reasons, reserved_item_id, reserved_lot_id, reserved_location_id, kits,
                   email_code_attempts, submitted_at, handed_over_at, handed_over_location_id,
                   updated_at)
SELECT 1, 1 + g %% %(schools)s, 'k' || g,
       (ARRAY['handed_over','handed_over','handed_over','allocated','ready','waitlisted',
              'submitted','rejected','cancelled','handed_over'])[1 + (g * 7) %% 10],
       md5('t' || g), upper(substr(md5('s' || g), 1, 10)), '学生', 'Student ' || g, 'S' || g,
       date '2000-01-01', '', '', g %% 13 = 0, false, 1,
       CASE WHEN g %% 20 = 0 THEN 'delivery' ELSE 'pickup' END,
       2 + g %% %(points)s, '', NULL, 'zh_CN', '[]', 1, 2 + g %% %(points)s,
       2 + g %% %(points)s, 1, 0,
       now() - (g %% 30) * interval '1 day' - (g %% 1440) * interval '1 minute',
       CASE WHEN (g * 7) %% 10 IN (0, 1, 2, 9)
            THEN now() - (g %% 20) * interval '1 day' END,
       CASE WHEN (g * 7) %% 10 IN (0, 1, 2, 9) THEN 2 + g %% %(points)s END,
       now()
FROM generate_series(1, %(claims)s) g;
INSERT INTO stock_movement (kind, note, user_id, created_at)
SELECT CASE WHEN g <= %(points)s THEN 'receive' ELSE 'issue' END, '', 1,
       now() - (g %% 7) * interval '1 day'
FROM generate_series(1, %(points)s * 8) g;
INSERT INTO stock_entry (movement_id, item_id, lot_id, location_id, on_hand_delta, reserved_delta)
SELECT g, 1, 2 + g %% %(points)s, 2 + g %% %(points)s,
       CASE WHEN g <= %(points)s THEN 9000 ELSE -(50 + g %% 40) END, 0
FROM generate_series(1, %(points)s * 8) g;
INSERT INTO stock_level (item_id, lot_id, location_id, on_hand, reserved)
SELECT 1, lot_id, location_id, sum(on_hand_delta), 0
FROM stock_entry GROUP BY lot_id, location_id;
INSERT INTO run (name, date, campaign_id, depot_location_id, service_s, status, warnings,
                 created_at)
VALUES ('Run A', current_date, 1, 1, 300, 'dispatched', '[]', now());
INSERT INTO run_stop (run_id, claim_id, seq, locked, status)
SELECT 1, g, g / 20, false,
       (ARRAY['planned','delivered','failed'])[1 + g %% 3]
FROM generate_series(20, least(4000, %(claims)s), 20) g;
INSERT INTO scan (claim_id, code_hash, user_id, location_id, nonce, scanned_at, received_at,
                  result, response, conflict)
SELECT 1 + g %% %(claims)s, md5('c' || g), 2, 2 + g %% %(points)s, 'n' || g,
       now() - (g %% 43200) * interval '1 minute', now() - (g %% 43200) * interval '1 minute',
       CASE WHEN g %% 9 = 0 THEN 'already_handed_over' ELSE 'ok' END, '{}', false
FROM generate_series(1, %(scans)s) g;
"""


def seed(url: str, claims: int, schools: int, scans: int) -> float:
    from app.core import security

    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=False) as conn:
        params = {
            "claims": claims,
            "schools": schools,
            "scans": scans,
            "points": POINTS,
            "hash": security.hash_password("bench-password-42"),
        }
        for statement in filter(None, (x.strip() for x in SEED_SQL.split(";\n"))):
            conn.execute(statement.rstrip(";"), params)
        conn.commit()
    # What autovacuum does after a bulk load: statistics and the visibility map.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - t0


def timed(fn, repeat: int) -> tuple[float, list[float]]:  # noqa: ANN001
    first = _once(fn)
    return first, [_once(fn) for _ in range(repeat)]


def _once(fn) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def login(client) -> None:  # noqa: ANN001
    """The seeded diplomat logs in (a TestClient or an httpx client: the session cookie)."""
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": "dip",
            "password": "bench-password-42",
            "next": "/",
            "csrf_token": client.cookies.get("kitrun_csrf"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def first_view_after_a_start(url: str) -> float:
    """`kitrun serve` started afresh, logged in, its first dashboard view (ms)."""
    import httpx

    from bench.harness import serve

    data = ROOT / "var" / "bench"
    data.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "KITRUN_DATABASE_URL": url,
        "KITRUN_DATA_DIR": str(data),
        "KITRUN_SECRET_KEY": "bench-secret-key-of-some-length",
        "KITRUN_LOG_LEVEL": "WARNING",
    }
    with serve(env, workers=1) as base, httpx.Client(base_url=base, timeout=30) as client:
        login(client)
        started = time.perf_counter()
        r = client.get("/admin/dashboard?campaign=1")
        took = (time.perf_counter() - started) * 1000
        assert r.status_code == 200 and '<svg id="chart-daily"' in r.text
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=150_000)
    ap.add_argument("--schools", type=int, default=500)
    ap.add_argument("--scans", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--starts", type=int, default=3, help="server starts for the first view")
    ap.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    args = ap.parse_args()

    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from app.core.config import Settings
    from app.core.db import make_engine
    from app.dashboard import figures as dashboard
    from app.main import create_app
    from app.migrate import upgrade

    name = f"kitrun_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_URL, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        took = seed(url, args.claims, args.schools, args.scans)
        print(
            f"seeded {args.claims:,} claims at {args.schools} schools, {args.scans:,} scans "
            f"in {took:.1f} s"
        )
        settings = Settings(database_url=url, secret_key="bench", data_dir=ROOT / "var" / "bench")
        engine = make_engine(settings)

        def service() -> None:
            with Session(engine) as s:
                d = dashboard.dashboard(session=s, campaign_id=1)
                assert d["headline"]["claims"] > 0

        first, runs = timed(service, args.repeat)
        print(
            f"dashboard service: median {statistics.median(runs):.0f} ms, "
            f"max {max(runs):.0f} ms (first {first:.0f} ms), {args.repeat} runs"
        )
        with Session(engine) as s:
            print("headline:", dashboard.headline(session=s, campaign_id=1))
        engine.dispose()
        app = create_app(settings)
        with TestClient(app) as client:
            login(client)

            def page() -> None:
                r = client.get("/admin/dashboard?campaign=1")
                assert r.status_code == 200 and '<svg id="chart-daily"' in r.text

            first, runs = timed(page, args.repeat)
            print(
                f"GET /admin/dashboard: median {statistics.median(runs):.0f} ms, "
                f"max {max(runs):.0f} ms (first {first:.0f} ms), {args.repeat} runs"
            )

            def report() -> None:
                r = client.get("/api/v1/reports/daily.pdf?campaign_id=1")
                assert r.status_code == 200

            first, runs = timed(report, 3)
            print(f"GET /api/v1/reports/daily.pdf: median {statistics.median(runs):.0f} ms")
        app.state.engine.dispose()
        print(f"first view after a start ({args.starts} starts of `kitrun serve --workers 1`):")
        firsts = [first_view_after_a_start(url) for _ in range(args.starts)]
        print(
            f"  first GET /admin/dashboard: median {statistics.median(firsts):.0f} ms, "
            f"max {max(firsts):.0f} ms (target < 500 ms)"
        )
    finally:
        if args.keep:
            print("kept:", url)
        else:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
