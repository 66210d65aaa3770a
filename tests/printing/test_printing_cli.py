"""`kitrun labels`: a subprocess against a temporary database writes a PDF that decodes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models.claims import Claim
from tests.pickup import factories as pf
from tests.printing import factories as lf

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def kitrun(settings, *args: str) -> subprocess.CompletedProcess:  # noqa: ANN001
    env = {
        **os.environ,
        "KITRUN_DATABASE_URL": settings.database_url,
        "KITRUN_DATA_DIR": str(settings.data_dir),
        "KITRUN_SECRET_KEY": "test-secret",
        "COLUMNS": "100",
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_writes_labels_with_progress_and_marks_ready(session, settings, tmp_path):
    w = pf.world(session, kits=30)
    made = lf.claims(session, w, 22)
    session.commit()
    out = tmp_path / "labels.pdf"
    r = kitrun(
        settings,
        "labels",
        "--campaign", str(w.campaign.id),
        "--school", str(w.school.id),
        "--point", str(w.point.id),
        "--format", "L7160",
        "--start", "3",
        "--out", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr + r.stdout
    assert "22 labels on 2 sheet(s)" in r.stdout
    assert "22/22" in r.stdout + r.stderr  # the progress bar's last state
    first = sorted(made, key=lambda c: c.name_latin)[0]
    assert lf.first_label_token(out.read_bytes(), tmp_path, "L7160", position=3) == first.token
    session.expire_all()
    assert {c.status for c in session.exec(select(Claim)).all()} == {"ready"}


def test_cli_bad_input_exits_2_and_writes_nothing(session, settings, tmp_path):
    w = pf.world(session, kits=3)
    lf.claims(session, w, 1)
    session.commit()
    out = tmp_path / "labels.pdf"
    for args, words in (
        (["--format", "A5"], "Unknown label format"),
        (["--format", "5160", "--start", "31"], "positions 1 to 30"),
        (["--status", "ready"], "nothing to print"),
    ):
        r = kitrun(settings, "labels", "--campaign", str(w.campaign.id), *args, "--out", str(out))
        assert r.returncode == 2, r.stdout
        assert words in r.stderr
        assert not out.exists() and not list(tmp_path.glob(".*part"))
    with Session(session.get_bind()) as s:
        assert s.exec(select(Claim)).one().status == "allocated"
