"""Campaigns, pickup points and slots (diplomats)."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.campaigns import notices
from app.campaigns import service as campaigns
from models.base import INT32_MAX, Id, Page
from models.campaigns import (
    Campaign,
    CampaignCreate,
    CampaignPublic,
    CampaignSchoolIn,
    CampaignUpdate,
    PickupSlotCreate,
    PickupSlotPublic,
)
from models.inventory import LocationPublic
from models.privacy import NoticeIn, NoticePublic, NoticeText
from routes.http.deps import ApiDiplomat
from routes.http.openapi import errors
from routes.http.session import SessionDep

router = APIRouter(tags=["campaigns"])


def _public(session, c: Campaign) -> CampaignPublic:  # noqa: ANN001
    modes = campaigns.school_modes(session=session, campaign_id=c.id)
    return CampaignPublic(
        **c.model_dump(),
        schools=[CampaignSchoolIn(school_id=k, verification=v) for k, v in modes.items()],
    )


@router.get("/campaigns", response_model=Page[CampaignPublic])
def list_campaigns(
    session: SessionDep,
    user: ApiDiplomat,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
) -> Page[CampaignPublic]:
    rows = campaigns.newest_first(session=session)
    return Page(
        items=[_public(session, c) for c in rows[offset : offset + limit]],
        total=len(rows),
        limit=limit,
        offset=offset,
    )


@router.post("/campaigns", response_model=CampaignPublic, status_code=201, responses=errors(404))
def create_campaign(body: CampaignCreate, session: SessionDep, user: ApiDiplomat) -> CampaignPublic:
    """Create a campaign: dates, kit, eligible schools with their verification mode, policy."""
    c = campaigns.create_campaign(session=session, data=body, user_id=user.id)
    return _public(session, c)


@router.get("/campaigns/{campaign_id}", response_model=CampaignPublic)
def get_campaign(campaign_id: Id, session: SessionDep, user: ApiDiplomat) -> CampaignPublic:
    return _public(session, campaigns.get_campaign(session=session, campaign_id=campaign_id))


@router.patch("/campaigns/{campaign_id}", response_model=CampaignPublic)
def update_campaign(
    campaign_id: Id, body: CampaignUpdate, session: SessionDep, user: ApiDiplomat
) -> CampaignPublic:
    c = campaigns.update_campaign(
        session=session, campaign_id=campaign_id, data=body, user_id=user.id
    )
    return _public(session, c)


@router.get(
    "/campaigns/{campaign_id}/notices", response_model=list[NoticePublic], responses=errors(404)
)
def list_notices(campaign_id: Id, session: SessionDep, user: ApiDiplomat) -> list:
    """Every version of the campaign's privacy notice, the newest (the one shown) first."""
    return notices.versions(session=session, campaign_id=campaign_id)


@router.post(
    "/campaigns/{campaign_id}/notices",
    response_model=NoticePublic,
    status_code=201,
    responses=errors(404),
)
def publish_notice(
    campaign_id: Id, body: NoticeIn, session: SessionDep, user: ApiDiplomat
) -> object:
    """Publish a new version of the privacy notice: the claim form shows it from now on, and
    a claim made with an older version (its `notice_version`) is refused until it is read."""
    return notices.publish(session=session, campaign_id=campaign_id, data=body, user_id=user.id)


@router.get(
    "/public/campaigns/{public_id}/notice", response_model=NoticeText, responses=errors(404)
)
def public_notice(public_id: str, session: SessionDep) -> object:
    """The privacy notice a claim accepts (no account): send its `version` as the claim's
    `notice_version`."""
    return notices.current_by_public_id(session=session, public_id=public_id)


@router.get("/pickup-points", response_model=list[LocationPublic])
def list_points(session: SessionDep, user: ApiDiplomat) -> list:
    """Locations of kind pickup point (create them with POST /api/v1/locations)."""
    return campaigns.pickup_points(session=session)


@router.get("/pickup-points/{location_id}/slots", response_model=list[PickupSlotPublic])
def list_slots(
    location_id: Id, session: SessionDep, user: ApiDiplomat, upcoming: bool = True
) -> list:
    return campaigns.slots(session=session, location_id=location_id, upcoming=upcoming)


@router.post("/pickup-points/{location_id}/slots", response_model=PickupSlotPublic, status_code=201)
def create_slot(
    location_id: Id, body: PickupSlotCreate, session: SessionDep, user: ApiDiplomat
) -> object:
    """Add an opening slot with its capacity; body.location_id must match the path."""
    body.location_id = location_id
    return campaigns.create_slot(session=session, data=body)
