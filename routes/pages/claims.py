"""Diplomat pages: campaigns, pickup slots, the claims list with review, a claim's story."""

from types import SimpleNamespace
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from app.audit import looks
from app.campaigns import notices
from app.campaigns import service as campaigns
from app.claims import actions as claim_actions
from app.claims import queries as claim_views
from app.core.errors import DomainError, NotFound
from app.core.localtime import from_form
from app.inventory import catalog
from app.schools import service as schools
from models.base import Id
from models.campaigns import (
    CampaignCreate,
    CampaignSchoolIn,
    CampaignUpdate,
    PickupSlotCreate,
)
from models.privacy import NoticeIn
from routes.http.deps import PageDiplomat
from routes.http.input import PageNo, id_or_none
from routes.http.session import SessionDep
from routes.http.web import gettext, render

router = APIRouter(prefix="/admin")
PAGE = 50


@router.get("/claims")
def claims_list(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    campaign_id: str = "",
    school_id: str = "",
    status: str = "",
    fulfilment: str = "",
    minors: str = "",
    q: str = "",
    page: PageNo = 1,
    done: str = "",
) -> Response:
    filters = {
        "campaign_id": id_or_none(campaign_id),
        "school_id": id_or_none(school_id),
        "status": status or None,
        "fulfilment": fulfilment or None,
        "minors": True if minors == "1" else None,
        "q": q or None,
    }
    page = max(page, 1)
    rows, total = claim_views.page(session=session, limit=PAGE, offset=(page - 1) * PAGE, **filters)
    args = {
        "campaign_id": campaign_id,
        "school_id": school_id,
        "status": status,
        "fulfilment": fulfilment,
        "minors": minors,
        "q": q,
    }
    return render(
        request,
        "claims/list.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE)),
            "args": args,
            "look": claim_views.lookups(session),
            "done": done,
            "query": "&".join(f"{k}={v}" for k, v in args.items() if v),
        },
    )


@router.post("/claims/decide")
def claims_decide(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    claim_ids: Annotated[list[Id], Form()] = [],  # noqa: B006
    decision: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=300)] = "",
    back: Annotated[str, Form(max_length=500)] = "/admin/claims",
) -> Response:
    _ = gettext(request)
    if not claim_ids or decision not in ("approve", "reject"):
        return render(
            request,
            "error.html",
            {"status": 422, "message": _("Tick at least one claim, then approve or reject.")},
            422,
        )
    out = claim_actions.decide_many(
        session=session,
        settings=request.app.state.settings,
        claim_ids=claim_ids,
        approve=decision == "approve",
        user_id=user.id,
        note=reason,
    )
    target = back if back.startswith("/admin/") else "/admin/claims"
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done={len(out['decided'])}", status_code=303)


@router.get("/claims/{claim_id}")
def claim_detail(
    claim_id: Id, request: Request, session: SessionDep, user: PageDiplomat
) -> Response:
    try:
        claim = claim_views.get_claim(session=session, claim_id=claim_id)
    except NotFound as exc:
        message = exc.localized(gettext(request))
        return render(request, "error.html", {"status": 404, "message": message}, 404)
    look = claim_views.lookups(session)
    school = look["schools"].get(claim.school_id)
    point = look["locations"].get(claim.pickup_location_id)
    names = SimpleNamespace(
        school_zh=school.name_zh if school else None,
        school_en=school.name_en if school else None,
        point_zh=point.name_zh if point else None,
        point_en=point.name_en if point else None,
    )
    zh = request.state.locale == "zh_CN"
    context = {
        "c": claim,
        "history": claim_views.history(session=session, claim_id=claim.id),
        "look": look,
        # reasons name the school and the point in English: shown in the page's language
        "localized": lambda reasons: claim_views.localized_reasons(reasons, names, zh),
    }
    # this page shows a minor's address and phone: logged, then the log (this view included)
    claim_views.looked_at(session=session, user_id=user.id, claims=[claim])
    if claim.is_minor:
        context["views"] = looks.of_claim(session=session, claim_id=claim.id)
        context["view_labels"] = looks.LABELS
    return render(request, "claims/detail.html", context)


@router.get("/campaigns")
def campaigns_page(request: Request, session: SessionDep, user: PageDiplomat) -> Response:
    return render(request, "campaigns/list.html", _campaign_ctx(session) | {"error": None})


def _campaign_ctx(session) -> dict:  # noqa: ANN001
    rows = campaigns.newest_first(session=session)
    return {
        "rows": rows,
        "modes": {c.id: campaigns.school_modes(session=session, campaign_id=c.id) for c in rows},
        "notices": {c.id: notices.current(session, c.id) for c in rows},
        "schools": schools.all_by_name(session=session),
        "kits": catalog.kits(session=session),
        "depots": catalog.locations_by_kind(session=session),
    }


@router.post("/campaigns")
def campaigns_save(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    campaign_id: Annotated[str, Form()] = "",
    name_zh: Annotated[str, Form(max_length=200)] = "",
    name_en: Annotated[str, Form(max_length=200)] = "",
    opens_at: Annotated[str, Form(max_length=20)] = "",
    closes_at: Annotated[str, Form(max_length=20)] = "",
    kit_item_id: Annotated[str, Form()] = "",
    status: Annotated[str, Form(max_length=10)] = "draft",
    kits_per_student: Annotated[str, Form(max_length=2)] = "1",
    depot_location_id: Annotated[str, Form()] = "",
    delivery_minors: Annotated[bool, Form()] = False,
    delivery_quarantine: Annotated[bool, Form()] = False,
    delivery_distance_km: Annotated[str, Form(max_length=8)] = "",
    school_ids: Annotated[list[Id], Form()] = [],  # noqa: B006
    mode: Annotated[str, Form(max_length=10)] = "roster",
    asks_phone: Annotated[bool, Form()] = False,
    asks_wechat: Annotated[bool, Form()] = False,
    asks_passport_name: Annotated[bool, Form()] = False,
    confirm_after_id_check: Annotated[bool, Form()] = False,
    retention_days: Annotated[str, Form(max_length=8)] = "",
    retention_days_minors: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    _ = gettext(request)
    tz = request.app.state.settings.timezone
    try:
        modes = {}
        if campaign_id.isdigit() and id_or_none(campaign_id) is None:
            raise ValueError("no such campaign")
        if campaign_id.isdigit():
            modes = campaigns.school_modes(session=session, campaign_id=int(campaign_id))
        schools = [
            CampaignSchoolIn(school_id=s, verification=modes.get(s, mode)) for s in school_ids
        ]
        values = {
            "name_zh": name_zh.strip(),
            "name_en": name_en.strip(),
            "opens_at": from_form(opens_at, tz) if opens_at else None,
            "closes_at": from_form(closes_at, tz) if closes_at else None,
            "status": status,
            "kits_per_student": kits_per_student or 1,
            "depot_location_id": int(depot_location_id) if depot_location_id else None,
            "delivery_minors": delivery_minors,
            "delivery_quarantine": delivery_quarantine,
            "delivery_distance_km": float(delivery_distance_km) if delivery_distance_km else None,
            "schools": schools,
            "asks_phone": asks_phone,
            "asks_wechat": asks_wechat,
            "asks_passport_name": asks_passport_name,
            "confirm_after_id_check": confirm_after_id_check,
            # given only when filled in (else unchanged, or the default for a new campaign)
            **{
                k: int(v)
                for k, v in (
                    ("retention_days", retention_days),
                    ("retention_days_minors", retention_days_minors),
                )
                if v.strip()
            },
        }
        if campaign_id.isdigit():  # (a field the card's form does not send: unchanged)
            values = {
                k: v for k, v in values.items() if v not in (None, "") or k.startswith("deliv")
            }
            campaigns.update_campaign(
                session=session, campaign_id=int(campaign_id), data=CampaignUpdate(**values)
            )
        else:
            campaigns.create_campaign(
                session=session,
                data=CampaignCreate(**values, kit_item_id=int(kit_item_id) if kit_item_id else 0),
            )
    except (ValueError, ValidationError) as exc:
        msg = _("Check the dates (YYYY-MM-DDTHH:MM), the kit and the numbers.")
        if isinstance(exc, ValidationError):
            err = exc.errors()[0]
            msg = f"{msg} ({err['loc'][-1] if err.get('loc') else ''}: {err['msg']})"
            if err.get("loc") and str(err["loc"][-1]).startswith("retention_days"):
                msg = _("Keep the data between 0 and 90 days after the campaign closes.")
        return render(
            request,
            "campaigns/list.html",
            _campaign_ctx(session) | {"error": msg},
            status_code=422,
        )
    except DomainError as exc:
        session.rollback()
        return render(
            request,
            "campaigns/list.html",
            _campaign_ctx(session) | {"error": exc.localized(_)},
            status_code=exc.status_code,
        )
    return RedirectResponse("/admin/campaigns", status_code=303)


@router.post("/campaigns/{campaign_id}/notice")
def campaign_notice(
    campaign_id: Id,
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    text_zh: Annotated[str, Form()] = "",  # any length: NoticeIn says what is too long
    text_en: Annotated[str, Form()] = "",
) -> Response:
    """Publish a new version of a campaign's privacy notice."""
    _ = gettext(request)
    try:
        data = NoticeIn(text_zh=text_zh, text_en=text_en)
        notices.publish(session=session, campaign_id=campaign_id, data=data, user_id=user.id)
    except ValidationError:
        msg = _("Give the privacy notice in Chinese and in English (at most 20000 characters).")
        return render(request, "campaigns/list.html", _campaign_ctx(session) | {"error": msg}, 422)
    except DomainError as exc:
        session.rollback()
        return render(
            request,
            "campaigns/list.html",
            _campaign_ctx(session) | {"error": exc.localized(_)},
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/admin/campaigns#campaign-{campaign_id}", status_code=303)


@router.get("/slots")
def slots_page(request: Request, session: SessionDep, user: PageDiplomat) -> Response:
    return render(request, "campaigns/slots.html", _slots_ctx(session) | {"error": None})


def _slots_ctx(session) -> dict:  # noqa: ANN001
    points = campaigns.pickup_points(session=session)
    return {
        "points": points,
        "slots": {
            p.id: campaigns.slots(session=session, location_id=p.id, upcoming=False) for p in points
        },
    }


@router.post("/slots")
def slots_create(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    location_id: Annotated[Id, Form()] = 0,
    starts_at: Annotated[str, Form(max_length=20)] = "",
    ends_at: Annotated[str, Form(max_length=20)] = "",
    capacity: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    _ = gettext(request)
    tz = request.app.state.settings.timezone
    try:
        campaigns.create_slot(
            session=session,
            data=PickupSlotCreate(
                location_id=location_id,
                starts_at=from_form(starts_at, tz),
                ends_at=from_form(ends_at, tz),
                capacity=int(capacity),
            ),
        )
    except (ValueError, ValidationError):
        return render(
            request,
            "campaigns/slots.html",
            _slots_ctx(session)
            | {"error": _("Give a start, an end (YYYY-MM-DDTHH:MM) and a capacity of at least 1.")},
            status_code=422,
        )
    except DomainError as exc:
        return render(
            request,
            "campaigns/slots.html",
            _slots_ctx(session) | {"error": exc.localized(_)},
            status_code=exc.status_code,
        )
    return RedirectResponse("/admin/slots", status_code=303)
