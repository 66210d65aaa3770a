"""Factories for schools and roster files."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from app.schools import service as schools
from models.schools import SchoolCreate

ZH_HEADER = ["学号", "姓名", "出生日期", "邮箱"]
EN_HEADER = ["Student Number", "Full Name", "Date of Birth", "E-mail"]


def school(session: Session, name_en: str = "Université Test", **kw) -> object:
    data = {"name_zh": f"{name_en}（中）", "name_en": name_en, "city": "Paris", **kw}
    return schools.create_school(session=session, data=SchoolCreate(**data))


def students(n: int, start: int = 0) -> list[list[str]]:
    """n good roster lines: number, name, birth date, e-mail."""
    return [
        [f"S{start + i:06d}", f"张 三{i}", date(2001, 1 + i % 12, 1 + i % 28).isoformat(),
         f"s{start + i}@etu.test.fr"]
        for i in range(n)
    ]  # fmt: skip


def roster_csv(
    rows: list[list[str]],
    header: list[str] = ZH_HEADER,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> bytes:
    """A roster file as a spreadsheet would save it."""
    lines = [delimiter.join(header)] + [delimiter.join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
