"""Schools and rosters API for diplomats, and the public school search of the claim form."""

from typing import Annotated, BinaryIO

from fastapi import APIRouter, File, Query, Request, Response, UploadFile

from app.core import ratelimit
from app.core.errors import N_, Invalid, TooManyRequests
from app.schools import rosters
from app.schools import service as schools
from models.base import INT32_MAX, Id, Page
from models.schools import (
    RosterEntryPublic,
    RosterImportPublic,
    School,
    SchoolCreate,
    SchoolPublic,
    SchoolPublicSearch,
    SchoolUpdate,
)
from routes.http.deps import ApiDiplomat
from routes.http.input import upload_limit
from routes.http.openapi import errors
from routes.http.session import SessionDep

router = APIRouter(tags=["schools"])
public_router = APIRouter(tags=["public"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=INT32_MAX)]
PUBLIC_RATE_PER_MINUTE = 600  # per address: campus Wi-Fi puts many students behind one


def read_upload(file: UploadFile) -> BinaryIO:
    """An uploaded file, for the domain to read line by line (refused when empty)."""
    if not file.file.read(1):
        raise Invalid(N_("The uploaded file is empty."), code="empty_file")
    file.file.seek(0)
    return file.file


def _public(session, school: School, sizes: dict[int, int] | None = None) -> SchoolPublic:  # noqa: ANN001
    if sizes is None:
        sizes = rosters.roster_sizes(session=session, school_ids=[school.id])
    return SchoolPublic(**school.model_dump(), roster_size=sizes.get(school.id, 0))


@router.get("/schools", response_model=Page[SchoolPublic])
def list_schools(
    session: SessionDep,
    user: ApiDiplomat,
    q: Annotated[str, Query(max_length=100)] = "",
    in_district: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[SchoolPublic]:
    """Schools, searched by either name or city, optionally only those in (or out of) district."""
    rows, total = schools.list_schools(
        session=session, q=q, in_district=in_district, limit=limit, offset=offset
    )
    sizes = rosters.roster_sizes(session=session, school_ids=[s.id for s in rows])
    return Page(
        items=[_public(session, s, sizes) for s in rows], total=total, limit=limit, offset=offset
    )


@router.post("/schools", response_model=SchoolPublic, status_code=201, responses=errors(409))
def create_school(body: SchoolCreate, session: SessionDep, user: ApiDiplomat) -> SchoolPublic:
    return _public(session, schools.create_school(session=session, data=body), {})


@router.post(
    "/schools/import",
    openapi_extra=upload_limit(schools.MAX_SCHOOLS_CSV_BYTES),
)
def import_schools(
    session: SessionDep, user: ApiDiplomat, file: Annotated[UploadFile, File()]
) -> dict:
    """Create or update schools from a CSV (name_zh/中文名, name_en/英文名, …), all or nothing."""
    return schools.import_schools(session=session, data=read_upload(file))


@router.get("/schools/{school_id}", response_model=SchoolPublic)
def get_school(school_id: Id, session: SessionDep, user: ApiDiplomat) -> SchoolPublic:
    return _public(session, schools.get_school(session=session, school_id=school_id))


@router.patch("/schools/{school_id}", response_model=SchoolPublic, responses=errors(409))
def update_school(
    school_id: Id, body: SchoolUpdate, session: SessionDep, user: ApiDiplomat
) -> SchoolPublic:
    school = schools.update_school(session=session, school_id=school_id, data=body)
    return _public(session, school)


@router.post(
    "/schools/{school_id}/roster",
    response_model=RosterImportPublic,
    status_code=201,
    openapi_extra=upload_limit(rosters.MAX_ROSTER_BYTES),
)
def upload_roster(
    school_id: Id, session: SessionDep, user: ApiDiplomat, file: Annotated[UploadFile, File()]
) -> RosterImportPublic:
    """Replace the school's roster with a CSV file; a bad file imports nothing (422 lists lines)."""
    schools.get_school(session=session, school_id=school_id)
    imp = rosters.import_roster(
        session=session,
        school_id=school_id,
        data=read_upload(file),
        filename=file.filename or "",
        user_id=user.id,
    )
    return RosterImportPublic.model_validate(imp, from_attributes=True)


@router.get("/schools/{school_id}/roster", response_model=Page[RosterEntryPublic])
def list_roster(
    school_id: Id,
    session: SessionDep,
    user: ApiDiplomat,
    q: Annotated[str, Query(max_length=100)] = "",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[RosterEntryPublic]:
    """A page of the school's roster, by student number."""
    schools.get_school(session=session, school_id=school_id)
    rows, total = rosters.roster_page(
        session=session, school_id=school_id, q=q, limit=limit, offset=offset
    )
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.get("/roster-imports/{import_id}", response_model=RosterImportPublic)
def get_roster_import(import_id: Id, session: SessionDep, user: ApiDiplomat) -> dict:
    """An import's status and progress; when it failed, every bad line."""
    imp = rosters.get_import(session=session, import_id=import_id)
    public = imp.model_dump()
    public["errors"] = [{k: e.get(k) for k in ("line", "field", "reason")} for e in imp.errors]
    return public


@public_router.get(
    "/public/schools", response_model=list[SchoolPublicSearch], responses=errors(429)
)
def public_schools(
    request: Request,
    response: Response,
    session: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
) -> list[dict]:
    """In-district schools for the claim form (at most 20): id, names and city only."""
    address = request.client.host if request.client else "?"
    if ratelimit.hit(session, f"schools:{address}", window_seconds=60) > PUBLIC_RATE_PER_MINUTE:
        session.commit()
        raise TooManyRequests(N_("Too many searches; wait a minute and try again."))
    session.commit()
    response.headers["Cache-Control"] = "public, max-age=60"
    return schools.public_search(session=session, q=q)
