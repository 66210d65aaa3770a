"""Shared benchmark plumbing: a throw-away PostgreSQL database and a `kitrun serve` process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def fresh_database(admin_url: str, **extra_env: str) -> Iterator[tuple[str, dict]]:
    """A new, migrated PostgreSQL database and the environment to reach it; dropped after."""
    name = f"kitrun_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(admin_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    data_dir = Path(f"/tmp/{name}")
    data_dir.mkdir()
    env = {
        **os.environ,
        "KITRUN_DATABASE_URL": url,
        "KITRUN_DATA_DIR": str(data_dir),
        "KITRUN_SECRET_KEY": "bench-secret",
        "KITRUN_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    try:
        kitrun(env, "migrate")
        yield url, env
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def kitrun(env: dict, *args: str) -> subprocess.CompletedProcess:
    """Run the kitrun command against the benchmark's database."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@contextmanager
def serve(env: dict, workers: int = 2) -> Iterator[str]:
    """`kitrun serve --workers N` on a free port; yields its base URL once /healthz answers."""
    port = free_port()
    log = (Path(env["KITRUN_DATA_DIR"]) / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
