"""The migrations are the only way the schema is made: up, down and up again on both databases."""

import uuid

import psycopg
import pytest
from sqlalchemy import create_engine, inspect

from app.migrate import downgrade, upgrade
from tests.conftest import PG_URL


def _tables(url: str) -> set[str]:
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        return set(inspect(eng).get_table_names()) - {"alembic_version"}
    finally:
        eng.dispose()


def _roundtrip(url: str) -> None:
    upgrade(url)
    assert {"user", "user_token", "rate_bucket"} <= _tables(url)
    downgrade(url, "base")
    assert _tables(url) == set()
    upgrade(url)
    assert "user" in _tables(url)


def test_sqlite_up_down(tmp_path):
    _roundtrip(f"sqlite:///{tmp_path / 'm.db'}")


def test_postgres_up_down(pg_database):
    name = f"kitrun_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            _roundtrip(PG_URL.rsplit("/", 1)[0] + f"/{name}")
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_models_match_migrations(tmp_path):
    """Autogenerate finds nothing to add: the tables in models/ are all migrated."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import models  # noqa: F401

    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    eng = create_engine(url)
    with eng.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    eng.dispose()
    assert diff == [], diff


@pytest.mark.parametrize("kind", ["sqlite"])
def test_sqlite_pragmas(kind, tmp_path):
    from app.core.config import Settings
    from app.core.db import make_engine

    eng = make_engine(Settings(data_dir=tmp_path, secret_key="x"))
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60000
    eng.dispose()


def test_the_sql_functions_installed_are_the_domains_texts(pg_database):
    """The PL/pgSQL forms of the hand-over and the claim's write live in their domains
    (app/pickup/handover_sql.py, app/claims/submit_sql.py); the database runs exactly those."""
    from app.claims.submit_sql import SUBMIT_CLAIM_V1
    from app.pickup.handover_sql import HAND_OVER_V1

    with psycopg.connect(pg_database) as conn:
        for name, text in (
            ("kitrun_hand_over", HAND_OVER_V1),
            ("kitrun_submit_claim", SUBMIT_CLAIM_V1),
        ):
            body = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", (name,)).fetchone()
            assert body is not None, name
            assert body[0].strip() in text, name


def test_driver_role_migration_keeps_sessions_on_sqlite(tmp_path):
    """The role CHECK change rebuilds SQLite's user table: with foreign keys on, that would
    cascade to every session and API token (env.py turns them off around migrations)."""
    import sqlite3

    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url, "c3d4e5f6a718")
    with sqlite3.connect(tmp_path / "r.db") as db:
        db.execute(
            "INSERT INTO user (username, display_name, role, password_hash, active, created_at) "
            "VALUES ('dip', 'Dip', 'diplomat', 'h', 1, '2026-01-01')"
        )
        db.execute(
            "INSERT INTO user_token (token_hash, kind, user_id, created_at, expires_at) "
            "VALUES ('t', 'session', 1, '2026-01-01', '2030-01-01')"
        )
    upgrade(url)
    with sqlite3.connect(tmp_path / "r.db") as db:
        assert db.execute("SELECT count(*) FROM user_token").fetchone() == (1,)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        db.execute(
            "INSERT INTO user (username, display_name, role, password_hash, active, created_at) "
            "VALUES ('li', 'Li', 'driver', 'h', 1, '2026-01-01')"
        )
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(
                "INSERT INTO user (username, display_name, role, password_hash, active, "
                "created_at) VALUES ('k', 'K', 'king', 'h', 1, '2026-01-01')"
            )
