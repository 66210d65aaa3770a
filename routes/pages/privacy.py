"""Diplomats' privacy pages: who was shown minors' contact details, across the mission."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.audit import looks
from app.core.errors import N_, DomainError
from app.pickup.log import day_bounds, zone
from routes.http.deps import PageDiplomat
from routes.http.input import PageNo, form_day, id_or_none
from routes.http.session import SessionDep
from routes.http.web import gettext, render

router = APIRouter(prefix="/admin/privacy")
PER_PAGE = 50
N_("Personal data views")  # ADMIN_NAV / ADMIN_TILES entries (routes/http/web.py)
N_("Who was shown a minor's address or phone: when, where, which claim")


@router.get("/views")
def views_page(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    claim_id: Annotated[str | None, Query(max_length=20)] = None,
    since: Annotated[str | None, Query(max_length=20)] = None,
    until: Annotated[str | None, Query(max_length=20)] = None,
    page: PageNo = 1,
) -> Response:
    """The log of views of minors' addresses and phones, newest first; by claim and dates."""
    try:
        first, last = form_day(since, "since"), form_day(until, "until")
    except DomainError as exc:
        message = exc.localized(gettext(request))
        return render(request, "error.html", {"status": 422, "message": message}, 422)
    tz = zone(request.app.state.settings.timezone)
    cid = id_or_none(claim_id)
    rows, total = looks.views(
        session=session,
        claim_id=cid,
        since=day_bounds(first, tz)[0] if first else None,
        until=day_bounds(last, tz)[1] if last else None,
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    query = {
        k: v
        for k, v in {
            "claim_id": cid,
            "since": first.isoformat() if first else None,
            "until": last.isoformat() if last else None,
        }.items()
        if v is not None
    }
    return render(
        request,
        "privacy/views.html",
        {
            "views": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
            "query": query,
            "filters": query,
            "view_labels": looks.LABELS,
        },
    )
