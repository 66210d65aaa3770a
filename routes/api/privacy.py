"""Privacy API (diplomats): who was shown minors' contact details."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.audit import looks
from models.base import INT32_MAX, Id, Page
from models.privacy import PersonalViewPublic
from routes.http.deps import ApiDiplomat
from routes.http.session import SessionDep

router = APIRouter(tags=["privacy"])


@router.get("/privacy/views", response_model=Page[PersonalViewPublic])
def list_views(
    session: SessionDep,
    user: ApiDiplomat,
    claim_id: Id | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
) -> Page[PersonalViewPublic]:
    """Who was shown a minor's address or phone, when, where (`run`, `driver`, `claim`,
    `print`, `export`) and which fields; newest first, by claim and time (UTC when no zone)."""
    rows, total = looks.views(
        session=session, claim_id=claim_id, since=since, until=until, limit=limit, offset=offset
    )
    return Page(items=rows, total=total, limit=limit, offset=offset)
