"""QR pickup API: redeem scans, the scan log, undo, counters, volunteers' points."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from app.pickup import handover as pickup
from app.pickup import log as scan_log
from app.pickup import redeem, volunteers
from models.base import INT32_MAX, Id, Page
from models.pickup import CountersPublic, PointsIn, PointsPublic, ScanIn, ScanPublic, UndoIn
from routes.http.deps import ApiDiplomat, ApiUser, bearer, csrf_header_ok
from routes.http.input import ExportReason
from routes.http.openapi import errors
from routes.http.responses import csv_response
from routes.http.session import SessionDep, database
from routes.http.web import SESSION_COOKIE, gettext

router = APIRouter(tags=["pickup"])


Bearer = Annotated[str | None, Depends(bearer)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=INT32_MAX)]


@router.post(
    "/scans",
    responses={
        200: {"description": "the answer for every domain outcome: ok, invalid, not_ready, …"},
        409: {
            "description": "nonce_reused (in this answer's shape): the nonce was sent before "
            "with another code; or, in the error shape, the reserved kit is missing from stock"
        },
    },
)
async def redeem_scan(body: ScanIn, request: Request, bearer: Bearer) -> JSONResponse:
    """Redeem a scanned code at a point: the kit is handed over at most once.

    Always 200 with `result` for outcomes at the table (scanners want the body); the same nonce
    again returns the first answer. A nonce reused with another code answers 409 with
    `result: nonce_reused`; that attempt is recorded too, and the nonce keeps naming its first.
    In a campaign that asks for an ID check, a valid scan answers `check_id` (nothing is
    recorded) and the same code and nonce again with `confirm: true` hands over. A valid
    answer carries `identity` (full name, birth year) for the volunteer; the log keeps the
    masked name.
    """
    if bearer:
        credentials = redeem.Credentials(bearer, "api")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        credentials = redeem.Credentials(cookie, "session", csrf_header_ok(request))
    answer = await redeem.scan(
        database(request),
        credentials=credentials,
        code=body.code,
        nonce=body.nonce,
        scanned_at=body.scanned_at,
        location_id=body.point_id,
        run_stop_id=body.run_stop_id,
        queued=body.queued,
        confirm=body.confirm,
    )
    out = pickup.localize(answer, gettext(request), request.state.locale)
    return JSONResponse(out, status_code=409 if out["result"] == "nonce_reused" else 200)


ResultQ = Annotated[str | None, Query(pattern="^(" + "|".join(pickup.RESULTS) + ")$")]


def _filters(
    point_id: Id | None = None,
    claim_id: Id | None = None,
    user_id: Id | None = None,
    result: ResultQ = None,
    conflict: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> scan_log.ScanFilter:
    return scan_log.ScanFilter(
        location_id=point_id,
        claim_id=claim_id,
        user_id=user_id,
        result=result,
        conflict=conflict,
        since=since,
        until=until,
    )


ScanFilters = Annotated[scan_log.ScanFilter, Depends(_filters)]


@router.get("/scans", response_model=Page[ScanPublic])
def list_scans(
    session: SessionDep,
    user: ApiDiplomat,
    filters: ScanFilters,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[ScanPublic]:
    """Every scan attempt, newest first; filter by point, claim, volunteer, result, time."""
    rows, total = scan_log.list_scans(session=session, filters=filters, limit=limit, offset=offset)
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.get("/scans.csv", response_class=Response)
def scans_csv(
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
    filters: ScanFilters,
    reason: ExportReason = None,
) -> Response:
    """The filtered scan log as CSV (UTF-8 with BOM, opens in Excel). Give a `reason`
    (required): the export is audited and its first line is a notice (who, when, why)."""
    body = scan_log.export_csv(
        session=session, filters=filters, user=user, reason=reason, gettext=gettext(request)
    )
    return csv_response(body, "scans.csv")


@router.post("/claims/{claim_id}/undo-handover")
def undo_handover(claim_id: Id, body: UndoIn, session: SessionDep, user: ApiDiplomat) -> dict:
    """Reverse a hand-over with a reason: the claim is ready again, its kit re-reserved."""
    claim = pickup.undo_handover(session=session, claim_id=claim_id, reason=body.reason, user=user)
    return {"claim_id": claim.id, "status": claim.status}


@router.get(
    "/pickup-points/{point_id}/counters", response_model=CountersPublic, responses=errors(403)
)
def counters(
    point_id: Id,
    request: Request,
    session: SessionDep,
    user: ApiUser,
    tz: Annotated[str | None, Query(max_length=60, description="IANA time zone")] = None,
) -> dict:
    """Kits handed out today (local day of `tz`) and still to come at a point."""
    volunteers.require_point(session=session, user=user, location_id=point_id)
    tz = tz or request.app.state.settings.timezone
    return scan_log.counters(session=session, location_id=point_id, tz=tz)


@router.get("/volunteers/{user_id}/points", response_model=PointsPublic)
def get_points(user_id: Id, session: SessionDep, user: ApiDiplomat) -> PointsPublic:
    """The pickup points a volunteer may scan at."""
    ids = sorted(volunteers.assignments(session=session).get(user_id, set()))
    return PointsPublic(user_id=user_id, location_ids=ids)


@router.put("/volunteers/{user_id}/points", response_model=PointsPublic)
def set_points(user_id: Id, body: PointsIn, session: SessionDep, user: ApiDiplomat) -> PointsPublic:
    """Replace the pickup points a volunteer may scan at."""
    ids = volunteers.set_volunteer_points(
        session=session, user_id=user_id, location_ids=body.location_ids
    )
    return PointsPublic(user_id=user_id, location_ids=ids)
