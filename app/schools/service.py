"""Schools: master data, e-mail domains, search, CSV import."""

from __future__ import annotations

import re
from typing import Any, BinaryIO

from pydantic import ValidationError
from sqlmodel import Session, func, or_, select

from app.core import csv_in
from app.core.csv_in import LineError
from app.core.errors import N_, Conflict, Invalid, NotFound
from models.schools import School, SchoolCreate, SchoolUpdate

PUBLIC_LIMIT = 20
MAX_SCHOOLS_CSV_BYTES = 2 * 1024 * 1024  # a few thousand schools; a district has dozens
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+[a-z]{{2,63}}")

SCHOOL_SYNONYMS = {
    "name_zh": ["name_zh", "中文名", "中文名称", "学校中文名", "chinese name"],
    "name_en": ["name_en", "英文名", "英文名称", "学校英文名", "english name", "name"],
    "city": ["city", "城市", "ville"],
    "lat": ["lat", "纬度", "latitude"],
    "lon": ["lon", "经度", "longitude", "lng"],
    "email_domains": ["email_domains", "邮箱域名", "email domains", "domains", "域名"],
    "in_district": ["in_district", "是否在领区", "在领区", "in district"],
}
_YES = {"1", "yes", "y", "true", "t", "是", "在", "oui", "x", "✓"}
_NO = {"0", "no", "n", "false", "f", "否", "不在", "non"}


# ---------------------------------------------------------------- domains


def normalize_domains(value: str) -> str:
    """E-mail domains as stored: lower-case, comma-separated, without '@'; Invalid if malformed."""
    out: list[str] = []
    for raw in re.split(r"[\s,;，；、]+", value or ""):
        d = raw.strip().lower().lstrip("@*.").rstrip(".")
        if "@" in d:
            d = d.rsplit("@", 1)[1]
        if not d:
            continue
        if not _DOMAIN.fullmatch(d):
            raise Invalid(
                N_("“{value}” is not an e-mail domain (write e.g. etu.univ-paris.fr)."),
                params={"value": raw},
            )
        if d not in out:
            out.append(d)
    joined = ",".join(out)
    if len(joined) > 500:
        raise Invalid(N_("The e-mail domains are too long (500 characters at most)."))
    return joined


def domains_of(school: School) -> list[str]:
    """A school's e-mail domains as a list."""
    return [d for d in (school.email_domains or "").split(",") if d]


def school_for_email(*, session: Session, email: str) -> School | None:
    """The school whose e-mail domain is the address's domain or a parent of it (most specific)."""
    domain = (email or "").strip().lower().rpartition("@")[2].rstrip(".")
    if not domain or "@" not in (email or ""):
        return None
    labels = domain.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    if not candidates:
        return None
    q = (
        select(School)
        .where(or_(*(School.email_domains.contains(c) for c in candidates)))
        .order_by(School.in_district.desc(), School.id)
    )
    best: tuple[int, School] | None = None
    for school in session.exec(q).all():
        mine = set(domains_of(school))
        for rank, cand in enumerate(candidates):  # rank 0 = the address's own domain
            if cand in mine and (best is None or rank < best[0]):
                best = (rank, school)
                break
    return best[1] if best else None


# ---------------------------------------------------------------- CRUD and search


def get_school(*, session: Session, school_id: int) -> School:
    """A school by id, or 404."""
    school = session.get(School, school_id)
    if school is None:
        raise NotFound(N_("No school with id {id}."), params={"id": school_id})
    return school


def _check_unique(session: Session, name_zh: str, name_en: str, exclude: int | None) -> None:
    q = select(School).where(
        or_(School.name_zh == name_zh, func.lower(School.name_en) == name_en.lower())
    )
    if exclude is not None:
        q = q.where(School.id != exclude)
    other = session.exec(q).first()
    if other:
        raise Conflict(
            N_("A school with this name already exists: {name} (id {id})."),
            params={"name": f"{other.name_zh} / {other.name_en}", "id": other.id},
        )


def create_school(*, session: Session, data: SchoolCreate) -> School:
    """Create a school; names are unique, domains normalised."""
    values = data.model_dump()
    values["name_zh"], values["name_en"] = values["name_zh"].strip(), values["name_en"].strip()
    values["email_domains"] = normalize_domains(values["email_domains"])
    _check_unique(session, values["name_zh"], values["name_en"], None)
    school = School(**values)
    session.add(school)
    session.commit()
    session.refresh(school)
    return school


def update_school(*, session: Session, school_id: int, data: SchoolUpdate) -> School:
    """Change some fields of a school."""
    school = get_school(session=session, school_id=school_id)
    values = data.model_dump(exclude_unset=True)
    for key in ("name_zh", "name_en"):
        if key in values and values[key] is None:
            values.pop(key)
        elif key in values:
            values[key] = values[key].strip()
    if "email_domains" in values:
        values["email_domains"] = normalize_domains(values["email_domains"] or "")
    if "in_district" in values and values["in_district"] is None:
        values.pop("in_district")
    for key, value in values.items():
        setattr(school, key, value if value is not None or key in ("lat", "lon") else "")
    _check_unique(session, school.name_zh, school.name_en, school.id)
    session.add(school)
    session.commit()
    session.refresh(school)
    return school


def _search(q: Any, text: str) -> Any:
    like = f"%{text.strip().lower()}%"
    return q.where(
        or_(
            func.lower(School.name_zh).like(like),
            func.lower(School.name_en).like(like),
            func.lower(School.city).like(like),
        )
    )


def list_schools(
    *,
    session: Session,
    q: str = "",
    in_district: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[School], int]:
    """Schools by name, searched in both names and the city, optionally by district."""
    stmt = select(School)
    if q.strip():
        stmt = _search(stmt, q)
    if in_district is not None:
        stmt = stmt.where(School.in_district == in_district)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(School.name_en).offset(offset).limit(limit)).all()
    return list(rows), int(total)


def all_by_name(*, session: Session) -> list[School]:
    """Every school, by English name."""
    return list(session.exec(select(School).order_by(School.name_en)).all())


def public_search(*, session: Session, q: str = "", limit: int = PUBLIC_LIMIT) -> list[dict]:
    """In-district schools for the claim form: only id, names and city."""
    stmt = select(School.id, School.name_zh, School.name_en, School.city).where(School.in_district)
    if q.strip():
        stmt = _search(stmt, q)
    rows = session.exec(stmt.order_by(School.name_en).limit(min(limit, PUBLIC_LIMIT))).all()
    return [{"id": r[0], "name_zh": r[1], "name_en": r[2], "city": r[3]} for r in rows]


# ---------------------------------------------------------------- CSV import


def _bool(value: str) -> bool | None:
    v = value.strip().lower()
    if not v:
        return True
    return True if v in _YES else False if v in _NO else None


def _coord(value: str) -> float | None:
    v = value.strip().replace(",", ".") if value.count(",") == 1 and "." not in value else value
    return float(v) if v.strip() else None


def _school_line(line: int, cells: list[str], cols: dict[str, int]) -> tuple[dict, list[LineError]]:
    errs: list[LineError] = []
    get = {name: csv_in.cell(cells, cols.get(name)) for name in SCHOOL_SYNONYMS}
    values: dict[str, Any] = {k: get[k] for k in ("name_zh", "name_en", "city")}
    for key in ("lat", "lon"):
        try:
            values[key] = _coord(get[key])
        except ValueError:
            errs.append(LineError(line, key, N_("“{value}” is not a number."), {"value": get[key]}))
    flag = _bool(get["in_district"])
    if flag is None:
        errs.append(
            LineError(
                line,
                "in_district",
                N_("“{value}” is not yes or no (是/否)."),
                {"value": get["in_district"]},
            )
        )
    values["in_district"] = bool(flag)
    try:
        values["email_domains"] = normalize_domains(get["email_domains"])
    except Invalid as exc:
        errs.append(LineError(line, "email_domains", exc.template, exc.params))
    if not errs:
        try:
            values = SchoolCreate.model_validate(values).model_dump()
        except ValidationError as exc:
            for e in exc.errors():
                field = str(e["loc"][0]) if e.get("loc") else ""
                errs.append(LineError(line, field, N_("{problem}"), {"problem": e["msg"]}))
    return values, errs


def import_schools(*, session: Session, data: bytes | BinaryIO) -> dict[str, int]:
    """Create or update schools from a CSV (matched by name), all or nothing."""
    try:
        csv = csv_in.open_csv(data, max_bytes=MAX_SCHOOLS_CSV_BYTES)
    except csv_in.LineErrors as exc:
        exc.lines = [e.stored() for e in exc.errors]  # with templates, for translated pages
        raise
    header, body = csv.header, csv.body
    cols, errors = csv_in.map_headers(header, SCHOOL_SYNONYMS, ["name_zh", "name_en"])
    parsed: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    if not errors:
        for line, cells in body:
            values, errs = _school_line(line, cells, cols)
            for key in ("name_zh", "name_en"):
                name = values.get(key, "").lower()
                if name and (key, name) in seen:
                    errs.append(
                        LineError(
                            line,
                            key,
                            N_("“{value}” already appears on line {first}."),
                            {"value": values[key], "first": seen[(key, name)]},
                        )
                    )
                elif name:
                    seen[(key, name)] = line
            errors.extend(errs)
            parsed.append((line, values))
        if not parsed and not errors:
            errors.append(LineError(1, "", N_("The file has no school lines under its header.")))
    existing = session.exec(select(School)).all()
    by_zh = {s.name_zh: s for s in existing}
    by_en = {s.name_en.lower(): s for s in existing}
    plan: list[tuple[School | None, dict]] = []
    for line, values in parsed if not errors else []:
        a, b = by_zh.get(values["name_zh"]), by_en.get(values["name_en"].lower())
        if a and b and a.id != b.id:
            errors.append(
                LineError(
                    line,
                    "name_en",
                    N_("The Chinese name is school {a} but the English name is school {b}."),
                    {"a": a.id, "b": b.id},
                )
            )
        plan.append((a or b, values))
    if errors:
        count = len({e.line for e in errors})
        errors = errors[: csv_in.MAX_ERRORS]
        exc = Invalid(
            N_("{count} bad line(s): nothing was imported. Fix them and upload the file again."),
            params={"count": count},
            details=[e.public() for e in errors],
            code="bad_lines",
        )
        exc.lines = [e.stored() for e in errors]  # with templates, for translated pages
        raise exc
    created = updated = 0
    for school, values in plan:
        if school is None:
            session.add(School(**values))
            created += 1
        else:
            for key, value in values.items():
                setattr(school, key, value)
            session.add(school)
            updated += 1
    session.commit()
    return {"created": created, "updated": updated}
