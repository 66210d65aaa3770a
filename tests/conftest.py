"""Fixtures: the migrated schema on SQLite and PostgreSQL, app clients, live servers, Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlmodel import Session, SQLModel

import models  # noqa: F401
from app.core.config import Settings
from app.core.db import make_engine
from app.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("KITRUN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("KITRUN_REQUIRE_PG") == "1"
REQUIRE_BROWSER = os.environ.get("KITRUN_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("KITRUN_CHROMIUM", "/usr/bin/chromium")


def _unavailable(what: str, reason: str, required: bool) -> None:
    if required:
        pytest.fail(f"{what} is required here but unavailable: {reason}", pytrace=False)
    pytest.skip(f"{what} unavailable: {reason}")


# ---------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated, dropped at the end."""
    try:
        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL", f"{PG_URL}: {exc}".strip(), REQUIRE_PG)
    name = f"kitrun_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "kitrun.db"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate_all(url: str) -> None:
    engine = make_engine(Settings(database_url=url))
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for an isolated, migrated database: a copied SQLite file or a clean PostgreSQL."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    if request.param == "sqlite":
        db = data_dir / "kitrun.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), db)
        yield Settings(data_dir=data_dir, database_url=f"sqlite:///{db}", secret_key="test-secret")
        return
    url = request.getfixturevalue("pg_database")
    try:
        yield Settings(data_dir=data_dir, database_url=url, secret_key="test-secret")
    finally:
        _truncate_all(url)


@pytest.fixture
def engine(settings: Settings):  # noqa: ANN201
    eng = make_engine(settings)
    yield eng
    eng.dispose()


@pytest.fixture
def pg(pg_database: str, tmp_path: Path) -> Iterator[tuple[Settings, Session]]:
    """PostgreSQL only (the event-loop fast paths): settings and a session on a clean database."""
    settings = Settings(data_dir=tmp_path, database_url=pg_database, secret_key="test-secret")
    engine = make_engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield settings, session
    finally:
        engine.dispose()
        _truncate_all(pg_database)


@pytest.fixture
def session(engine) -> Iterator[Session]:  # noqa: ANN001
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def app(settings: Settings):  # noqa: ANN201
    from app.main import create_app

    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c


# ---------------------------------------------------------------- live servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`kitrun serve` in a subprocess, with its own environment."""

    def __init__(self, settings: Settings, workers: int = 2, env: dict | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings
        self.env = {
            **os.environ,
            "KITRUN_DATABASE_URL": settings.database_url or "",
            "KITRUN_DATA_DIR": str(settings.data_dir),
            "KITRUN_SECRET_KEY": "live-test-secret",
            "KITRUN_BASE_URL": self.url,
            "KITRUN_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.log = (settings.data_dir / f"server-{self.port}.log").open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self._log_tail()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        tail = self._log_tail()
        self.stop()
        raise RuntimeError(f"server did not start in 60 s: {tail}")

    def _log_tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()[-2000:]

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run the kitrun command against this server's database."""
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            input=input,
            timeout=120,
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings, workers=2)
    yield server
    server.stop()


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser_instance():  # noqa: ANN201
    if not Path(CHROMIUM).exists():
        _unavailable(
            "Chromium", f"{CHROMIUM} not found (apt-get install chromium)", REQUIRE_BROWSER
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 860}}


def new_page(browser, base_url: str, **context_args):  # noqa: ANN001, ANN201
    """A page that can reach only the app under test."""
    context = browser.new_context(base_url=base_url, **context_args)
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base_url) else r.abort())
    return page
