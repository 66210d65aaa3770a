"""The diplomats' dashboard page and the audit trail pages."""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from app.accounts import queries as accounts
from app.audit import trail as audit
from app.core.errors import N_, DomainError, Invalid
from app.core.localtime import show
from app.dashboard import charts
from app.dashboard import figures as dashboard
from app.pickup.log import day_bounds, zone
from models.base import Id
from routes.http.deps import PageDiplomat
from routes.http.input import PageNo, form_day, id_or_none
from routes.http.session import SessionDep
from routes.http.web import gettext, render

router = APIRouter(prefix="/admin")
AUDIT_PER_PAGE = 50


def _error(request: Request, exc: DomainError) -> Response:
    message = exc.localized(gettext(request))
    return render(
        request, "error.html", {"status": exc.status_code, "message": message}, exc.status_code
    )


@router.get("/dashboard")
def dashboard_page(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    campaign: Annotated[Id | None, Query()] = None,
    since: Annotated[str | None, Query(max_length=20)] = None,
    until: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    s = request.app.state.settings
    choices = dashboard.campaigns(session=session)
    if campaign is None and not choices:
        return render(request, "dashboard/page.html", {"choices": [], "d": None})
    try:
        since, until = form_day(since, "since"), form_day(until, "until")
        d = dashboard.dashboard(
            session=session,
            campaign_id=campaign if campaign is not None else choices[0].id,
            tz=s.timezone,
            since=since,
            until=until,
            expiry_days=s.expiry_alert_days,
        )
    except DomainError as exc:
        return _error(request, exc)
    _ = gettext(request)
    name_key = "name_zh" if request.state.locale == "zh_CN" else "name_en"
    svg = {
        "daily": charts.to_svg(
            charts.daily_chart(d["per_day"], _), "daily", _("Claims and handovers per day")
        ),
        "schools": charts.to_svg(
            charts.school_chart(d["schools"], _, name_key), "schools", _("Schools lagging behind")
        )
        if d["schools"]
        else None,
        "stock": charts.to_svg(
            charts.stock_chart(d["stock"], _, name_key), "stock", _("Kits per location")
        )
        if d["stock"]
        else None,
    }
    today = datetime.now(zone(s.timezone)).date()
    return render(
        request,
        "dashboard/page.html",
        {
            "choices": choices,
            "d": d,
            "svg": {k: Markup(v) if v else None for k, v in svg.items()},
            "today": today,
            "yesterday": today - timedelta(days=1),
        },
    )


@router.get("/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    object_type: Annotated[str | None, Query(max_length=40)] = None,
    object_id: Annotated[str | None, Query(max_length=40)] = None,
    user_id: Annotated[str | None, Query()] = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    since: Annotated[str | None, Query(max_length=20)] = None,
    until: Annotated[str | None, Query(max_length=20)] = None,
    page: PageNo = 1,
) -> Response:
    try:
        since, until = form_day(since, "since"), form_day(until, "until")
    except DomainError as exc:
        return _error(request, exc)
    if since and until and until < since:
        return _error(
            request,
            Invalid(
                N_("The date range is the wrong way round: {since} is after {until}."),
                params={"since": since.isoformat(), "until": until.isoformat()},
            ),
        )
    tz = zone(request.app.state.settings.timezone)
    uid = id_or_none(user_id)
    f = audit.AuditFilter(
        user_id=uid,
        action=action or None,
        object_type=object_type or None,
        object_id=object_id or None,
        since=day_bounds(since, tz)[0] if since else None,
        until=day_bounds(until, tz)[1] if until else None,
    )
    rows, total = audit.entries(
        session=session, filters=f, limit=AUDIT_PER_PAGE, offset=(page - 1) * AUDIT_PER_PAGE
    )
    for r in rows:
        r["local"] = show(r["at"], tz, "seconds")
    query = {
        k: v
        for k, v in {
            "object_type": f.object_type,
            "object_id": f.object_id,
            "user_id": uid,
            "action": f.action,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }.items()
        if v is not None
    }
    api_query = {**query}
    if since:
        api_query["since"] = f.since.isoformat()
    if until:
        api_query["until"] = f.until.isoformat()
    return render(
        request,
        "dashboard/audit.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // AUDIT_PER_PAGE)),
            "query": query,
            "api_query": api_query,
            "filters": {**query, "user_id": uid},
            "users": accounts.users(session=session),
            "actions": audit.actions(session=session),
            "types": ("claim", "stock_movement", "campaign", "user"),
        },
    )
