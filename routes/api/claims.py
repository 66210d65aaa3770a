"""Claims: the public submission (rate limited), the holder's status, staff lists and decisions."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app.campaigns import service as campaigns
from app.claims import actions as claim_actions
from app.claims import fast as claim_fast
from app.claims import queries as claim_views
from app.claims import submit as claims
from app.core.db import autocommit_reads
from models.base import Page
from models.claims import ClaimIn, ClaimStaffPublic, ClaimStatusPublic, DecisionIn
from routes.http.deps import ApiDiplomat
from routes.http.session import SessionDep, request_session

router = APIRouter(tags=["claims"])


@router.post("/campaigns/{public_id}/claims", response_model=ClaimStatusPublic, status_code=201)
async def submit_claim(public_id: str, body: ClaimIn, request: Request) -> dict:
    """A student's claim (public, rate limited). `public_id` is the campaign's public id."""
    settings = request.app.state.settings
    address = request.client.host if request.client else "?"
    pool = request.app.state.async_pool
    tried = claim_fast.Outcome(None, False)
    if pool is not None and claim_fast.applies(body):
        # PostgreSQL, a pickup without mail: on the event loop (app/claims/fast.py).
        tried = await claim_fast.try_submit(
            pool,
            settings=settings,
            public_id=public_id,
            data=body,
            locale=request.state.locale,
            address=address,
        )
        if tried.answer is not None:
            return tried.answer
    return await run_in_threadpool(_submit, public_id, body, request, address, tried)


def _submit(
    public_id: str, body: ClaimIn, request: Request, address: str, tried: claim_fast.Outcome
) -> dict:
    """The claim through `claims.submit`, in a worker thread with a session of its own. The
    campaign read and the rate-limit counters run as single statements; the claim itself is then
    one transaction (app/claims/submit.py)."""
    settings = request.app.state.settings
    with request_session(request) as session:
        autocommit_reads(session)
        campaign = campaigns.by_public_id(session=session, public_id=public_id)
        claim = claims.submit(
            session=session,
            settings=settings,
            campaign=campaign,
            data=body,
            locale=request.state.locale,
            address=address,
            counted=tried.counted,
            token=tried.token,
        )
        autocommit_reads(session)  # the answer's one read
        return claim_views.holder_view(
            session=session, claim=claim, locale=request.state.locale, tz=settings.timezone
        )


@router.get("/claims/{token}", response_model=ClaimStatusPublic)
def claim_status(token: str, request: Request, session: SessionDep) -> dict:
    """A claim's status, for the holder of its token."""
    claim = claim_actions.by_token(session=session, token=token)
    return claim_views.holder_view(
        session=session,
        claim=claim,
        locale=request.state.locale,
        tz=request.app.state.settings.timezone,
    )


@router.get("/claims", response_model=Page[ClaimStaffPublic])
def list_claims(
    session: SessionDep,
    user: ApiDiplomat,
    campaign_id: int | None = None,
    school_id: int | None = None,
    status: str | None = None,
    fulfilment: str | None = None,
    minors: bool | None = None,
    location_id: int | None = None,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ClaimStaffPublic]:
    """Claims for staff, filtered and paginated, newest first."""
    rows, total = claim_views.page(
        session=session,
        limit=limit,
        offset=offset,
        campaign_id=campaign_id,
        school_id=school_id,
        status=status,
        fulfilment=fulfilment,
        minors=minors,
        location_id=location_id,
        q=q,
    )
    return Page(
        items=[ClaimStaffPublic.model_validate(c, from_attributes=True) for c in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/claims.csv", response_class=Response)
def claims_csv(
    session: SessionDep,
    user: ApiDiplomat,
    campaign_id: int | None = None,
    school_id: int | None = None,
    status: str | None = None,
) -> Response:
    body = claim_views.to_csv(
        session=session, campaign_id=campaign_id, school_id=school_id, status=status
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="claims.csv"'},
    )


@router.post("/claims/decisions")
def decide(body: DecisionIn, request: Request, session: SessionDep, user: ApiDiplomat) -> dict:
    """Approve or reject claims waiting for manual review (bulk)."""
    return claim_actions.decide_many(
        session=session,
        settings=request.app.state.settings,
        claim_ids=body.claim_ids,
        approve=body.decision == "approve",
        user_id=user.id,
        note=body.reason,
    )
