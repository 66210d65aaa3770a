"""Diplomat pages for schools: list and search, forms, CSV imports, rosters and import progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from app.core.errors import N_, DomainError, Invalid
from app.schools import rosters
from app.schools import service as schools
from models.base import Id
from models.schools import SchoolCreate, SchoolUpdate
from routes.http.deps import PageDiplomat
from routes.http.input import PageNo, upload_limit
from routes.http.session import SessionDep
from routes.http.web import gettext, render

router = APIRouter(prefix="/admin")
PER_PAGE = 50
MAX_ERRORS_SHOWN = 1000
FIELD_LABELS = {
    "student_number": N_("Student number"),
    "name": N_("Name"),
    "birth_date": N_("Birth date"),
    "email": N_("E-mail"),
    "name_zh": N_("Name (Chinese)"),
    "name_en": N_("Name (English)"),
    "city": N_("City"),
    "lat": N_("Latitude"),
    "lon": N_("Longitude"),
    "email_domains": N_("E-mail domains"),
    "in_district": N_("In the consular district"),
}
STATUS_LABELS = [N_("pending"), N_("running"), N_("done"), N_("failed")]
TILE = N_("Schools, e-mail domains and student rosters")


def _pages(total: int, page: int) -> dict:
    last = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    return {"page": min(max(page, 1), last), "last": last, "total": total}


def _read(file: UploadFile, max_bytes: int) -> bytes:
    data = file.file.read(max_bytes + 1)  # the domain refuses what is over its limit
    if not data:
        raise Invalid(N_("The uploaded file is empty."), code="empty_file")
    return data


def _localize_errors(request: Request, errors: list[dict]) -> list[dict]:
    _ = gettext(request)
    out = []
    for e in errors[:MAX_ERRORS_SHOWN]:
        params = e.get("params") or {}
        msg = e.get("msg") or e.get("reason", "")
        reason = _(msg).format(**params) if params else _(msg)
        fields = [_(FIELD_LABELS.get(f, f)) for f in str(e.get("field", "")).split(",") if f]
        out.append({"line": e["line"], "field": ", ".join(fields), "reason": reason})
    return out


@router.get("/schools")
def schools_page(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    q: str = "",
    district: str = "",
    page: PageNo = 1,
) -> Response:
    in_district = {"in": True, "out": False}.get(district)
    _, total = schools.list_schools(session=session, q=q[:100], in_district=in_district, limit=1)
    pager = _pages(total, page)
    rows, _ = schools.list_schools(
        session=session,
        q=q[:100],
        in_district=in_district,
        limit=PER_PAGE,
        offset=(pager["page"] - 1) * PER_PAGE,
    )
    sizes = rosters.roster_sizes(session=session, school_ids=[s.id for s in rows])
    return render(
        request,
        "schools/list.html",
        {"rows": rows, "sizes": sizes, "q": q, "district": district, **pager},
    )


def _form_values(**raw: str) -> dict:
    values: dict = {k: v.strip() for k, v in raw.items() if k not in ("lat", "lon")}
    for key in ("lat", "lon"):
        text = raw[key].strip().replace(",", ".")
        try:
            values[key] = float(text) if text else None
        except ValueError as exc:
            message = (
                N_("Latitude must be a number, e.g. 48.85.")
                if key == "lat"
                else N_("Longitude must be a number, e.g. 2.35.")
            )
            raise Invalid(message) from exc
    return values


def _school_form(request, school, form, error, status=200):  # noqa: ANN001, ANN202
    return render(
        request,
        "schools/form.html",
        {"school": school, "form": form, "error": error},
        status_code=status,
    )


def _validation_message(request: Request, exc: ValidationError) -> str:
    _ = gettext(request)
    err = exc.errors()[0]
    field = str(err["loc"][-1]) if err.get("loc") else ""
    return _("Check the field “{field}”: {problem}").format(
        field=_(FIELD_LABELS.get(field, field)), problem=err["msg"]
    )


FormStr = Annotated[str, Form(max_length=500)]


@router.get("/schools/new")
def new_school(request: Request, user: PageDiplomat) -> Response:
    return _school_form(request, None, {"in_district": True}, None)


@router.post("/schools/new")
def create_school(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    name_zh: FormStr = "",
    name_en: FormStr = "",
    city: FormStr = "",
    lat: FormStr = "",
    lon: FormStr = "",
    email_domains: FormStr = "",
    in_district: Annotated[bool, Form()] = False,
) -> Response:
    raw = dict(name_zh=name_zh, name_en=name_en, city=city, lat=lat, lon=lon)
    form = {**raw, "email_domains": email_domains, "in_district": in_district}
    try:
        values = _form_values(**raw)
        data = SchoolCreate(**values, email_domains=email_domains, in_district=in_district)
        school = schools.create_school(session=session, data=data)
    except ValidationError as exc:
        return _school_form(request, None, form, _validation_message(request, exc), 422)
    except DomainError as exc:
        return _school_form(request, None, form, exc.localized(gettext(request)), exc.status_code)
    return RedirectResponse(f"/admin/schools/{school.id}", status_code=303)


@router.get("/schools/import")
def import_form(request: Request, user: PageDiplomat) -> Response:
    return render(request, "schools/import.html", {"errors": [], "error": None, "result": None})


@router.post("/schools/import", openapi_extra=upload_limit(schools.MAX_SCHOOLS_CSV_BYTES))
def import_submit(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    file: Annotated[UploadFile, File()],
) -> Response:
    try:
        data = _read(file, schools.MAX_SCHOOLS_CSV_BYTES)
        result = schools.import_schools(session=session, data=data)
    except DomainError as exc:
        errors = getattr(exc, "lines", None) or []
        return render(
            request,
            "schools/import.html",
            {
                "errors": _localize_errors(request, errors),
                "error": exc.localized(gettext(request)),
                "result": None,
            },
            status_code=exc.status_code,
        )
    return render(request, "schools/import.html", {"errors": [], "error": None, "result": result})


@router.get("/schools/{school_id}")
def school_page(
    request: Request, school_id: Id, session: SessionDep, user: PageDiplomat
) -> Response:
    school = schools.get_school(session=session, school_id=school_id)
    size = rosters.roster_sizes(session=session, school_ids=[school_id]).get(school_id, 0)
    imports = rosters.recent_imports(session=session, school_id=school_id, limit=10)
    return render(
        request,
        "schools/detail.html",
        {"school": school, "size": size, "imports": imports, "error": None},
    )


@router.get("/schools/{school_id}/edit")
def edit_school(
    request: Request, school_id: Id, session: SessionDep, user: PageDiplomat
) -> Response:
    school = schools.get_school(session=session, school_id=school_id)
    return _school_form(request, school, school.model_dump(), None)


@router.post("/schools/{school_id}/edit")
def update_school(
    request: Request,
    school_id: Id,
    session: SessionDep,
    user: PageDiplomat,
    name_zh: FormStr = "",
    name_en: FormStr = "",
    city: FormStr = "",
    lat: FormStr = "",
    lon: FormStr = "",
    email_domains: FormStr = "",
    in_district: Annotated[bool, Form()] = False,
) -> Response:
    school = schools.get_school(session=session, school_id=school_id)
    raw = dict(name_zh=name_zh, name_en=name_en, city=city, lat=lat, lon=lon)
    form = {**raw, "email_domains": email_domains, "in_district": in_district}
    try:
        values = _form_values(**raw)
        data = SchoolUpdate(**values, email_domains=email_domains, in_district=in_district)
        schools.update_school(session=session, school_id=school_id, data=data)
    except ValidationError as exc:
        return _school_form(request, school, form, _validation_message(request, exc), 422)
    except DomainError as exc:
        session.rollback()
        return _school_form(request, school, form, exc.localized(gettext(request)), exc.status_code)
    return RedirectResponse(f"/admin/schools/{school_id}", status_code=303)


@router.post("/schools/{school_id}/roster", openapi_extra=upload_limit(rosters.MAX_ROSTER_BYTES))
def upload_roster(
    request: Request,
    school_id: Id,
    session: SessionDep,
    user: PageDiplomat,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Start a roster import in the background and show its progress page."""
    try:
        data = _read(file, rosters.MAX_ROSTER_BYTES)
    except DomainError as exc:
        school = schools.get_school(session=session, school_id=school_id)
        return render(
            request,
            "schools/detail.html",
            {"school": school, "size": 0, "imports": [], "error": exc.localized(gettext(request))},
            status_code=exc.status_code,
        )
    # the file goes to the shared store (committed), so any host's process can run the import
    imp, key = rosters.start_import(
        session=session,
        school_id=school_id,
        data=data,
        filename=file.filename or "",
        user_id=user.id,
    )
    import_id = imp.id
    background.add_task(rosters.run_in_background, request.app.state.engine, import_id, key)
    return RedirectResponse(f"/admin/roster-imports/{import_id}", status_code=303)


@router.get("/roster-imports/{import_id}")
def import_progress(
    request: Request, import_id: Id, session: SessionDep, user: PageDiplomat
) -> Response:
    imp = rosters.get_import(session=session, import_id=import_id)
    school = schools.get_school(session=session, school_id=imp.school_id)
    return render(
        request,
        "schools/progress.html",
        {
            "imp": imp,
            "school": school,
            "errors": _localize_errors(request, imp.errors or []),
            "bad_lines": imp.bad_lines or len({e["line"] for e in imp.errors or []}),
            "more": max(len(imp.errors or []) - MAX_ERRORS_SHOWN, 0),
            "message": gettext(request)(imp.message) if imp.message else "",
        },
    )


@router.get("/schools/{school_id}/roster")
def roster_page(
    request: Request,
    school_id: Id,
    session: SessionDep,
    user: PageDiplomat,
    q: str = "",
    page: PageNo = 1,
) -> Response:
    school = schools.get_school(session=session, school_id=school_id)
    _, total = rosters.roster_page(session=session, school_id=school_id, q=q[:100], limit=1)
    pager = _pages(total, page)
    rows, _ = rosters.roster_page(
        session=session,
        school_id=school_id,
        q=q[:100],
        limit=PER_PAGE,
        offset=(pager["page"] - 1) * PER_PAGE,
    )
    return render(request, "schools/roster.html", {"school": school, "rows": rows, "q": q, **pager})
