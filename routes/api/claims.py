"""Claims: the public submission (rate limited), the holder's status, staff lists and decisions."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.campaigns import service as campaigns
from app.claims import actions as claim_actions
from app.claims import fast as claim_fast
from app.claims import find as claim_find
from app.claims import queries as claim_views
from models.base import INT32_MAX, Id, Page
from models.claims import (
    ClaimIn,
    ClaimStaffPublic,
    ClaimStatusPublic,
    DecisionIn,
    FindIn,
    FindOut,
)
from routes.http.deps import ApiDiplomat
from routes.http.input import ExportReason
from routes.http.openapi import errors
from routes.http.responses import csv_response
from routes.http.session import SessionDep, database
from routes.http.web import gettext

router = APIRouter(tags=["claims"])


@router.post(
    "/campaigns/{public_id}/claims",
    response_model=ClaimStatusPublic,
    status_code=201,
    responses=errors(409, 429),
)
async def submit_claim(public_id: str, body: ClaimIn, request: Request) -> dict:
    """A student's claim (public, rate limited). `public_id` is the campaign's public id."""
    return await claim_fast.submit_claim(
        database(request),
        public_id=public_id,
        data=body,
        locale=request.state.locale,
        address=request.client.host if request.client else "?",
    )


@router.post(
    "/campaigns/{public_id}/claims/find", response_model=FindOut, responses=errors(404, 429)
)
def find_claim(public_id: str, body: FindIn, request: Request, session: SessionDep) -> FindOut:
    """A student who lost the link to their claim (public, rate limited): the facts that made
    the claim. A claim with an e-mail address gets its link by e-mail (the answer is the same
    whether anything matched); one without gets its `token` here only when `code_end` (the
    last 4 characters of its code) matches too."""
    campaign = campaigns.by_public_id(session=session, public_id=public_id)
    token = claim_find.find(
        session=session,
        settings=request.app.state.settings,
        campaign=campaign,
        data=body,
        address=request.client.host if request.client else "?",
    )
    if token is not None:
        return FindOut(token=token, message=gettext(request)("Here is your claim."))
    return FindOut(message=gettext(request)(claim_find.SENT_IF_FOUND))


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
    campaign_id: Id | None = None,
    school_id: Id | None = None,
    status: str | None = None,
    fulfilment: str | None = None,
    minors: bool | None = None,
    location_id: Id | None = None,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
) -> Page[ClaimStaffPublic]:
    """Claims for staff, filtered and paginated, newest first. Minors' addresses and phones in
    the answer are logged as seen by the caller."""
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
    items = [ClaimStaffPublic.model_validate(c, from_attributes=True) for c in rows]
    claim_views.looked_at(session=session, user_id=user.id, claims=rows)
    return Page(
        items=items,
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/claims.csv", response_class=Response)
def claims_csv(
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
    reason: ExportReason = None,
    campaign_id: Id | None = None,
    school_id: Id | None = None,
    status: str | None = None,
) -> Response:
    """The claims with the students' personal data as CSV. Give a `reason` (required): the
    export is audited, minors' addresses and phones in it are logged as seen, and its first
    line is a notice (who exported it, when, why; use it only for the distribution)."""
    body = claim_views.export_csv(
        session=session,
        user=user,
        reason=reason,
        gettext=gettext(request),
        campaign_id=campaign_id,
        school_id=school_id,
        status=status,
    )
    return csv_response(body, "claims.csv")


@router.post("/claims/decisions", responses=errors(404))
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
