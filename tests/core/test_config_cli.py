import subprocess
import sys

import pytest

from app.core.config import ConfigError, Settings
from tests.conftest import ROOT


def test_production_needs_a_real_secret(tmp_path):
    with pytest.raises(ConfigError, match="KITRUN_SECRET_KEY"):
        _ = Settings(env="production", data_dir=tmp_path).secret
    with pytest.raises(ConfigError):
        _ = Settings(env="production", data_dir=tmp_path, secret_key="change-me").secret
    assert Settings(env="production", data_dir=tmp_path, secret_key="k" * 40).secret == "k" * 40


def test_development_secret_is_generated_once(tmp_path):
    a = Settings(data_dir=tmp_path).secret
    assert len(a) >= 32 and Settings(data_dir=tmp_path).secret == a


def test_postgres_urls_use_psycopg3():
    s = Settings(database_url="postgresql://u@h/db")
    assert s.sqlalchemy_url == "postgresql+psycopg://u@h/db"


def _kitrun(tmp_path, *args, input=None, env_extra=None):
    env = {"PATH": "/usr/bin:/bin", "KITRUN_DATA_DIR": str(tmp_path), **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
    )


@pytest.mark.slow
def test_cli_migrate_demo_and_users(tmp_path):
    assert _kitrun(tmp_path, "migrate").returncode == 0
    demo = _kitrun(tmp_path, "demo")
    assert demo.returncode == 0 and "password:" in demo.stdout
    again = _kitrun(tmp_path, "demo")
    assert "already has data" in again.stdout and "password:" not in again.stdout
    # the password is prompted for when not given
    r = _kitrun(
        tmp_path,
        "user",
        "create",
        "--username",
        "v2",
        "--role",
        "volunteer",
        input="a-good-password\na-good-password\n",
    )
    assert r.returncode == 0, r.stderr
    r = _kitrun(
        tmp_path,
        "user",
        "create",
        "--username",
        "v2",
        "--role",
        "volunteer",
        "--password",
        "a-good-password",
    )
    assert r.returncode == 2 and "already exists" in r.stderr
    r = _kitrun(tmp_path, "user", "passwd", "--username", "v2", "--password", "another-one-9")
    assert r.returncode == 0


def test_serve_refuses_production_without_key(tmp_path):
    r = _kitrun(tmp_path, "serve", env_extra={"KITRUN_ENV": "production"})
    assert r.returncode == 2 and "KITRUN_SECRET_KEY" in r.stderr
