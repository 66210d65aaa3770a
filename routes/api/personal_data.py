"""A student's personal data on request: the access export (JSON, PDF) and the erasure."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.core.i18n import translations
from app.privacy import access, access_pdf, erase
from models.base import Id
from models.privacy import ErasureIn, ErasureResult
from routes.http.deps import ApiDiplomat
from routes.http.openapi import errors
from routes.http.responses import pdf_response
from routes.http.session import SessionDep

router = APIRouter(tags=["privacy"])

Reason = Annotated[
    str,
    Query(
        min_length=1,
        max_length=300,
        pattern=r"\S",
        description="why the data is exported (a request by the student, say)",
    ),
]
Lang = Annotated[str | None, Query(pattern="^(zh_CN|en)$")]


def _(request: Request, locale: str | None = None):  # noqa: ANN202
    return translations(locale or getattr(request.state, "locale", "zh_CN")).gettext


@router.get("/claims/{claim_id}/personal-data", responses=errors(404, 422))
def claim_personal_data(
    claim_id: Id, reason: Reason, request: Request, session: SessionDep, user: ApiDiplomat
) -> dict:
    """Everything kitrun holds about the student of this claim (all their claims and roster
    lines), as JSON; audited with the reason."""
    settings = request.app.state.settings
    return access.export(
        session, settings, claim_id=claim_id, user_id=user.id, reason=reason.strip()
    )


@router.get(
    "/claims/{claim_id}/personal-data.pdf",
    response_class=Response,
    responses=errors(404, 422),
)
def claim_personal_data_pdf(
    claim_id: Id,
    reason: Reason,
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
    lang: Lang = None,
) -> Response:
    """The same as a readable A4 PDF, in Chinese or English (`lang`, default the reader's)."""
    locale = lang or getattr(request.state, "locale", "zh_CN")
    settings = request.app.state.settings
    record = access.export(
        session, settings, claim_id=claim_id, user_id=user.id, reason=reason.strip()
    )
    return pdf_response(
        access_pdf.render(record, _(request, locale), locale, settings.timezone),
        f"personal-data-{claim_id}.pdf",
    )


@router.delete("/claims/{claim_id}", response_model=ErasureResult, responses=errors(404, 409))
def erase_claim_student(
    claim_id: Id, body: ErasureIn, request: Request, session: SessionDep, user: ApiDiplomat
) -> ErasureResult:
    """Erase the student of this claim: every claim and roster line of theirs. The answer says
    what was erased, and what is kept (anonymous counts) and why."""
    return erase.erase(
        session,
        request.app.state.settings,
        claim_id=claim_id,
        user_id=user.id,
        reason=body.reason,
        _=_(request),
    )


@router.get("/schools/{school_id}/roster/{entry_id}/personal-data", responses=errors(404, 422))
def roster_personal_data(
    school_id: Id,
    entry_id: Id,
    reason: Reason,
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
) -> dict:
    """Everything kitrun holds about the student of this roster line, as JSON."""
    erase.roster_entry(session, school_id=school_id, entry_id=entry_id)
    return access.export(
        session,
        request.app.state.settings,
        entry_id=entry_id,
        user_id=user.id,
        reason=reason.strip(),
    )


@router.delete(
    "/schools/{school_id}/roster/{entry_id}",
    response_model=ErasureResult,
    responses=errors(404, 409),
)
def erase_roster_student(
    school_id: Id,
    entry_id: Id,
    body: ErasureIn,
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
) -> ErasureResult:
    """Erase the student of this roster line (and their claims)."""
    erase.roster_entry(session, school_id=school_id, entry_id=entry_id)
    return erase.erase(
        session,
        request.app.state.settings,
        entry_id=entry_id,
        user_id=user.id,
        reason=body.reason,
        _=_(request),
    )
