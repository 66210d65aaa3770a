"""QR pickup API: redeem scans, the scan log, undo, counters, volunteers' points."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.core import security
from app.pickup import handover as pickup
from app.pickup import log as scan_log
from app.pickup import redeem, volunteers
from models.base import Page
from models.pickup import CountersPublic, PointsIn, PointsPublic, ScanIn, ScanPublic, UndoIn
from routes.http.deps import ApiDiplomat, ApiUser, api_user, bearer, bearer_refused
from routes.http.session import SessionDep, request_session
from routes.http.web import CSRF_COOKIE, SESSION_COOKIE, gettext

router = APIRouter(tags=["pickup"])


Bearer = Annotated[str | None, Depends(bearer)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


@router.post(
    "/scans",
    responses={
        200: {"description": "the answer for every domain outcome: ok, invalid, not_ready, …"},
        409: {"description": "nonce_reused: this nonce was sent before with another code"},
    },
)
async def redeem_scan(body: ScanIn, request: Request, bearer: Bearer) -> JSONResponse:
    """Redeem a scanned code at a point: the kit is handed over at most once.

    Always 200 with `result` for outcomes at the table (scanners want the body); the same nonce
    again returns the first answer. A nonce reused with another code answers 409 with
    `result: nonce_reused`; that attempt is recorded too, and the nonce keeps naming its first.
    """
    pool = request.app.state.async_pool
    token, kind = (bearer, "api") if bearer else (request.cookies.get(SESSION_COOKIE), "session")
    if pool is not None and body.point_id is not None and token and (bearer or _csrf_ok(request)):
        # PostgreSQL: the winning scan on the event loop (app/pickup/redeem.py); every other
        # answer, and SQLite, below in a worker thread.
        ok = await redeem.try_hand_over(
            pool, token=token, token_kind=kind, location_id=body.point_id, **_attempt(body)
        )
        if ok is not None:
            return JSONResponse(pickup.localize(ok, gettext(request), request.state.locale))
    return await run_in_threadpool(_redeem, body, request, bearer)


def _attempt(body: ScanIn) -> dict:
    return {
        "code": body.code,
        "nonce": body.nonce,
        "scanned_at": body.scanned_at,
        "queued": body.queued,
    }


def _csrf_ok(request: Request) -> bool:
    return security.csrf_matches(
        request.cookies.get(CSRF_COOKIE), request.headers.get("x-csrf-token")
    )


def _redeem(body: ScanIn, request: Request, bearer: str | None) -> JSONResponse:
    """`redeem` in a worker thread with a session of its own. A bearer token is verified in the
    redeem's own first read (one round trip fewer on the busiest endpoint); the scanner page's
    cookie and CSRF header are checked as everywhere."""
    with request_session(request) as session:
        user = None if bearer else api_user(request, session)
        try:
            answer = redeem.redeem(
                session=session,
                location_id=body.point_id,
                run_stop_id=body.run_stop_id,
                user=user,
                bearer=bearer,
                **_attempt(body),
            )
        except redeem.TokenRefused:
            raise bearer_refused(session, bearer) from None
    out = pickup.localize(answer, gettext(request), request.state.locale)
    return JSONResponse(out, status_code=409 if out["result"] == "nonce_reused" else 200)


def _filters(
    point_id: int | None,
    claim_id: int | None,
    user_id: int | None,
    result: str | None,
    conflict: bool | None,
    since: datetime | None,
    until: datetime | None,
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


ResultQ = Annotated[str | None, Query(pattern="^(" + "|".join(pickup.RESULTS) + ")$")]


@router.get("/scans", response_model=Page[ScanPublic])
def list_scans(
    session: SessionDep,
    user: ApiDiplomat,
    point_id: int | None = None,
    claim_id: int | None = None,
    user_id: int | None = None,
    result: ResultQ = None,
    conflict: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[ScanPublic]:
    """Every scan attempt, newest first; filter by point, claim, volunteer, result, time."""
    rows, total = scan_log.list_scans(
        session=session,
        filters=_filters(point_id, claim_id, user_id, result, conflict, since, until),
        limit=limit,
        offset=offset,
    )
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.get("/scans.csv", response_class=Response)
def scans_csv(
    session: SessionDep,
    user: ApiDiplomat,
    point_id: int | None = None,
    claim_id: int | None = None,
    user_id: int | None = None,
    result: ResultQ = None,
    conflict: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    """The filtered scan log as CSV (UTF-8 with BOM, opens in Excel)."""
    body = scan_log.scans_csv(
        session=session,
        filters=_filters(point_id, claim_id, user_id, result, conflict, since, until),
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="scans.csv"'},
    )


@router.post("/claims/{claim_id}/undo-handover")
def undo_handover(claim_id: int, body: UndoIn, session: SessionDep, user: ApiDiplomat) -> dict:
    """Reverse a hand-over with a reason: the claim is ready again, its kit re-reserved."""
    claim = pickup.undo_handover(session=session, claim_id=claim_id, reason=body.reason, user=user)
    return {"claim_id": claim.id, "status": claim.status}


@router.get("/pickup-points/{point_id}/counters", response_model=CountersPublic)
def counters(
    point_id: int,
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
def get_points(user_id: int, session: SessionDep, user: ApiDiplomat) -> PointsPublic:
    """The pickup points a volunteer may scan at."""
    ids = sorted(volunteers.assignments(session=session).get(user_id, set()))
    return PointsPublic(user_id=user_id, location_ids=ids)


@router.put("/volunteers/{user_id}/points", response_model=PointsPublic)
def set_points(
    user_id: int, body: PointsIn, session: SessionDep, user: ApiDiplomat
) -> PointsPublic:
    """Replace the pickup points a volunteer may scan at."""
    ids = volunteers.set_volunteer_points(
        session=session, user_id=user_id, location_ids=body.location_ids
    )
    return PointsPublic(user_id=user_id, location_ids=ids)
