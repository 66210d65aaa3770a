"""Diplomat pages for one student's personal data: the access export and the erasure, from a
claim or a roster line."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.campaigns import service as campaigns
from app.core.errors import N_, DomainError, Invalid
from app.privacy import erase
from app.schools import service as schools
from models.base import Id
from routes.http.deps import PageDiplomat
from routes.http.session import SessionDep
from routes.http.web import gettext, render

router = APIRouter(prefix="/admin")


def _page(request: Request, session, student: erase.Student, base: str, **extra) -> Response:  # noqa: ANN001, ANN003
    """The student's claims and roster lines, with the export and erasure forms."""
    ids = {c.campaign_id for c in student.claims}
    school_ids = {c.school_id for c in student.claims} | {r.school_id for r in student.roster}
    status = extra.pop("status_code", 200)
    context = {
        "student": student,
        "campaigns": {i: campaigns.get_campaign(session=session, campaign_id=i) for i in ids},
        "schools": {i: schools.get_school(session=session, school_id=i) for i in school_ids},
        "base": base,
        "error": None,
        **extra,
    }
    return render(request, "privacy/student.html", context, status_code=status)


@router.get("/claims/{claim_id}/privacy")
def claim_privacy(
    claim_id: Id, request: Request, session: SessionDep, user: PageDiplomat
) -> Response:
    student = erase.find(session, claim_id=claim_id, lock=False)
    return _page(
        request,
        session,
        student,
        f"/admin/claims/{claim_id}",
        api=f"/api/v1/claims/{claim_id}/personal-data",
    )


@router.post("/claims/{claim_id}/erase")
def claim_erase(
    claim_id: Id,
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    reason: Annotated[str, Form(max_length=500)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    return _erase(
        request, session, user, reason, confirm, f"/admin/claims/{claim_id}", claim_id=claim_id
    )


@router.get("/schools/{school_id}/roster/{entry_id}/privacy")
def roster_privacy(
    school_id: Id, entry_id: Id, request: Request, session: SessionDep, user: PageDiplomat
) -> Response:
    erase.roster_entry(session, school_id=school_id, entry_id=entry_id)
    student = erase.find(session, entry_id=entry_id, lock=False)
    return _page(
        request,
        session,
        student,
        f"/admin/schools/{school_id}/roster/{entry_id}",
        api=f"/api/v1/schools/{school_id}/roster/{entry_id}/personal-data",
    )


@router.post("/schools/{school_id}/roster/{entry_id}/erase")
def roster_erase(
    school_id: Id,
    entry_id: Id,
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    reason: Annotated[str, Form(max_length=500)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    erase.roster_entry(session, school_id=school_id, entry_id=entry_id)
    return _erase(
        request,
        session,
        user,
        reason,
        confirm,
        f"/admin/schools/{school_id}/roster/{entry_id}",
        entry_id=entry_id,
    )


def _erase(request, session, user, reason, confirm, base, **who) -> Response:  # noqa: ANN001, ANN003
    _ = gettext(request)
    try:
        if not reason.strip():
            raise Invalid(N_("Give the reason for the erasure (not the student's name)."))
        if confirm != "yes":
            raise Invalid(N_("Tick the box to confirm: an erasure cannot be undone."))
        result = erase.erase(
            session,
            request.app.state.settings,
            user_id=user.id,
            reason=reason.strip(),
            _=_,
            **who,
        )
    except DomainError as exc:
        session.rollback()
        student = erase.find(session, lock=False, **who)
        return _page(
            request,
            session,
            student,
            base,
            api=None,
            error=exc.localized(_),
            status_code=exc.status_code,
        )
    return render(request, "privacy/erased.html", {"result": result})
