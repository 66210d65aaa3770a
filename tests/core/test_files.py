"""The shared file store (app/core/files.py) on SQLite and PostgreSQL, and two app hosts with
different data directories over one database: a print, a roster import and a session made
through one host are served by the other."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func
from sqlmodel import Session, select

from app.core.files import CHUNK_BYTES, FileStore
from app.privacy import retention
from models.base import utcnow
from models.files import StoredFile, StoredFileChunk
from models.printing import PrintJob
from tests.conftest import LiveServer
from tests.factories import PASSWORD
from tests.pickup import factories as pf
from tests.printing import factories as lf
from tests.schools.factories import roster_csv, students

BIG = 3 * CHUNK_BYTES + 12_345  # four chunks, the last one short


def _chunk_rows(engine, key: str) -> int:  # noqa: ANN001
    with Session(engine) as s:  # (closed at once: on SQLite an open session holds the lock)
        return s.exec(
            select(func.count()).select_from(StoredFileChunk).where(StoredFileChunk.file_key == key)
        ).one()


def test_a_3_mb_file_streams_back_in_chunks_equal_to_the_original(engine) -> None:  # noqa: ANN001
    data = os.urandom(BIG)
    store = FileStore(engine)
    key = store.put("labels", "big.pdf", io.BytesIO(data), media_type="application/pdf")
    info = store.info(key)
    assert (info.kind, info.name, info.media_type, info.size) == (
        "labels",
        "big.pdf",
        "application/pdf",
        BIG,
    )
    assert _chunk_rows(engine, key) == 4
    pieces = list(store.stream(key))
    assert [len(p) for p in pieces] == [CHUNK_BYTES] * 3 + [12_345]
    assert b"".join(pieces) == data
    assert store.get(key) == (data, "application/pdf", "big.pdf")
    # read as a file: any position, across a chunk boundary, lines and the end
    with store.open(key) as f:
        f.seek(CHUNK_BYTES - 10)
        assert f.read(20) == data[CHUNK_BYTES - 10 : CHUNK_BYTES + 10]
        f.seek(-5, io.SEEK_END)
        assert f.read() == data[-5:]
        f.seek(0)
        assert f.read() == data
    # from bytes too; and an empty file has no chunk
    assert store.get(store.put("roster", "r.csv", b"a,b\r\n", media_type="text/csv"))[0] == (
        b"a,b\r\n"
    )
    empty = store.put("roster", "empty.csv", b"", media_type="text/csv")
    assert store.get(empty) == (b"", "text/csv", "empty.csv") and _chunk_rows(engine, empty) == 0

    assert store.delete(key) is True
    assert store.info(key) is None and store.get(key) is None and store.open(key) is None
    assert list(store.stream(key)) == [] and _chunk_rows(engine, key) == 0
    assert store.delete(key) is False


def test_a_file_put_in_a_session_is_kept_only_if_the_session_commits(engine, session) -> None:  # noqa: ANN001
    store = FileStore(session)
    lost = store.put("labels", "lost.pdf", b"%PDF lost", media_type="application/pdf")
    session.rollback()
    kept = store.put("labels", "kept.pdf", b"%PDF kept", media_type="application/pdf")
    session.commit()
    other = FileStore(engine)  # another connection, as another host would read it
    assert other.info(lost) is None
    assert other.get(kept) == (b"%PDF kept", "application/pdf", "kept.pdf")


def test_expired_and_old_files_are_purged(engine) -> None:  # noqa: ANN001
    store = FileStore(engine)
    now = utcnow()
    expired = store.put("roster", "a.csv", b"a", media_type="text/csv", expires_at=now)
    later = store.put(
        "roster", "b.csv", b"b" * (CHUNK_BYTES + 1), media_type="text/csv",
        expires_at=now + timedelta(days=1),
    )  # fmt: skip
    label = store.put("labels", "c.pdf", b"c", media_type="application/pdf")
    assert store.delete_expired(now) == 1
    assert store.info(expired) is None and store.info(later) is not None
    assert store.delete_where("roster", older_than=now - timedelta(days=1)) == 0
    assert store.delete_where("roster", older_than=utcnow() + timedelta(seconds=1)) == 1
    assert store.info(later) is None and _chunk_rows(engine, later) == 0
    assert store.count() == 1 and store.info(label).kind == "labels"


def test_retention_deletes_old_label_pdfs_from_the_store(engine, session, settings) -> None:  # noqa: ANN001
    store = FileStore(engine)
    old_key = store.put("labels", "old.pdf", b"%PDF old", media_type="application/pdf")
    new_key = store.put("labels", "new.pdf", b"%PDF new", media_type="application/pdf")
    gone = store.put("roster", "r.csv", b"x", media_type="text/csv", expires_at=utcnow())
    old = PrintJob(
        status="done",
        file_path=old_key,
        created_at=utcnow() - timedelta(days=settings.file_retention_days + 1),
    )
    new = PrintJob(status="done", file_path=new_key)
    session.add_all([old, new])
    session.commit()
    assert retention.purge(session, settings, dry_run=True).files == 1
    assert store.info(old_key) is not None
    retention.purge(session, settings)
    session.expire_all()
    assert store.info(old_key) is None and store.info(gone) is None
    assert store.info(new_key) is not None
    assert session.get(PrintJob, old.id).file_path is None
    assert session.get(PrintJob, new.id).file_path == new_key


# ---------------------------------------------------------------- two hosts


def _log_in(client: httpx.Client) -> None:
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": "dip",
            "password": PASSWORD,
            "next": "/",
            "csrf_token": client.cookies.get("kitrun_csrf"),
        },
    )
    assert r.status_code == 303, r.text


def _upload_roster(client: httpx.Client, school_id: int, body: bytes) -> str:
    r = client.post(
        f"/admin/schools/{school_id}/roster",
        data={"csrf_token": client.cookies.get("kitrun_csrf")},
        files={"file": ("roster.csv", body)},
    )
    assert r.status_code == 303, r.text
    return r.headers["location"]


def _wait(client: httpx.Client, url: str, headers: dict) -> dict:
    for _ in range(300):
        body = client.get(url, headers=headers).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{url} did not finish: {body}")


def test_two_hosts_serve_each_others_prints_rosters_and_sessions(
    settings, session, tmp_path
) -> None:  # noqa: ANN001
    w = pf.world(session, kits=40)
    made = lf.claims(session, w, 12)
    session.commit()
    env = {"KITRUN_LABELS_SYNC_LIMIT": "10"}
    b_dir = tmp_path / "host-b"
    b_dir.mkdir()
    host_a = LiveServer(settings, workers=1, env=env)
    try:
        host_b = LiveServer(settings.model_copy(update={"data_dir": b_dir}), workers=1, env=env)
    except Exception:
        host_a.stop()
        raise
    try:
        with (
            httpx.Client(base_url=host_a.url, follow_redirects=False, timeout=30) as a,
            httpx.Client(base_url=host_b.url, follow_redirects=False, timeout=30) as b,
        ):
            # a session made on host A works on host B (and its CSRF token too)
            _log_in(a)
            b.cookies = a.cookies
            r = b.get("/admin/schools")
            assert r.status_code == 200 and "/login" not in r.headers.get("location", "")

            # a print started through A (a background job) is downloaded through B
            token = a.post("/api/v1/auth/token", json={"username": "dip", "password": PASSWORD})
            h = {"Authorization": f"Bearer {token.json()['access_token']}"}
            r = a.post("/api/v1/labels", json={"campaign_id": w.campaign.id}, headers=h)
            assert r.status_code == 202, r.text
            job = _wait(b, r.headers["location"], h)
            assert job["status"] == "done", job
            from_b = b.get(job["file_url"], headers=h)
            from_a = a.get(job["file_url"], headers=h)
            assert from_b.status_code == 200 and from_b.headers["content-type"] == "application/pdf"
            assert from_b.content == from_a.content and from_b.content.startswith(b"%PDF")
            assert (
                f'filename="labels-{job["id"]}-L7160.pdf"' in from_b.headers["content-disposition"]
            )
            page = b.get(f"/admin/print-jobs/{job['id']}/file")  # the page's link, by cookie
            assert page.status_code == 200 and page.content == from_a.content
            first = sorted(made, key=lambda c: c.name_latin)[0]
            assert lf.first_label_token(from_b.content, tmp_path, "L7160") == first.token

            # a bad roster uploaded through A: its error report read through B
            rows = students(5)
            rows[3][2] = "2001-13-45"
            progress = _upload_roster(a, w.school.id, roster_csv(rows))
            import_id = int(progress.rsplit("/", 1)[1])
            api = f"/api/v1/roster-imports/{import_id}"
            report = _wait(b, api, h)
            assert report["status"] == "failed" and report["bad_lines"] == 1
            assert [e["line"] for e in report["errors"]] == [5]
            assert a.get(api, headers=h).json() == report
            page = b.get(progress + "?lang=en")
            assert page.status_code == 200 and "2001-13-45" in page.text

            # a good one uploaded through B (A's session, A's CSRF token) is imported
            progress = _upload_roster(b, w.school.id, roster_csv(students(6)))
            done = _wait(a, f"/api/v1/roster-imports/{progress.rsplit('/', 1)[1]}", h)
            assert done["status"] == "done" and done["imported"] == 6, done
            roster = a.get(f"/admin/schools/{w.school.id}/roster?lang=en")
            assert "S000005" in roster.text
    finally:
        host_b.stop()
        host_a.stop()
    with Session(session.get_bind()) as s:
        kinds = s.exec(select(StoredFile.kind)).all()
    assert kinds == ["labels"]  # the uploads were deleted once imported
    # nothing either host serves was left on its own disk
    for folder in (Path(settings.data_dir), b_dir):
        assert not [p for p in folder.rglob("*") if p.suffix in (".pdf", ".csv")], folder
