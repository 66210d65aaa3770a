"""The front door and each role's landing page."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.db import SessionDep
from app.deps import OptionalPageUser, PageDiplomat, PageUser
from app.services import volunteers
from app.web import render

router = APIRouter()


@router.get("/")
def index(request: Request, user: OptionalPageUser) -> Response:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/admin" if user.role == "diplomat" else "/volunteer", status_code=303)


@router.get("/admin")
def admin_home(request: Request, user: PageDiplomat) -> Response:
    return render(request, "admin/home.html")


@router.get("/volunteer")
def volunteer_home(request: Request, session: SessionDep, user: PageUser) -> Response:
    return render(
        request, "volunteer/home.html", {"points": volunteers.points_of(session=session, user=user)}
    )
