"""School rosters: CSV import (all or nothing, with progress) and matching students to them."""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, select

from app.errors import N_, Invalid, NotFound
from app.services import csv_in
from app.services.csv_in import LineError
from models.base import utcnow
from models.schools import RosterEntry, RosterImport, School

log = logging.getLogger("kitrun.rosters")

PROGRESS_EVERY = 5000
INSERT_BATCH = 5000
MAX_AGE_YEARS = 100

SYNONYMS = {
    "student_number": [
        "学号",
        "学生编号",
        "student number",
        "student_no",
        "student id",
        "student no",
        "number",
        "no",
        "id",
        "matricule",
    ],
    "name": [
        "姓名",
        "姓名(拼音)",
        "姓名(中文)",
        "名字",
        "学生姓名",
        "name",
        "full name",
        "student name",
        "nom",
    ],
    "birth_date": [
        "出生日期",
        "生日",
        "出生年月日",
        "birth date",
        "birthdate",
        "date of birth",
        "dob",
        "date de naissance",
    ],
    "email": ["邮箱", "电子邮箱", "电子邮件", "邮件", "e-mail", "email", "mail", "email address"],
}
REQUIRED = ["student_number", "name", "birth_date"]

_TIME = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_DMY = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_EMAIL = re.compile(
    r"[^@\s,;]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+"
)


# ---------------------------------------------------------------- normalising


def normalize_name(name: str) -> str:
    """A name reduced for matching: lower-case, no spaces, punctuation or Latin accents."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", name).casefold():
        cat = unicodedata.category(ch)
        if cat[0] in "LN":
            out.append(ch)
        elif cat[0] == "M" and out and not out[-1].isascii():
            out.append(ch)  # a mark on a non-Latin letter is part of it (e.g. kana voicing)
    return unicodedata.normalize("NFC", "".join(out))


def normalize_student_number(number: str) -> str:
    """A student number as stored and compared: NFKC, no spaces, upper-case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", number)).upper()


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def parse_birth_date(value: str, *, today: date) -> tuple[date | None, LineError | None]:
    """Read a birth date in the usual spellings; reject impossible, future or ancient dates."""
    s = _TIME.sub("", value.strip())
    parts = None
    for pattern, order in ((_YMD, (1, 2, 3)), (_DMY, (3, 2, 1)), (_COMPACT, (1, 2, 3))):
        m = pattern.fullmatch(s)
        if m:
            parts = tuple(int(m.group(i)) for i in order)
            break
    if parts is None:
        return None, LineError(
            0,
            "birth_date",
            N_(
                "Birth date “{value}” is not a date we can read: "
                "write it like 2008-03-05, 2008/3/5, 05/03/2008 or 2008年3月5日."
            ),
            {"value": value},
        )
    try:
        day = date(*parts)
    except ValueError:
        return None, LineError(
            0, "birth_date", N_("Birth date “{value}” does not exist."), {"value": value}
        )
    if day > today:
        return None, LineError(
            0, "birth_date", N_("Birth date {value} is in the future."), {"value": day.isoformat()}
        )
    if day < _years_before(today, MAX_AGE_YEARS):
        return None, LineError(
            0,
            "birth_date",
            N_("Birth date {value} is more than 100 years ago."),
            {"value": day.isoformat()},
        )
    return day, None


# ---------------------------------------------------------------- parsing


def parse_roster(
    text: str,
    *,
    today: date,
    progress: Callable[[int], None] | None = None,
    every: int = PROGRESS_EVERY,
) -> tuple[list[dict[str, Any]], list[LineError]]:
    """Parse a decoded roster: the entries and every bad line (entries are unusable if any)."""
    header, body = csv_in.rows(text)
    columns, errors = csv_in.map_headers(header, SYNONYMS, REQUIRED)
    if errors:
        return [], errors
    i_num, i_name = columns["student_number"], columns["name"]
    i_dob, i_mail = columns["birth_date"], columns.get("email")
    entries: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    dates: dict[str, tuple[date | None, LineError | None]] = {}
    for n, (line, cells) in enumerate(body, start=1):
        if progress and n % every == 0:
            progress(line)
        bad: list[LineError] = []
        number = normalize_student_number(csv_in.cell(cells, i_num))
        name = re.sub(r"\s+", " ", csv_in.cell(cells, i_name))
        raw_dob = csv_in.cell(cells, i_dob)
        email = csv_in.cell(cells, i_mail).lower()
        if not number:
            bad.append(LineError(line, "student_number", N_("The student number is missing.")))
        elif len(number) > 40:
            bad.append(
                LineError(line, "student_number", N_("The student number is over 40 characters."))
            )
        elif number in seen:
            bad.append(
                LineError(
                    line,
                    "student_number",
                    N_("Student number {number} already appears on line {first}."),
                    {"number": number, "first": seen[number]},
                )
            )
        else:
            seen[number] = line
        name_norm = normalize_name(name)
        if not name:
            bad.append(LineError(line, "name", N_("The name is missing.")))
        elif len(name) > 200:
            bad.append(LineError(line, "name", N_("The name is over 200 characters.")))
        elif not name_norm:
            bad.append(
                LineError(line, "name", N_("The name “{value}” has no letters."), {"value": name})
            )
        dob = None
        if not raw_dob:
            bad.append(LineError(line, "birth_date", N_("The birth date is missing.")))
        else:
            if raw_dob not in dates:  # many students share a birthday: parse each spelling once
                dates[raw_dob] = parse_birth_date(raw_dob, today=today)
            dob, err = dates[raw_dob]
            if err:
                bad.append(LineError(line, err.field, err.msg, err.params))
        if email and (len(email) > 254 or not _EMAIL.fullmatch(email)):
            bad.append(
                LineError(
                    line,
                    "email",
                    N_("The e-mail address “{value}” is not valid."),
                    {"value": email},
                )
            )
        if bad:
            errors.extend(bad)
        elif not errors:
            entries.append(
                {
                    "student_number": number,
                    "name": name,
                    "name_norm": name_norm[:200],
                    "birth_date": dob,
                    "email": email or None,
                }
            )
    if not entries and not errors:
        errors.append(LineError(1, "", N_("The file has no student lines under its header.")))
    return ([] if errors else entries), errors


# ---------------------------------------------------------------- importing


def get_import(*, session: Session, import_id: int) -> RosterImport:
    """A roster import by id, or 404."""
    imp = session.get(RosterImport, import_id)
    if imp is None:
        raise NotFound(N_("No roster import with id {id}."), params={"id": import_id})
    return imp


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


def _set(session: Session, import_id: int, **values: Any) -> None:
    session.execute(update(RosterImport).where(RosterImport.id == import_id).values(**values))


def _fail(session: Session, import_id: int, message: str, errors: list[LineError]) -> None:
    session.rollback()
    _set(
        session,
        import_id,
        status="failed",
        message=message[:500],
        errors=[e.stored() for e in errors],
        finished_at=utcnow(),
    )
    session.commit()


def run_import(
    *, session: Session, import_id: int, data: bytes, today: date | None = None
) -> RosterImport:
    """Decode, validate and, only if every line is good, replace the school's roster.

    Progress is committed in short transactions while parsing; the replacement is one
    transaction that also marks the import done, so nothing else writes while it holds the lock.
    """
    imp = get_import(session=session, import_id=import_id)
    today = today or date.today()
    try:
        text = csv_in.decode(data)
        total = max(text.count("\n") + (0 if text.endswith("\n") else 1), 1)
        _set(session, import_id, status="running", total_lines=total)
        session.commit()

        def progress(line: int) -> None:
            _set(session, import_id, processed_lines=line)
            session.commit()

        entries, errors = parse_roster(text, today=today, progress=progress)
        if errors:
            _fail(session, import_id, N_("The file has bad lines: nothing was imported."), errors)
        else:
            _replace(session, imp.school_id, import_id, entries, total)
    except Invalid as exc:
        _fail(session, import_id, exc.template, [])
    except Exception:
        log.exception("roster import %s stopped", import_id)
        _fail(session, import_id, N_("The import stopped unexpectedly; nothing was imported."), [])
        raise
    session.expire_all()
    return get_import(session=session, import_id=import_id)


def _replace(
    session: Session, school_id: int, import_id: int, entries: list[dict], total: int
) -> None:
    # Lock the school so two imports of one roster take turns (SQLite: BEGIN IMMEDIATE does).
    session.exec(select(School.id).where(School.id == school_id).with_for_update()).one()
    session.execute(delete(RosterEntry).where(RosterEntry.school_id == school_id))
    for start in range(0, len(entries), INSERT_BATCH):
        batch = entries[start : start + INSERT_BATCH]
        for row in batch:
            row["school_id"] = school_id
        session.execute(insert(RosterEntry), batch)
    _set(
        session,
        import_id,
        status="done",
        processed_lines=total,
        imported=len(entries),
        errors=[],
        message="",
        finished_at=utcnow(),
    )
    session.commit()


def import_roster(
    *,
    session: Session,
    school_id: int,
    data: bytes,
    filename: str = "",
    user_id: int | None = None,
    today: date | None = None,
) -> RosterImport:
    """Import a roster file now; a bad file raises Invalid listing every bad line."""
    imp = create_import(session=session, school_id=school_id, filename=filename, user_id=user_id)
    imp = run_import(session=session, import_id=imp.id, data=data, today=today)
    if imp.status != "done":
        if not imp.errors:
            raise Invalid(imp.message, code="bad_file")
        raise Invalid(
            N_("{count} bad line(s): nothing was imported. Fix them and upload the file again."),
            params={"count": len({e["line"] for e in imp.errors})},
            details=[{k: e[k] for k in ("line", "field", "reason")} for e in imp.errors],
            code="bad_lines",
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
    if entry is None or entry.birth_date != birth_date:
        return None
    wanted = set().union(*(_name_variants(n) for n in names if n)) if names else set()
    return entry if entry.name_norm in wanted else None


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
