"""Background label prints: a job row with progress, the PDF in the file store (any host serves
it), then claims ready."""

from __future__ import annotations

import logging
import tempfile
import time
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.audit import looks
from app.core.config import Settings
from app.core.db import write_intent
from app.core.errors import N_, Conflict, DomainError, Invalid, NotFound
from app.core.files import FileInfo, FileStore
from app.printing import service as printing
from models.base import utcnow
from models.printing import LabelsIn, PrintJob

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.25  # at most this often a committed progress update
SPOOL_BYTES = 8 * 1024 * 1024  # a PDF being rendered stays in memory up to this, then a temp file
FILE_KIND = "labels"

N_("pending")
N_("running")
N_("done")
N_("failed")


def create_job(
    *,
    session: Session,
    settings: Settings,
    data: LabelsIn,
    user_id: int | None,
    locale: str = "zh_CN",
) -> PrintJob:
    """Check a label print and record it as a pending job in `locale` (the caller starts
    run_job)."""
    printing.sheet_format(data.format, data.start_position)
    total = printing.count(session=session, sel=data)
    if total == 0:
        raise Invalid(N_("No claims match this selection: there is nothing to print."))
    job = PrintJob(
        user_id=user_id, kind="labels", params={**data.model_dump(), "locale": locale}, total=total
    )
    session.add(job)
    session.commit()  # no refresh: the job's own session must find the write lock free
    return job


def get_job(*, session: Session, job_id: int) -> PrintJob:
    """A print job (404 when unknown)."""
    job = session.get(PrintJob, job_id)
    if job is None:
        raise NotFound(N_("No print job with id {id}."), params={"id": job_id})
    return job


def job_file(*, session: Session, job_id: int) -> FileInfo:
    """The stored PDF of a finished job (409 while it is still running or when it failed); its
    content: FileStore(engine).stream(info.key)."""
    job = get_job(session=session, job_id=job_id)
    if job.status != "done" or not job.file_path:
        raise Conflict(
            N_("The print job is {status}: there is no file to download yet."),
            params={"status": job.status},
        )
    info = FileStore(session).info(job.file_path)
    if info is None:
        raise NotFound(
            N_("The file of print job {id} is gone; print again."), params={"id": job_id}
        )
    return info


def _set(session: Session, job_id: int, **values: Any) -> None:
    session.execute(update(PrintJob).where(PrintJob.id == job_id).values(**values))
    session.commit()


def run_job(*, engine: Engine, settings: Settings, job_id: int) -> PrintJob:
    """Render a pending job's labels with progress, store the PDF, then mark claims ready."""
    with Session(engine, expire_on_commit=False) as session:
        job = get_job(session=session, job_id=job_id)
        if job.status != "pending":
            raise Conflict(N_("The print job has already started."))
        params = dict(job.params)
        locale = params.pop("locale", "zh_CN")
        data = LabelsIn(**params)
        _set(session, job_id, status="running")
        name = f"labels-{job_id}-{data.format}.pdf"
        # rendered into a host-local scratch file, then stored where every host reads it
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as tmp:
            try:
                shown: list = []
                ids, items = printing.collect(
                    session=session, settings=settings, sel=data, shown=shown, locale=locale
                )
                session.commit()  # end the read before the long render
                _set(session, job_id, total=len(items))
                last = [time.monotonic()]

                def progress(done: int, total: int) -> None:
                    now = time.monotonic()
                    if done < total and now - last[0] < PROGRESS_EVERY_S:
                        return
                    last[0] = now
                    _set(session, job_id, done=done)

                printing.render(
                    items,
                    settings=settings,
                    format_id=data.format,
                    start_position=data.start_position,
                    out=tmp,
                    progress=progress,
                )
                tmp.seek(0)
                # the file, the job pointing at it and the claims marked ready: one commit
                key = FileStore(session).put(FILE_KIND, name, tmp, media_type="application/pdf")
                session.execute(update(PrintJob).where(PrintJob.id == job_id).values(file_path=key))
                # minors whose address a label shows: committed with the claims marked ready
                looks.record(
                    session, user_id=job.user_id, context="print", shown=shown, commit=False
                )
                printing.mark_ready(session=session, claim_ids=ids, user_id=job.user_id)
                _set(
                    session,
                    job_id,
                    status="done",
                    done=len(items),
                    message="",
                    finished_at=utcnow(),
                )
            except DomainError as exc:
                session.rollback()
                _set(
                    session,
                    job_id,
                    status="failed",
                    message=exc.message[:500],
                    finished_at=utcnow(),
                )
            except Exception:
                log.exception("print job %s stopped", job_id)
                session.rollback()
                _set(
                    session,
                    job_id,
                    status="failed",
                    message=N_("The print stopped unexpectedly; no claim was marked ready."),
                    finished_at=utcnow(),
                )
        session.expire_all()
        return get_job(session=session, job_id=job_id)


def run_in_background(engine: Engine, settings: Settings, job_id: int) -> None:
    """Run a print job after the response: outside the request, its writes take the lock."""
    write_intent.set(True)
    run_job(engine=engine, settings=settings, job_id=job_id)
