"""Database faults: lost connections are retried (scans, claims) or answered 503, never 500;
/readyz says whether the database answers and is at the migrations' head."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlmodel import Session

from app.core import faults
from app.core.config import Settings
from app.core.db import make_engine
from app.main import create_app
from app.migrate import alembic_config
from models.claims import Claim
from models.pickup import Scan
from tests.conftest import LiveServer, free_port

TERMINATE = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def _down_app(tmp_path) -> TestClient:  # noqa: ANN001
    """An app whose database URL points at a closed port (no lifespan: no event-loop pool)."""
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/gone"
    app = create_app(Settings(data_dir=tmp_path, database_url=url, secret_key="test-secret"))
    return TestClient(app, base_url="http://testserver", raise_server_exceptions=False)


# ---------------------------------------------------------------- classification


def test_connection_lost_is_told_from_real_errors(pg) -> None:  # noqa: ANN001
    settings, _ = pg
    with psycopg.connect(settings.database_url, autocommit=True) as victim:
        pid = victim.info.backend_pid
        with psycopg.connect(settings.database_url, autocommit=True) as killer:
            killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(psycopg.Error) as lost:
            victim.execute("SELECT 1")
    assert faults.connection_lost(lost.value)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as syntax:
            conn.execute("SELEC 1")
        with pytest.raises(psycopg.Error) as unique:
            conn.execute("CREATE TEMP TABLE t (x int PRIMARY KEY); INSERT INTO t VALUES (1), (1)")
    assert not faults.connection_lost(syntax.value)
    assert not faults.connection_lost(unique.value)
    # through SQLAlchemy: a refused connection is lost; a bad statement is not
    engine = make_engine(Settings(database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/x"))
    with pytest.raises(Exception) as refused, engine.connect():
        pass
    assert faults.connection_lost(refused.value)
    engine = make_engine(settings)
    with pytest.raises(Exception) as bad, engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    engine.dispose()
    assert not faults.connection_lost(bad.value)


# ---------------------------------------------------------------- 503, never 500


def test_api_and_pages_answer_503_when_the_database_is_gone(tmp_path) -> None:  # noqa: ANN001
    c = _down_app(tmp_path)
    r = c.post(
        "/api/v1/scans",
        headers={"Authorization": "Bearer some-token"},
        json={
            "code": "X" * 20,
            "point_id": 1,
            "nonce": uuid.uuid4().hex,
            "scanned_at": datetime.now(UTC).isoformat(),
        },
    )
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "2"
    assert r.json()["error"]["code"] == "database_unavailable"
    claim = {
        "school_id": 1,
        "name_zh": "王小明",
        "name_latin": "Wang Xiaoming",
        "student_number": "S1",
        "birth_date": "2000-01-01",
        "fulfilment": "pickup",
        "consent": True,
    }
    r = c.post("/api/v1/campaigns/abcdef/claims", json=claim)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "database_unavailable"
    page = c.get("/claim/abcdef?lang=en")
    assert page.status_code == 503
    assert page.headers["retry-after"] == "2"
    assert "text/html" in page.headers["content-type"]
    assert "The database cannot be reached just now" in page.text
    zh = c.get("/claim/abcdef?lang=zh_CN")
    assert zh.status_code == 503
    assert 'lang="zh-CN"' in zh.text and "暂时无法连接数据库" in zh.text


# ---------------------------------------------------------------- /readyz


def test_readyz_on_a_migrated_database(client) -> None:  # noqa: ANN001
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ready"


def test_readyz_when_the_database_is_unreachable(tmp_path) -> None:  # noqa: ANN001
    r = _down_app(tmp_path).get("/readyz")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "2"
    assert r.json()["error"]["details"] == {"database": "unreachable"}


def test_readyz_when_migrations_are_behind(pg) -> None:  # noqa: ANN001
    settings, session = pg
    script = ScriptDirectory.from_config(alembic_config(settings.database_url))
    (head,) = script.get_heads()
    behind = script.get_revision(head).down_revision
    session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": behind})
    session.commit()
    try:
        app = create_app(settings)
        r = TestClient(app).get("/readyz")
        app.state.engine.dispose()
    finally:
        session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        session.commit()
    assert r.status_code == 503
    assert behind in r.json()["error"]["details"]["migrations"]


# ---------------------------------------------------------------- the drill


class Terminator(threading.Thread):
    """Terminates every other connection to the database every 100–200 ms until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.kills = 0

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(random.uniform(0.1, 0.2)):
                self.kills += sum(1 for (done,) in conn.execute(TERMINATE) if done)


def _send(c: httpx.Client, method: str, path: str, statuses: Counter, **kw) -> httpx.Response:
    """A request retried as the scanner app and the claim form do: on a 503 or a broken
    connection, the same request again (same nonce, same body) until it is answered."""
    for _ in range(200):
        try:
            r = c.request(method, path, **kw)
        except httpx.TransportError:
            statuses["transport"] += 1
            time.sleep(0.05)
            continue
        statuses[r.status_code] += 1
        if r.status_code != 503:
            return r
        time.sleep(0.05)
    raise AssertionError(f"no answer in 200 tries: {statuses}")


def _under_terminations(server: LiveServer, terminator: Terminator, client) -> object:  # noqa: ANN001
    """`client(0)` … `client(7)` in threads while the terminator kills the app's connections;
    then `kitrun stock check` (its completed process)."""
    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    terminator.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    terminator.stop.set()
    terminator.join()
    return server.cli("stock", "check")


@pytest.mark.slow
def test_scans_under_connection_terminations(pg, tmp_path) -> None:  # noqa: ANN001
    from bench.scans import seed

    settings, _ = pg
    point_id, codes, _, api_tokens = seed(settings.database_url, claims=300, volunteers=8, handed=0)
    server = LiveServer(settings, workers=2)
    statuses: Counter = Counter()
    results: list = [None] * len(codes)
    terminator = Terminator(settings.database_url)
    try:

        def volunteer(v: int) -> None:
            with httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {api_tokens[v]}"}
            ) as c:
                for i in range(v, len(codes), len(api_tokens)):
                    body = {
                        "code": codes[i],
                        "point_id": point_id,
                        "nonce": uuid.uuid4().hex,
                        "scanned_at": datetime.now(UTC).isoformat(),
                    }
                    r = _send(c, "POST", "/api/v1/scans", statuses, json=body)
                    results[i] = (r.status_code, r.json().get("result"))

        check = _under_terminations(server, terminator, volunteer)
    finally:
        terminator.stop.set()
        server.stop()
    assert terminator.kills > 0
    assert statuses[500] == 0, statuses
    assert Counter(results) == {(200, "ok"): len(codes)}, (Counter(results), statuses)
    engine = make_engine(settings)
    with Session(engine) as s:
        by_status = dict(s.execute(select(Claim.status, func.count()).group_by(Claim.status)).all())
        per_claim = Counter(
            s.execute(select(Scan.claim_id).where(Scan.result == "ok")).scalars().all()
        )
    engine.dispose()
    assert by_status == {"handed_over": len(codes)}
    assert len(per_claim) == len(codes) and set(per_claim.values()) == {1}
    assert check.returncode == 0, check.stdout + check.stderr
    print(f"terminations: {terminator.kills}, answers: {dict(statuses)}")


@pytest.mark.slow
def test_claims_under_connection_terminations(pg) -> None:  # noqa: ANN001
    from bench.claims import seed

    settings, _ = pg
    students = 160
    job = seed(settings.database_url, students)
    env = {"KITRUN_CLAIM_RATE_PER_IP": "100000"}
    server = LiveServer(settings, workers=2, env=env)
    statuses: Counter = Counter()
    answers: list = [None] * students
    terminator = Terminator(settings.database_url)
    try:

        def student_group(g: int) -> None:
            with httpx.Client(base_url=server.url) as c:
                for n in range(g, students, 8):
                    body = {
                        "school_id": job["school_id"],
                        "name_latin": f"Student {n}",
                        "student_number": f"B{n:06d}",
                        "birth_date": "2000-01-01",
                        "fulfilment": "pickup",
                        "pickup_location_id": job["point_id"],
                        "consent": True,
                    }
                    path = f"/api/v1/campaigns/{job['public_id']}/claims"
                    r = _send(c, "POST", path, statuses, json=body)
                    answers[n] = (r.status_code, r.json())

        check = _under_terminations(server, terminator, student_group)
    finally:
        terminator.stop.set()
        server.stop()
    assert terminator.kills > 0
    assert statuses[500] == 0, statuses
    engine = make_engine(settings)
    with Session(engine) as s:
        stored = s.execute(select(Claim.student_number, Claim.token, Claim.status)).all()
    engine.dispose()
    by_student = Counter(number for number, _, _ in stored)
    assert len(by_student) == students and set(by_student.values()) == {1}  # no duplicates
    token_of = {number: token for number, token, _ in stored}
    for n, (status, body) in enumerate(answers):
        # answered with its claim; or 409 when an answer lost twice had stored it (the student
        # finds it by the claim search)
        assert status in (201, 409), (status, body)
        if status == 201:
            assert body["token"] == token_of[f"B{n:06d}"]
    statuses_of = Counter(status for _, _, status in stored)
    assert statuses_of == {"allocated": students // 2, "waitlisted": students // 2}, statuses_of
    assert check.returncode == 0, check.stdout + check.stderr
    print(f"terminations: {terminator.kills}, answers: {dict(statuses)}")
