"""The front door and each role's landing page."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.core.localtime import today
from app.pickup import volunteers
from app.runs import drivers
from routes.http.deps import OptionalPageUser, PageDiplomat, PageUser
from routes.http.session import SessionDep
from routes.http.web import render

router = APIRouter()


@router.get("/")
def index(request: Request, user: OptionalPageUser) -> Response:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    home = {"diplomat": "/admin", "driver": "/driver"}.get(user.role, "/volunteer")
    return RedirectResponse(home, status_code=303)


@router.get("/admin")
def admin_home(request: Request, user: PageDiplomat) -> Response:
    return render(request, "home/diplomat.html")


@router.get("/volunteer")
def volunteer_home(request: Request, session: SessionDep, user: PageUser) -> Response:
    return render(
        request, "home/volunteer.html", {"points": volunteers.points_of(session=session, user=user)}
    )


@router.get("/driver")
def driver_home(request: Request, session: SessionDep, user: PageUser) -> Response:
    """A driver's landing page: the vehicles assigned to them, each a link to its route."""
    tz = request.app.state.settings.timezone
    vehicles = drivers.assigned(session=session, user=user, today=today(tz))
    return render(request, "home/driver.html", {"vehicles": vehicles})
