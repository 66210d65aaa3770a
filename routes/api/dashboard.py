"""Dashboard figures, daily reports (JSON, CSV, PDF) and the audit trail, for diplomats."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.audit import trail as audit
from app.core.i18n import translations
from app.dashboard import figures as dashboard
from app.dashboard import reports
from models.base import INT32_MAX, Id, Page
from routes.http.deps import ApiDiplomat
from routes.http.openapi import errors
from routes.http.session import SessionDep

router = APIRouter(tags=["dashboard"])


def _tz(request: Request) -> str:
    return request.app.state.settings.timezone


def _file(body: bytes, media: str, name: str) -> Response:
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/dashboard", responses=errors(404))
def get_dashboard(
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
    campaign_id: Id,
    since: date | None = None,
    until: date | None = None,
) -> dict:
    """Headline figures, claims and handovers per day, schools, stock, expiring lots, runs."""
    s = request.app.state.settings
    return dashboard.dashboard(
        session=session,
        campaign_id=campaign_id,
        tz=s.timezone,
        since=since,
        until=until,
        expiry_days=s.expiry_alert_days,
    )


def _summary(request: Request, session, campaign_id: Id, since, until) -> dict:  # noqa: ANN001
    return reports.daily(
        session=session, campaign_id=campaign_id, since=since, until=until, tz=_tz(request)
    )


@router.get("/reports/daily", responses=errors(404))
def daily_json(
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
    campaign_id: Id,
    since: date | None = None,
    until: date | None = None,
) -> dict:
    """The daily summary (a day: `since` alone; default today) per school and per point."""
    s = _summary(request, session, campaign_id, since, until)
    c = s.pop("campaign")
    return {**s, "campaign": {"id": c.id, "name_zh": c.name_zh, "name_en": c.name_en}}


@router.get("/reports/daily.csv", response_class=Response, responses=errors(404))
def daily_csv(
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
    campaign_id: Id,
    since: date | None = None,
    until: date | None = None,
    lang: Annotated[str | None, Query(pattern="^(zh_CN|en)$")] = None,
) -> Response:
    """The daily summary as CSV (UTF-8 with BOM): one row per school, then per point; the
    header in Chinese for `lang=zh_CN` (default: Accept-Language), else the column names."""
    s = _summary(request, session, campaign_id, since, until)
    body = reports.daily_csv(s, locale=lang or getattr(request.state, "locale", "en"))
    return _file(body, "text/csv; charset=utf-8", reports.filename(s, "csv"))


@router.get("/reports/daily.pdf", response_class=Response, responses=errors(404))
def daily_pdf(
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
    campaign_id: Id,
    since: date | None = None,
    until: date | None = None,
    lang: Annotated[str | None, Query(pattern="^(zh_CN|en)$")] = None,
) -> Response:
    """The daily summary as a one-page A4 PDF with the dashboard's charts."""
    locale = lang or getattr(request.state, "locale", "zh_CN")
    s = _summary(request, session, campaign_id, since, until)
    body = reports.daily_pdf(s, gettext=translations(locale).gettext, locale=locale)
    return _file(body, "application/pdf", reports.filename(s, "pdf"))


def audit_filter(
    user_id: Id | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> audit.AuditFilter:
    return audit.AuditFilter(user_id, action, object_type, object_id, since, until)


@router.get("/audit", response_model=Page[dict])
def list_audit(
    session: SessionDep,
    user: ApiDiplomat,
    user_id: Id | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
) -> Page[dict]:
    """The audit trail, newest first: who changed what, when, before and after."""
    f = audit_filter(user_id, action, object_type, object_id, since, until)
    rows, total = audit.entries(session=session, filters=f, limit=limit, offset=offset)
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.get("/audit.csv", response_class=Response)
def audit_csv(
    session: SessionDep,
    user: ApiDiplomat,
    user_id: Id | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    """The filtered audit trail as CSV (UTF-8 with BOM)."""
    f = audit_filter(user_id, action, object_type, object_id, since, until)
    return _file(audit.to_csv(session=session, filters=f), "text/csv; charset=utf-8", "audit.csv")
