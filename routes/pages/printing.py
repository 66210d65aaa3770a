"""Diplomat pages for printing kit labels: choose a selection and a sheet, print, follow a job."""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

import labels
from app.campaigns import service as campaigns
from app.core.errors import N_, DomainError
from app.core.files import FileStore
from app.inventory import catalog
from app.printing import jobs as print_jobs
from app.printing import service as printing
from app.runs import service as runs
from app.schools import service as schools
from models.base import Id
from models.inventory import LocationKind
from models.printing import LabelsIn
from routes.http.deps import PageDiplomat
from routes.http.responses import pdf_response, stored_file_response
from routes.http.session import SessionDep
from routes.http.web import gettext, render

router = APIRouter(prefix="/admin")
STATUS_CHOICES = ("allocated,ready", "allocated", "ready")
OptInt = Annotated[str, Form()]


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value else None


def _choices(session, settings) -> dict:  # noqa: ANN001
    return {
        "campaigns": campaigns.newest_first(session=session),
        "schools": schools.all_by_name(session=session),
        "points": catalog.locations(session=session, kind=LocationKind.pickup_point),
        "runs": runs.list_runs(session=session, limit=50)[0],
        "formats": [
            {"fmt": fmt, **printing.FORMAT_INFO.get(fid, {"paper": "", "text": fmt.description})}
            for fid, fmt in labels.FORMATS.items()
        ],
        "statuses": STATUS_CHOICES,
        "sync_limit": settings.labels_sync_limit,
    }


def _page(
    request: Request, session, form: dict, error: str = "", status_code: int = 200
) -> Response:  # noqa: ANN001
    """The print form with the count preview for the current choices."""
    ctx = {
        **_choices(session, request.app.state.settings),
        "form": form,
        "error": error,
        "count": None,
        "sheets": None,
    }
    fmt = labels.FORMATS.get(form["format"]) or labels.FORMATS["L7160"]
    ctx["grid"] = fmt
    if not error:
        try:
            data = _labels_in(form)
            ctx["count"] = printing.count(session=session, sel=data)
            ctx["sheets"] = printing.sheets(ctx["count"], data.format, data.start_position)
        except (DomainError, ValueError, ValidationError) as exc:
            ctx["error"] = (
                exc.localized(gettext(request)) if isinstance(exc, DomainError) else str(exc)
            )
            status_code = getattr(exc, "status_code", 422)
    return render(request, "printing/labels.html", ctx, status_code=status_code)


def _labels_in(form: dict) -> LabelsIn:
    return LabelsIn(
        campaign_id=_int(form["campaign_id"]),
        school_id=_int(form["school_id"]),
        location_id=_int(form["location_id"]),
        run_id=_int(form["run_id"]),
        status=form["status"] or None,
        format=form["format"],
        start_position=_int(form["start_position"]) or 1,
    )


def _form(**values: str | None) -> dict:
    defaults = {
        "campaign_id": "",
        "school_id": "",
        "location_id": "",
        "run_id": "",
        "status": "allocated,ready",
        "format": "L7160",
        "start_position": "1",
    }
    return {k: (str(values[k]) if values.get(k) is not None else v) for k, v in defaults.items()}


@router.get("/labels")
def labels_form(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    campaign_id: str | None = None,
    school_id: str | None = None,
    location_id: str | None = None,
    run_id: str | None = None,
    status: str | None = None,
    format: str | None = None,  # noqa: A002
    start_position: str | None = None,
) -> Response:
    """Choose which labels to print, on which sheet, from which position."""
    if campaign_id is None:  # first visit: the newest campaign
        newest = campaigns.newest_id(session=session)
        campaign_id = str(newest) if newest else None
    form = _form(
        campaign_id=campaign_id,
        school_id=school_id,
        location_id=location_id,
        run_id=run_id,
        status=status,
        format=format,
        start_position=start_position,
    )
    return _page(request, session, form)


@router.post("/labels")
def labels_print(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    background: BackgroundTasks,
    campaign_id: OptInt = "",
    school_id: OptInt = "",
    location_id: OptInt = "",
    run_id: OptInt = "",
    status: Annotated[str, Form(max_length=100)] = "allocated,ready",
    format: Annotated[str, Form(max_length=20)] = "L7160",  # noqa: A002
    start_position: OptInt = "1",
    action: Annotated[str, Form()] = "print",
) -> Response:
    """Preview the count, or print: a PDF now for small selections, else a job with progress."""
    form = _form(
        campaign_id=campaign_id,
        school_id=school_id,
        location_id=location_id,
        run_id=run_id,
        status=status,
        format=format,
        start_position=start_position,
    )
    if action != "print":
        return _page(request, session, form)
    settings = request.app.state.settings
    try:
        data = _labels_in(form)
        printing.sheet_format(data.format, data.start_position)
        if printing.in_background(settings, printing.count(session=session, sel=data)):
            job = print_jobs.create_job(
                session=session,
                settings=settings,
                data=data,
                user_id=user.id,
                locale=request.state.locale,
            )
            background.add_task(
                print_jobs.run_in_background, request.app.state.engine, settings, job.id
            )
            return RedirectResponse(f"/admin/print-jobs/{job.id}", status_code=303)
        pdf, n = printing.print_labels(
            session=session,
            settings=settings,
            data=data,
            user_id=user.id,
            locale=request.state.locale,
        )
    except DomainError as exc:
        session.rollback()
        return _page(
            request, session, form, exc.localized(gettext(request)), status_code=exc.status_code
        )
    except (ValueError, ValidationError):
        session.rollback()
        message = gettext(request)(N_("Give numbers for the ids and the start position."))
        return _page(request, session, form, message, status_code=422)
    return pdf_response(pdf, f"labels-{data.format}.pdf", n)


@router.get("/print-jobs/{job_id}")
def job_progress(request: Request, job_id: Id, session: SessionDep, user: PageDiplomat) -> Response:
    """A print job's progress bar (refreshes itself) and then its download link."""
    job = print_jobs.get_job(session=session, job_id=job_id)
    info = printing.FORMAT_INFO.get(job.params.get("format", ""), {})
    return render(
        request,
        "printing/progress.html",
        {"job": job, "format_text": info.get("text", job.params.get("format", ""))},
    )


@router.get("/print-jobs/{job_id}/file")
def job_download(
    request: Request, job_id: Id, session: SessionDep, user: PageDiplomat
) -> StreamingResponse:
    """The finished job's PDF."""
    info = print_jobs.job_file(session=session, job_id=job_id)
    return stored_file_response(FileStore(request.app.state.engine), info)


@router.get("/labels/calibration.pdf")
def calibration(request: Request, user: PageDiplomat, format: str = "L7160") -> Response:  # noqa: A002
    """The calibration page of a sheet format, to print at 100 % and hold against a sheet."""
    pdf = printing.calibration(
        settings=request.app.state.settings, format_id=format, locale=request.state.locale
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="calibration-{format}.pdf"'},
    )
