"""Benchmark a background label print end to end: select claims, render, mark them ready.

Run: .venv/bin/python bench/labels_print.py [--n 10000] [--database-url URL]
Without --database-url it uses a fresh SQLite file in a temporary directory.
"""

import argparse
import resource
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()

    from sqlalchemy import insert
    from sqlmodel import Session

    from app.core.config import Settings
    from app.core.db import make_engine
    from app.core.files import FileStore
    from app.core.security import new_claim_token, new_short_code
    from app.migrate import upgrade
    from app.printing import jobs as print_jobs
    from models.claims import Claim
    from models.printing import LabelsIn
    from tests.pickup import factories as pf

    tmp = Path(tempfile.mkdtemp(prefix="kitrun-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'kitrun.db'}"
    settings = Settings(data_dir=tmp, database_url=url, secret_key="bench")
    upgrade(settings.sqlalchemy_url, "head")
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        w = pf.world(s, kits=1)
        rows = [
            {
                "campaign_id": w.campaign.id,
                "school_id": w.school.id,
                "student_key": f"bench:{uuid.uuid4().hex}",
                "status": "allocated",
                "token": new_claim_token(),
                "short_code": new_short_code(),
                "name_zh": "欧阳小明",
                "name_latin": f"OUYANG Xiaoming {i:05d}",
                "birth_date": date(2003, 1, 1),
                "reserved_item_id": w.kit.id,
                "reserved_location_id": w.point.id,
                "pickup_location_id": w.point.id,
            }
            for i in range(args.n)
        ]
        for i in range(0, len(rows), 1000):
            s.execute(insert(Claim), rows[i : i + 1000])
        s.commit()
        job = print_jobs.create_job(
            session=s, settings=settings, data=LabelsIn(campaign_id=w.campaign.id), user_id=None
        )
    t0 = time.perf_counter()
    job = print_jobs.run_job(engine=engine, settings=settings, job_id=job.id)
    dt = time.perf_counter() - t0
    assert job.status == "done", job.message
    size = FileStore(engine).info(job.file_path).size  # the PDF, stored in the database
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    db = "PostgreSQL" if "postgres" in url else "SQLite"
    print(f"{db}: {job.total} labels (L7160) selected, rendered and marked ready in {dt:.2f} s")
    print(f"  {job.total / dt:.0f} labels/s, PDF {size / 1e6:.1f} MB, peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
