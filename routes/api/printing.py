"""Label printing API for diplomats: labels for a selection, background jobs, calibration."""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from app.core.files import FileStore
from app.printing import jobs as print_jobs
from app.printing import service as printing
from models.base import Id
from models.printing import LabelsIn, PrintJob, PrintJobPublic
from routes.http.deps import ApiDiplomat
from routes.http.openapi import errors
from routes.http.responses import pdf_response, stored_file_response
from routes.http.session import SessionDep

router = APIRouter(tags=["printing"])


def job_public(job: PrintJob, prefix: str = "/api/v1") -> PrintJobPublic:
    """A job with the URL of its file once it is done."""
    url = f"{prefix}/print-jobs/{job.id}/file" if job.status == "done" else None
    return PrintJobPublic(**job.model_dump(), file_url=url)


@router.post(
    "/labels",
    responses={
        **errors(404),
        200: {"content": {"application/pdf": {}}, "description": "the labels (≤ 500)"},
        202: {"model": PrintJobPublic, "description": "a background job; poll Location"},
    },
)
def print_labels(
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
    data: LabelsIn,
    background: BackgroundTasks,
) -> Response:
    """Labels for the selected claims: the PDF now, or a job to poll when there are many.

    Printed claims that were `allocated` become `ready`; the default selection (`allocated,ready`)
    still holds them, so a reprint in another format works. The labels are worded in `lang`
    (zh_CN or en; default: the request's Accept-Language).
    """
    settings = request.app.state.settings
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
        return JSONResponse(
            job_public(job).model_dump(mode="json"),
            status_code=202,
            headers={"Location": f"/api/v1/print-jobs/{job.id}"},
        )
    pdf, n = printing.print_labels(
        session=session,
        settings=settings,
        data=data,
        user_id=user.id,
        locale=request.state.locale,
    )
    return pdf_response(pdf, f"labels-{data.format}.pdf", n)


@router.get("/print-jobs/{job_id}", response_model=PrintJobPublic)
def get_print_job(session: SessionDep, user: ApiDiplomat, job_id: Id) -> PrintJobPublic:
    """A print job's status and progress (`done` of `total` labels)."""
    return job_public(print_jobs.get_job(session=session, job_id=job_id))


@router.get(
    "/print-jobs/{job_id}/file",
    response_class=StreamingResponse,
    responses={**errors(409), 200: {"content": {"application/pdf": {}}}},
)
def get_print_job_file(
    request: Request, session: SessionDep, user: ApiDiplomat, job_id: Id
) -> StreamingResponse:
    """The PDF of a finished print job (409 while it runs)."""
    info = print_jobs.job_file(session=session, job_id=job_id)
    return stored_file_response(FileStore(request.app.state.engine), info)


@router.get(
    "/labels/calibration.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def calibration(
    request: Request,
    user: ApiDiplomat,
    format: Annotated[str, Query(max_length=20)] = "L7160",  # noqa: A002
) -> Response:
    """A page outlining every label of a sheet format: print it at 100 % to check alignment."""
    pdf = printing.calibration(
        settings=request.app.state.settings, format_id=format, locale=request.state.locale
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="calibration-{format}.pdf"'},
    )
