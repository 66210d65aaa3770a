"""The language tests run on SQLite only: what they check does not depend on the database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.i18n import translations
from tests.i18n.support import Recorder


@pytest.fixture
def settings(sqlite_template: Path, tmp_path: Path) -> Iterator[Settings]:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    db = data_dir / "kitrun.db"
    shutil.copy(sqlite_template, db)
    yield Settings(data_dir=data_dir, database_url=f"sqlite:///{db}", secret_key="test-secret")


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Records every msgid the app looks up in its zh_CN catalog and does not find."""
    rec = Recorder()
    rec.wrap(translations("zh_CN"), monkeypatch)
    return rec
