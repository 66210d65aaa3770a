"""The front door and each role's landing page."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.pickup import volunteers
from routes.http.deps import OptionalPageUser, PageDiplomat, PageUser
from routes.http.session import SessionDep
from routes.http.web import render

router = APIRouter()


@router.get("/")
def index(request: Request, user: OptionalPageUser) -> Response:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/admin" if user.role == "diplomat" else "/volunteer", status_code=303)


@router.get("/admin")
def admin_home(request: Request, user: PageDiplomat) -> Response:
    return render(request, "home/diplomat.html")


@router.get("/volunteer")
def volunteer_home(request: Request, session: SessionDep, user: PageUser) -> Response:
    return render(
        request, "home/volunteer.html", {"points": volunteers.points_of(session=session, user=user)}
    )
