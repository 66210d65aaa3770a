"""Parsing roster files: header synonyms, birth dates, names and numbers normalised for matching."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.core import csv_in
from app.core.csv_in import LineError
from app.core.errors import N_

PROGRESS_EVERY = 5000
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


DATE_CACHE = 10_000  # distinct birth-date spellings parsed once each (a roster has few)


@dataclass
class RosterCheck:
    """A roster read through: its first line errors and how many lines were bad or good."""

    errors: list[LineError] = field(default_factory=list)
    bad_lines: int = 0
    students: int = 0


def _lines(
    csv: csv_in.CsvFile,
    *,
    today: date,
    progress: Callable[[int], None] | None = None,
    every: int = PROGRESS_EVERY,
) -> Iterator[tuple[dict[str, Any] | None, list[LineError]]]:
    """Each student line of a roster: its entry, or its errors (header errors first)."""
    columns, header_errors = csv_in.map_headers(csv.header, SYNONYMS, REQUIRED)
    if header_errors:
        yield None, header_errors
        return
    i_num, i_name = columns["student_number"], columns["name"]
    i_dob, i_mail = columns["birth_date"], columns.get("email")
    seen: dict[str, int] = {}
    dates: dict[str, tuple[date | None, LineError | None]] = {}
    for n, (line, cells) in enumerate(csv.body, start=1):
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
            # many students share a birthday: parse each spelling once (a bounded cache)
            got = dates.get(raw_dob) or parse_birth_date(raw_dob, today=today)
            if len(dates) < DATE_CACHE:
                dates[raw_dob] = got
            dob, err = got
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
            yield None, bad
        else:
            seen[number] = line  # only good lines: a file of bad lines keeps memory flat
            yield (
                {
                    "student_number": number,
                    "name": name,
                    "name_norm": name_norm[:200],
                    "birth_date": dob,
                    "email": email or None,
                },
                [],
            )


def check_roster(
    csv: csv_in.CsvFile,
    *,
    today: date,
    progress: Callable[[int], None] | None = None,
    every: int = PROGRESS_EVERY,
) -> RosterCheck:
    """Read a whole roster, keeping only its first MAX_ERRORS line errors: memory stays flat."""
    log = csv_in.ErrorLog()
    students = 0
    for entry, errors in _lines(csv, today=today, progress=progress, every=every):
        if entry is None:
            log.add(errors)
        else:
            students += 1
    if not students and not log:
        log.add([LineError(1, "", N_("The file has no student lines under its header."))])
    return RosterCheck(log.errors, log.bad_lines, students)


def roster_entries(csv: csv_in.CsvFile, *, today: date) -> Iterator[dict[str, Any]]:
    """The entries of a roster that check_roster found good, one at a time."""
    for entry, errors in _lines(csv, today=today):
        if entry is None:  # the file changed since it was checked
            raise csv_in.LineErrors(
                N_("The file has bad lines: nothing was imported."),
                errors=errors,
                bad_lines=1,
            )
        yield entry
