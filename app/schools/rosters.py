"""School rosters: CSV import (all or nothing, with progress) and matching students to them."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, BinaryIO

from sqlalchemy import delete, func, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.core import csv_in
from app.core.csv_in import LineError
from app.core.errors import N_, Invalid, NotFound
from app.core.files import FileStore
from app.schools.parse import (
    check_roster,
    normalize_name,
    normalize_student_number,
    roster_entries,
)
from models.base import utcnow
from models.schools import RosterEntry, RosterImport, School

log = logging.getLogger("kitrun.rosters")

INSERT_BATCH = 5000
# A roster file (CSV): 20 MiB holds some 300,000 students; read line by line, never whole.
MAX_ROSTER_BYTES = 20 * 1024 * 1024
# An upload waits in the file store (any host's process may run its import) until the import
# has read it; one that was never read is purged after a day.
FILE_KIND = "roster"
UPLOAD_KEPT = timedelta(days=1)

# ---------------------------------------------------------------- importing


def get_import(*, session: Session, import_id: int) -> RosterImport:
    """A roster import by id, or 404."""
    imp = session.get(RosterImport, import_id)
    if imp is None:
        raise NotFound(N_("No roster import with id {id}."), params={"id": import_id})
    return imp


def recent_imports(*, session: Session, school_id: int, limit: int = 10) -> list[RosterImport]:
    """A school's latest roster imports, newest first."""
    return list(
        session.exec(
            select(RosterImport)
            .where(RosterImport.school_id == school_id)
            .order_by(RosterImport.id.desc())
            .limit(limit)
        ).all()
    )


def create_import(
    *, session: Session, school_id: int, filename: str = "", user_id: int | None = None
) -> RosterImport:
    """Record a pending import for a school (committed, so a page can poll it)."""
    if session.get(School, school_id) is None:
        raise NotFound(N_("No school with id {id}."), params={"id": school_id})
    imp = RosterImport(school_id=school_id, user_id=user_id, filename=filename[:255])
    session.add(imp)
    session.commit()
    session.refresh(imp)
    return imp


def start_import(
    *,
    session: Session,
    school_id: int,
    data: bytes | BinaryIO,
    filename: str = "",
    user_id: int | None = None,
) -> tuple[RosterImport, str]:
    """Record a pending import and store its file where every host can read it; commits.
    Returns the import and the file's key, for run_in_background."""
    imp = create_import(session=session, school_id=school_id, filename=filename, user_id=user_id)
    key = FileStore(session).put(
        FILE_KIND,
        filename or "roster.csv",
        data,
        media_type="text/csv",
        expires_at=utcnow() + UPLOAD_KEPT,
    )
    session.commit()
    return imp, key


def _set(session: Session, import_id: int, **values: Any) -> None:
    session.execute(update(RosterImport).where(RosterImport.id == import_id).values(**values))


def _fail(
    session: Session,
    import_id: int,
    message: str,
    errors: list[LineError],
    bad_lines: int = 0,
) -> None:
    session.rollback()
    _set(
        session,
        import_id,
        status="failed",
        message=message[:500],
        errors=[e.stored() for e in errors[: csv_in.MAX_ERRORS]],
        bad_lines=bad_lines,
        finished_at=utcnow(),
    )
    session.commit()


def run_import(
    *, session: Session, import_id: int, data: bytes | BinaryIO, today: date | None = None
) -> RosterImport:
    """Decode, validate and, only if every line is good, replace the school's roster.

    `data` is the file's bytes or a seekable binary file, read line by line (three times: for
    its encoding, for its errors, for its entries), so memory stays flat whatever its size;
    at most csv_in.MAX_ERRORS errors are kept, and every bad line is counted. Progress is
    committed in short transactions while checking; the replacement is one transaction that
    also marks the import done, so nothing else writes while it holds the lock.
    """
    imp = get_import(session=session, import_id=import_id)
    today = today or date.today()
    try:
        csv = csv_in.open_csv(data, max_bytes=MAX_ROSTER_BYTES)
        _set(session, import_id, status="running", total_lines=csv.total_lines)
        session.commit()

        def progress(line: int) -> None:
            _set(session, import_id, processed_lines=line)
            session.commit()

        check = check_roster(csv, today=today, progress=progress)
        if check.bad_lines:
            _fail(
                session,
                import_id,
                N_("The file has bad lines: nothing was imported."),
                check.errors,
                check.bad_lines,
            )
        else:
            entries = roster_entries(csv_in.open_csv(data, max_bytes=MAX_ROSTER_BYTES), today=today)
            _replace(session, imp.school_id, import_id, entries, csv.total_lines)
    except csv_in.LineErrors as exc:
        message = exc.message if exc.params else exc.template
        _fail(session, import_id, message, exc.errors, exc.bad_lines)
    except Invalid as exc:
        _fail(session, import_id, exc.message if exc.params else exc.template, [])
    except Exception:
        log.exception("roster import %s stopped", import_id)
        _fail(session, import_id, N_("The import stopped unexpectedly; nothing was imported."), [])
        raise
    session.expire_all()
    return get_import(session=session, import_id=import_id)


def run_in_background(engine: Engine, import_id: int, key: str) -> None:
    """Run a pending import in a session of its own, reading its file from the store (in
    chunks); the file, which names students, is deleted once the import has ended."""
    store = FileStore(engine)
    with Session(engine, expire_on_commit=False) as session:
        try:
            data = store.open(key)
            if data is None:
                _fail(session, import_id, N_("The uploaded file is gone; upload it again."), [])
                return
            with data:
                run_import(session=session, import_id=import_id, data=data)
        except Exception:  # recorded on the import row and logged by run_import
            log.warning("roster import %s failed unexpectedly", import_id)
        finally:
            session.rollback()  # (SQLite: this session's read may hold the write lock)
            FileStore(session).delete(key)
            session.commit()


def _replace(
    session: Session, school_id: int, import_id: int, entries: Iterable[dict], total: int
) -> None:
    # Lock the school so two imports of one roster take turns (SQLite: BEGIN IMMEDIATE does).
    session.exec(select(School.id).where(School.id == school_id).with_for_update()).one()
    session.execute(delete(RosterEntry).where(RosterEntry.school_id == school_id))
    imported = 0
    rows = iter(entries)
    while batch := list(itertools.islice(rows, INSERT_BATCH)):
        for row in batch:
            row["school_id"] = school_id
        session.execute(insert(RosterEntry), batch)
        imported += len(batch)
    _set(
        session,
        import_id,
        status="done",
        processed_lines=total,
        imported=imported,
        errors=[],
        bad_lines=0,
        message="",
        finished_at=utcnow(),
    )
    session.commit()


def import_roster(
    *,
    session: Session,
    school_id: int,
    data: bytes | BinaryIO,
    filename: str = "",
    user_id: int | None = None,
    today: date | None = None,
) -> RosterImport:
    """Import a roster file now; a bad file raises Invalid listing its first 1,000 errors
    (and counting every bad line)."""
    imp = create_import(session=session, school_id=school_id, filename=filename, user_id=user_id)
    imp = run_import(session=session, import_id=imp.id, data=data, today=today)
    if imp.status != "done":
        if not imp.errors:
            raise Invalid(imp.message, code="bad_file")
        mixed = imp.message == csv_in.MIXED_ENCODINGS
        raise Invalid(
            csv_in.MIXED_ENCODINGS
            if mixed
            else N_(
                "{count} bad line(s): nothing was imported. Fix them and upload the file again."
            ),
            params={} if mixed else {"count": imp.bad_lines},
            details=[{k: e[k] for k in ("line", "field", "reason")} for e in imp.errors],
            code="mixed_encoding" if mixed else "bad_lines",
        )
    return imp


# ---------------------------------------------------------------- reading and matching


def roster_page(
    *, session: Session, school_id: int, q: str = "", limit: int = 50, offset: int = 0
) -> tuple[list[RosterEntry], int]:
    """A page of a school's roster, by student number, optionally searched."""
    cond = [RosterEntry.school_id == school_id]
    if q.strip():
        like = f"%{q.strip().lower()}%"
        cond.append(
            func.lower(RosterEntry.student_number).like(like)
            | RosterEntry.name_norm.like(f"%{normalize_name(q)}%")
            | RosterEntry.email.like(like)
        )
    total = session.exec(select(func.count()).select_from(RosterEntry).where(*cond)).one()
    rows = session.exec(
        select(RosterEntry)
        .where(*cond)
        .order_by(RosterEntry.student_number)
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), int(total)


def _name_variants(name: str) -> set[str]:
    """The normalised name, and its word orders (given name first or last) for up to 4 words."""
    words = [w for w in (normalize_name(p) for p in re.split(r"[\s,]+", name)) if w]
    variants = {normalize_name(name)}
    if 1 < len(words) <= 4:
        variants.update("".join(p) for p in itertools.permutations(words))
    variants.discard("")
    return variants


def match_student(
    *, session: Session, school_id: int, student_number: str, birth_date: date, names: list[str]
) -> RosterEntry | None:
    """The roster entry with this number and birth date whose name matches one of `names`.

    Rosters hold either the Chinese or the passport name, so the caller passes every name the
    student gave; names compare without case, spaces, punctuation or word order.
    """
    number = normalize_student_number(student_number or "")
    if not number:
        return None
    entry = session.exec(
        select(RosterEntry).where(
            RosterEntry.school_id == school_id, RosterEntry.student_number == number
        )
    ).first()
    return entry if entry is not None and entry_matches(entry, birth_date, names) else None


def entry_matches(entry, birth_date: date, names: list[str]) -> bool:  # noqa: ANN001
    """Whether a roster entry (anything with birth_date and name_norm) is this student."""
    if entry.birth_date != birth_date:
        return False
    wanted = set().union(*(_name_variants(n) for n in names if n)) if names else set()
    return entry.name_norm in wanted


def roster_has_email(*, session: Session, school_id: int, email: str) -> bool:
    """Whether the school's roster lists this e-mail address (case-insensitive)."""
    address = (email or "").strip().lower()
    if not address:
        return False
    found = session.exec(
        select(RosterEntry.id).where(
            RosterEntry.school_id == school_id, RosterEntry.email == address
        )
    ).first()
    return found is not None


def roster_sizes(*, session: Session, school_ids: list[int]) -> dict[int, int]:
    """How many students each school's roster holds."""
    if not school_ids:
        return {}
    rows = session.exec(
        select(RosterEntry.school_id, func.count())
        .where(RosterEntry.school_id.in_(school_ids))
        .group_by(RosterEntry.school_id)
    ).all()
    return {sid: int(n) for sid, n in rows}
