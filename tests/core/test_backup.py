"""`kitrun backup` and `kitrun restore` on SQLite and PostgreSQL, and the restore drill: a backup
taken under load restores into a new database that passes `kitrun stock check`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import Session

from app.core import backup as backups
from app.core.config import Settings
from app.core.db import make_engine
from app.migrate import alembic_config, downgrade, upgrade
from tests.concurrency import token
from tests.conftest import PG_URL, ROOT, LiveServer
from tests.factories import campaign_setup, move, roster, user

COUNTED = ("claim", "claim_event", "stock_movement", "stock_entry", "stock_level", "user")


def _kitrun(settings: Settings, *args: str, path: str | None = None) -> subprocess.CompletedProcess:
    """The kitrun command against `settings`' database."""
    env = {
        **os.environ,
        "KITRUN_DATABASE_URL": settings.database_url or "",
        "KITRUN_DATA_DIR": str(settings.data_dir),
        "KITRUN_SECRET_KEY": "test-secret",
    }
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextmanager
def _new_database(like: Settings, where: Path) -> Iterator[Settings]:
    """Settings for a new, empty database (no schema) of the same kind as `like`."""
    where.mkdir()
    if like.is_sqlite:
        yield Settings(
            data_dir=where, database_url=f"sqlite:///{where / 'kitrun.db'}", secret_key="t"
        )
        return
    name = f"kitrun_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
            yield Settings(data_dir=where, database_url=url, secret_key="t")
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def target(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    with _new_database(settings, tmp_path / "restored") as s:
        yield s


def _counts(settings: Settings, tables: tuple[str, ...] = COUNTED) -> dict[str, int]:
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}
    finally:
        engine.dispose()


def _all_counts(settings: Settings) -> dict[str, int]:
    from sqlmodel import SQLModel

    return _counts(settings, tuple(t.name for t in SQLModel.metadata.sorted_tables))


def _usernames(settings: Settings) -> set[str]:
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            return set(conn.execute(text('SELECT username FROM "user"')).scalars())
    finally:
        engine.dispose()


def _seed(settings: Settings) -> None:
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        setup = campaign_setup(s, kits=3)
        move(
            s,
            "receive",
            {"item_id": setup["kit"].id, "location_id": setup["depot"].id, "quantity": 7},
        )
        user(s, "source-dip")
    engine.dispose()


def _migrated(source: Settings, target: Settings) -> None:
    """Give `target` the migrated schema of `source` (empty): quicker than running migrations."""
    backups.restore(target, backups.backup(source, out=source.data_dir))


def _stock_check(settings: Settings) -> list:
    from app.inventory import ledger

    engine = make_engine(settings)
    try:
        with Session(engine) as s:
            return ledger.check(s)
    finally:
        engine.dispose()


def _written(result: subprocess.CompletedProcess) -> Path:
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("backup written: "), result.stdout
    return Path(result.stdout.split("backup written: ", 1)[1].split(" (", 1)[0])


def test_backup_restores_into_a_new_database(settings, target):
    _seed(settings)
    path = _written(_kitrun(settings, "backup"))
    suffix = ".sqlite" if settings.is_sqlite else ".dump"
    assert path.parent == settings.data_dir / "backups" and path.suffix == suffix
    assert path.name.startswith("kitrun-") and path.stat().st_mode & 0o077 == 0
    assert not list(path.parent.glob(".*partial"))

    r = _kitrun(target, "restore", str(path))
    assert r.returncode == 0, r.stderr
    assert "restored" in r.stdout and "kitrun migrate" not in r.stdout
    assert _all_counts(target) == _all_counts(settings)
    assert _counts(target)["stock_entry"] > 0 and _usernames(target) == {"source-dip"}
    assert _stock_check(target) == []


def test_restore_refuses_a_database_that_holds_data_unless_forced(settings, target):
    _seed(settings)
    path = backups.backup(settings)
    backups.restore(target, path)
    engine = make_engine(target)
    with Session(engine) as s:
        user(s, "target-dip")
    engine.dispose()
    before = _all_counts(target)

    refused = _kitrun(target, "restore", str(path))
    assert refused.returncode == 1
    assert "not empty" in refused.stderr and "--force" in refused.stderr
    assert _all_counts(target) == before
    assert _usernames(target) == {"source-dip", "target-dip"}
    with pytest.raises(backups.BackupError, match="not empty"):
        backups.restore(target, path)

    forced = _kitrun(target, "restore", "--force", str(path))
    assert forced.returncode == 0, forced.stderr
    assert _usernames(target) == {"source-dip"}
    assert _all_counts(target) == _all_counts(settings)
    assert _stock_check(target) == []


def test_restore_refuses_a_backup_of_unknown_migrations(settings, target):
    """A backup made by a newer kitrun (a revision this code lacks) is not restored."""
    _migrated(settings, target)
    engine = make_engine(target)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'fffffffffff0'"))
    engine.dispose()
    path = backups.backup(target)
    before = _all_counts(settings)

    r = _kitrun(settings, "restore", "--force", str(path))
    assert r.returncode == 1 and "fffffffffff0" in r.stderr and "version" in r.stderr
    assert _all_counts(settings) == before
    assert backups._database_revision(settings.sqlalchemy_url) != "fffffffffff0"


def test_restore_of_an_older_backup_says_to_migrate(settings, target, tmp_path):
    scripts = ScriptDirectory.from_config(alembic_config(settings.sqlalchemy_url))
    previous = scripts.get_revision(scripts.get_current_head()).down_revision
    _migrated(settings, target)
    downgrade(target.sqlalchemy_url, previous)
    path = backups.backup(target)

    with _new_database(settings, tmp_path / "fresh") as fresh:
        r = _kitrun(fresh, "restore", str(path))
        assert r.returncode == 0, r.stderr
        assert previous in r.stdout and "kitrun migrate" in r.stdout
        upgrade(fresh.sqlalchemy_url)
        assert backups._database_revision(fresh.sqlalchemy_url) == scripts.get_current_head()

    # over a database at another revision: SQLite's file is replaced whole; pg_restore --clean
    # would leave the newer tables behind, so PostgreSQL refuses
    r = _kitrun(settings, "restore", "--force", str(path))
    if settings.is_sqlite:
        assert r.returncode == 0 and "kitrun migrate" in r.stdout, r.stderr
    else:
        assert r.returncode == 1 and "createdb" in r.stderr
        assert backups._database_revision(settings.sqlalchemy_url) == scripts.get_current_head()


def test_keep_deletes_all_but_the_newest_backups(settings):
    directory = settings.data_dir / "backups"
    directory.mkdir()
    other = directory / "notes.txt"
    other.write_text("not a backup")
    made = [backups.backup(settings) for _ in range(3)]
    assert len(set(made)) == 3

    r = _kitrun(settings, "backup", "--keep", "2")
    newest = _written(r)
    assert r.stdout.count("deleted old backup") == 2
    assert sorted(directory.iterdir()) == sorted([made[2], newest, other])


def test_backup_into_a_missing_directory_fails_clearly(settings, tmp_path):
    r = _kitrun(settings, "backup", "--out", str(tmp_path / "nowhere" / "x.bak"))
    assert r.returncode == 1 and "does not exist" in r.stderr


def test_backup_without_pg_dump_names_the_package(pg_database, tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=pg_database, secret_key="t")
    empty = tmp_path / "bin"
    empty.mkdir()
    r = _kitrun(settings, "backup", path=str(empty))
    assert r.returncode == 1 and "pg_dump not found" in r.stderr
    assert "postgresql-client" in r.stderr
    assert not (tmp_path / "backups").exists() or not list((tmp_path / "backups").iterdir())


def test_the_password_goes_to_pg_tools_in_the_environment():
    conninfo, env = backups._libpq("postgresql+psycopg://kit:s3cr%40t@db.example:5433/kitrun")
    assert "s3cr" not in conninfo and env["PGPASSWORD"] == "s3cr@t"
    assert "host=db.example" in conninfo and "port=5433" in conninfo and "user=kit" in conninfo


# ---------------------------------------------------------------- the restore drill


@pytest.mark.slow
def test_drill_backup_under_load_restores_consistently(settings, target):
    """Claims and stock movements arrive from four threads while `kitrun backup` runs; the
    backup restores into a new database whose ledger and reservations are whole, with row
    counts between those before the backup and after the load."""
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        setup = campaign_setup(s, kits=400)
        roster(
            s,
            setup["school"].id,
            [(f"N{i:04d}", f"Student {i}", "2000-06-15") for i in range(3000)],
        )
        public_id, kit_id = setup["campaign"].public_id, setup["kit"].id
        depot_id = setup["depot"].id
    engine.dispose()
    server = LiveServer(
        settings,
        workers=2,
        env={"KITRUN_CLAIM_RATE_PER_IP": "100000", "KITRUN_CLAIM_RATE_PER_STUDENT": "1000"},
    )
    try:
        headers = token(server.url, server.cli, "drill-dip")
        claim_url = f"{server.url}/api/v1/campaigns/{public_id}/claims"
        move_url = f"{server.url}/api/v1/stock/movements"
        stop = threading.Event()
        lock = threading.Lock()
        codes: Counter = Counter()
        sequence = iter(range(3000))

        def load() -> None:
            with httpx.Client(timeout=60) as c:
                while not stop.is_set():
                    with lock:
                        i = next(sequence, None)
                    if i is None:
                        return
                    if i % 2:
                        line = {"sku": "KIT", "location_id": depot_id, "quantity": 1}
                        r = c.post(
                            move_url, headers=headers, json={"kind": "receive", "lines": [line]}
                        )
                    else:
                        body = {
                            "school_id": setup["school"].id,
                            "name_latin": f"Student {i}",
                            "student_number": f"N{i:04d}",
                            "birth_date": "2000-06-15",
                            "fulfilment": "pickup",
                            "pickup_location_id": setup["point"].id,
                            "consent": True,
                        }
                        r = c.post(claim_url, json=body)
                    with lock:
                        codes[r.status_code] += 1

        def done() -> int:
            with lock:
                return codes[201]

        def wait_for(n: int) -> None:
            while done() < n and any(t.is_alive() for t in threads):
                time.sleep(0.05)

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        wait_for(40)
        before = _counts(settings)
        backup = server.cli("backup")
        wait_for(done() + 40)  # the load goes on after the backup, as it did during it
        stop.set()
        for t in threads:
            t.join()
        after = _counts(settings)
        path = _written(backup)
        assert set(codes) == {201}, codes
        assert after["stock_movement"] > before["stock_movement"]
    finally:
        server.stop()

    r = _kitrun(target, "restore", str(path))
    assert r.returncode == 0, r.stderr
    check = _kitrun(target, "stock", "check")
    assert check.returncode == 0, check.stderr
    restored = _counts(target)
    for table in COUNTED:
        assert before[table] <= restored[table] <= after[table], (table, before, restored, after)
    # one snapshot: every allocated claim holds its kit in the levels, every claim has its event
    from app.claims import submit as claims_service

    engine = make_engine(target)
    with Session(engine) as s:
        allocated = s.exec(text("SELECT count(*) FROM claim WHERE status = 'allocated'")).one()[0]
        assert claims_service.reserved_total(s, kit_id) == allocated > 0
        orphans = s.exec(
            text("SELECT count(*) FROM claim WHERE id NOT IN (SELECT claim_id FROM claim_event)")
        ).one()[0]
        assert orphans == 0
    engine.dispose()

    # once the load has stopped, a second backup restored over it (--force) matches exactly
    quiet = _written(_kitrun(settings, "backup"))
    forced = _kitrun(target, "restore", "--force", str(quiet))
    assert forced.returncode == 0, forced.stderr
    assert _all_counts(target) == _all_counts(settings)
    assert _kitrun(target, "stock", "check").returncode == 0
