"""Benchmark the roster import: a 100,000-line GBK roster with Chinese headers, twice in a row
(first import, then a replacement), on PostgreSQL and SQLite.

Run: .venv/bin/python bench/rosters.py [--n 100000]
PostgreSQL URL from KITRUN_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test);
a fresh database is created and dropped afterwards.
"""

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def make_roster(n: int) -> bytes:
    """n students, GBK, Chinese headers, dates in mixed spellings."""
    rnd = random.Random(42)
    lines = ["学号,姓名,出生日期,邮箱"]
    for i in range(n):
        born = date(1995, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 15))
        spelling = (born.isoformat(), f"{born.year}/{born.month}/{born.day}",
                    f"{born.day:02d}/{born.month:02d}/{born.year}",
                    f"{born.year}年{born.month}月{born.day}日")[i % 4]  # fmt: skip
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN)
        lines.append(f"2024{i:07d},{name},{spelling},s{i}@etu.univ-bench.fr")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def run(url: str, data: bytes, n: int) -> list[float]:
    from sqlmodel import Session

    from app.core.config import Settings
    from app.core.db import make_engine
    from app.migrate import upgrade
    from app.schools import rosters
    from app.schools import service as schools
    from models.schools import SchoolCreate

    upgrade(url)
    engine = make_engine(Settings(database_url=url, data_dir=Path(tempfile.gettempdir())))
    times = []
    with Session(engine, expire_on_commit=False) as session:
        school = schools.create_school(
            session=session, data=SchoolCreate(name_zh="基准大学", name_en="Bench University")
        )
        for _ in range(2):
            start = time.perf_counter()
            imp = rosters.import_roster(session=session, school_id=school.id, data=data)
            times.append(time.perf_counter() - start)
            assert imp.status == "done" and imp.imported == n, imp
    engine.dispose()
    return times


def report(name: str, times: list[float], n: int) -> None:
    for label, t in zip(("first import", "replacement"), times, strict=True):
        print(f"{name:10} {label:13} {n:>7} lines  {t:6.2f} s  {n / t:>9,.0f} lines/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args()
    data = make_roster(args.n)
    print(f"roster: {args.n} lines, {len(data) / 1e6:.1f} MB GBK")

    import psycopg

    pg = os.environ.get("KITRUN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"kitrun_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            report("postgresql", run(pg.rsplit("/", 1)[0] + f"/{name}", data, args.n), args.n)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    with tempfile.TemporaryDirectory() as tmp:
        report("sqlite", run(f"sqlite:///{tmp}/bench.db", data, args.n), args.n)


if __name__ == "__main__":
    main()
