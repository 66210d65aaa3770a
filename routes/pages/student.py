"""The students' pages: the claim form, "find my claim", the status page with its QR code."""

import io
from datetime import date
from typing import Annotated

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from app.campaigns import notices
from app.campaigns import service as campaigns
from app.claims import actions as claim_actions
from app.claims import fast as claim_fast
from app.claims import find as claim_find
from app.claims import queries as claim_views
from app.core.db import autocommit_reads
from app.core.errors import N_, CsrfFailed, DomainError, Invalid
from models.base import INT32_MAX
from models.claims import CANCELLABLE, ClaimIn, FindIn
from routes.http.deps import shows_csrf_refusal
from routes.http.session import SessionDep, database, request_session
from routes.http.web import gettext, render

router = APIRouter()

FIELDS = (
    "school_id",
    "name_zh",
    "name_latin",
    "student_number",
    "email",
    "birth_date",
    "phone",
    "wechat",
    "fulfilment",
    "pickup_location_id",
    "slot_id",
    "address",
    "lat",
    "lon",
    "notice_version",
)

# The form's fields in the order the page shows them: the first with an error takes the focus.
ORDER = (*(f for f in FIELDS if f != "notice_version"), "quarantine", "consent")


def _form_context(session, campaign, q: str = "") -> dict:  # noqa: ANN001
    schools = campaigns.form_schools(session=session, campaign_id=campaign.id, q=q)
    points = campaigns.pickup_points(session=session)
    slots = {p.id: campaigns.slots(session=session, location_id=p.id) for p in points}
    return {
        "campaign": campaign,
        "schools": schools,
        "points": points,
        "slots": slots,
        "q": q,
        "open": campaigns.is_open(campaign),
        "delivery": campaign.depot_location_id is not None,
        "today": date.today().isoformat(),
        "notice": notices.current(session, campaign.id),
        "latin_label": latin_label(campaign),
        "zh_names": claim_views.schools_listing_chinese_names(
            session=session, school_ids=[s.id for s in schools]
        ),
        "errors": {},
        "invalid": {},
        "first_invalid": None,
        "error_code": None,
    }


@router.get("/claim/{public_id}")
def claim_form(public_id: str, request: Request, session: SessionDep, q: str = "") -> Response:
    campaign = campaigns.by_public_id(session=session, public_id=public_id)
    ctx = _form_context(session, campaign, q)
    return render(
        request, "student/form.html", {**ctx, "form": {"fulfilment": "pickup"}, "error": None}
    )


# Every field is taken as typed, whatever its length or content (the body is bounded by the
# app's request size limit): ClaimIn checks them in the handler, so that any refusal shows the
# form again with what was typed and a message in the student's language, never an error page.
@router.post("/claim/{public_id}")
@shows_csrf_refusal
async def claim_submit(
    public_id: str,
    request: Request,
    school_id: Annotated[str, Form()] = "",
    name_zh: Annotated[str, Form()] = "",
    name_latin: Annotated[str, Form()] = "",
    student_number: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    birth_date: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    wechat: Annotated[str, Form()] = "",
    fulfilment: Annotated[str, Form()] = "pickup",
    pickup_location_id: Annotated[str, Form()] = "",
    slot_id: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    lat: Annotated[str, Form()] = "",
    lon: Annotated[str, Form()] = "",
    quarantine: Annotated[str, Form()] = "",
    consent: Annotated[str, Form()] = "",
    notice_version: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",
) -> Response:
    form = {k: v for k, v in locals().items() if k in FIELDS}
    form["quarantine"] = _checked(quarantine)
    form["consent"] = _checked(consent)  # shown again as given, like every other field
    if getattr(request.state, "csrf_refused", False):
        got = CsrfFailed(N_("The form expired. Check what you typed and send it again."))
    else:  # None: the honeypot was filled in
        got = None if website else _parse(form)
    if isinstance(got, ClaimIn):
        try:
            answer = await claim_fast.submit_claim(
                database(request),
                public_id=public_id,
                data=got,
                locale=request.state.locale,
                address=request.client.host if request.client else "?",
                view=False,
            )
            return RedirectResponse(f"/s/{answer['token']}", status_code=303)
        except DomainError as exc:
            got = exc
    return await run_in_threadpool(_again_for, public_id, request, form, got)


def _checked(value: str) -> bool:
    """A checkbox's value as browsers send it (absent when unchecked)."""
    return value.strip().lower() in ("true", "on", "1", "yes")


def _parse(form: dict) -> ClaimIn | ValidationError:
    raw = {k: (v.strip() if isinstance(v, str) else v) for k, v in form.items()}
    data = {k: v for k, v in raw.items() if v not in ("", None)}
    data.update(quarantine=form["quarantine"], consent=form["consent"])
    try:
        return ClaimIn.model_validate(data)
    except ValidationError as exc:
        return exc


def _again_for(public_id, request, form, got) -> Response:  # noqa: ANN001
    """The form again with what to fix, in a worker thread with a session of its own: the
    honeypot when `got` is None, the form's errors, or the claim's refusal."""
    with request_session(request) as session:
        autocommit_reads(session)  # reads only: the campaign and the form's choices
        campaign = campaigns.by_public_id(session=session, public_id=public_id)
        _ = gettext(request)
        if got is None:  # the honeypot: people don't see this field, bots fill it in
            return _again(request, session, campaign, form, _("The form could not be sent."), 400)
        if isinstance(got, ValidationError):
            problems = _explain(got, _, form, latin_label(campaign))
            return _again(request, session, campaign, form, problems, 422)
        message = got.localized(_)
        named = (got.details or {}).get("fields") if isinstance(got.details, dict) else None
        if named:  # shown beside the first of its fields; the others point at it
            first = min(named, key=lambda f: ORDER.index(f) if f in ORDER else len(ORDER))
            problems = {first: message, **{f: None for f in named if f != first}}
            return _again(request, session, campaign, form, problems, got.status_code)
        return _again(request, session, campaign, form, message, got.status_code, got.code)


LABELS = {
    "school_id": "School",
    "name_latin": "Name as in passport",
    "name_zh": "Chinese name",
    "birth_date": "Birth date",
    "email": "School e-mail",
    "student_number": "Student number",
    "pickup_location_id": "Pickup point",
    "slot_id": "Time slot",
    "lat": "Latitude",
    "lon": "Longitude",
    "consent": "Consent",
    "address": "Address",
    "phone": "Phone",
    "wechat": "WeChat ID",
    "fulfilment": "How do you get the kit?",
    "notice_version": "Privacy notice",
    "name": N_("Your name, as on your claim"),
    "code_end": N_("The last 4 characters of your code"),
}


def latin_label(campaign) -> str:  # noqa: ANN001
    """The label of the Latin name, as the campaign asks it (the form's and its errors')."""
    if campaign.asks_passport_name:
        return N_("Name as in your passport")
    return N_("Name in Latin letters, as on your student card")


def _explain(
    exc: ValidationError,
    _,  # noqa: ANN001
    form: dict,
    latin: str = LABELS["name_latin"],
) -> dict[str, str]:
    """Every problem of the form at once, by field, each naming its field (the consent too,
    which the claim's rules check only once the fields are valid): an empty required field
    asks to fill it in, a wrong one to check it."""
    problems: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err.get("loc") else ""
        label = _(latin if field == "name_latin" else LABELS.get(field, field))
        empty = err["type"] in ("missing", "string_too_short") or form.get(field) in ("", None)
        if field == "consent":
            text = _("Please agree to the use of your data for the distribution.")
        elif empty:
            text = _("Fill in “{field}”.").format(field=label)
        elif field == "birth_date":
            text = _("Check your birth date (year-month-day).")
        elif err["type"] == "string_too_long":
            most = err.get("ctx", {}).get("max_length", "")
            text = _("“{field}” is too long: at most {max} characters.").format(
                field=label, max=most
            )
        else:
            text = _("Check “{field}”.").format(field=label)
        problems.setdefault(field or "form", text)
    if not form.get("consent"):
        problems.setdefault(
            "consent", _("Please agree to the use of your data for the distribution.")
        )
    return problems


def _again(request, session, campaign, form, message, status, code=None):  # noqa: ANN001, ANN202
    """The form again, as typed, with `message`: a text for the whole form, or the problems by
    field (a field whose text is None points at the text of the first field of its error)."""
    ctx = _form_context(session, campaign)
    shown = ctx["notice"]
    if shown is not None and form.get("notice_version") not in ("", None, str(shown.version)):
        # a new notice since the form was opened (a 409, or any refusal): consent again, to it
        form = {**form, "consent": False}
    if isinstance(message, dict):
        fields = sorted(message, key=lambda f: ORDER.index(f) if f in ORDER else len(ORDER))
        shown_at = next(f for f in fields if message[f] is not None)
        ctx["errors"] = {f: t for f, t in message.items() if t is not None}
        ctx["invalid"] = {
            f: f"{f if message[f] is not None else shown_at}-error" for f in fields if f in ORDER
        }
        ctx["first_invalid"] = fields[0]
        # what no field of the page shows (a field the form does not have) goes on top
        unplaced = [t for f, t in message.items() if t is not None and f not in ORDER]
        message = " ".join([gettext(request)("Please correct the marked fields."), *unplaced])
    ctx["error_code"] = code
    return render(
        request, "student/form.html", {**ctx, "form": form, "error": message}, status_code=status
    )


# ---------------------------------------------------------------- find my claim


FIND_FIELDS = ("school_id", "student_number", "email", "birth_date", "name", "code_end")


def _find_ctx(session, campaign) -> dict:  # noqa: ANN001
    return {
        "campaign": campaign,
        "schools": campaigns.form_schools(session=session, campaign_id=campaign.id),
        "today": date.today().isoformat(),
        "form": {},
        "errors": {},
        "message": None,
        "error": None,
    }


@router.get("/claim/{public_id}/find")
def find_form(public_id: str, request: Request, session: SessionDep) -> Response:
    """Find my claim: the form (the facts that made the claim)."""
    campaign = campaigns.by_public_id(session=session, public_id=public_id)
    return render(request, "student/find.html", _find_ctx(session, campaign))


@router.post("/claim/{public_id}/find")
@shows_csrf_refusal
def find_submit(
    public_id: str,
    request: Request,
    session: SessionDep,
    school_id: Annotated[str, Form()] = "",
    student_number: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    birth_date: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    code_end: Annotated[str, Form()] = "",
) -> Response:
    """Find my claim: the link shown (a claim without e-mail, with its code's end) or sent."""
    form = {k: v for k, v in locals().items() if k in FIND_FIELDS}
    campaign = campaigns.by_public_id(session=session, public_id=public_id)
    ctx = {**_find_ctx(session, campaign), "form": form}
    _ = gettext(request)
    if getattr(request.state, "csrf_refused", False):
        ctx["error"] = _("The form expired. Check what you typed and send it again.")
        return render(request, "student/find.html", ctx, status_code=403)
    raw = {k: v.strip() for k, v in form.items() if v.strip()}
    if not raw.get("student_number") and not raw.get("email"):
        ctx["errors"]["student_number"] = _("Give your student number or your school e-mail.")
    try:
        data = FindIn.model_validate(raw)
    except ValidationError as exc:
        for field, text in _explain(exc, _, {**form, "consent": True}).items():
            ctx["errors"].setdefault(field, text)
    if ctx["errors"]:
        ctx["error"] = _("Please correct the marked fields.")
        return render(request, "student/find.html", ctx, status_code=422)
    try:
        token = claim_find.find(
            session=session,
            settings=request.app.state.settings,
            campaign=campaign,
            data=data,
            address=request.client.host if request.client else "?",
        )
    except DomainError as exc:
        ctx["error"] = exc.localized(_)
        return render(request, "student/find.html", ctx, status_code=exc.status_code)
    if token is not None:
        return RedirectResponse(f"/s/{token}?msg=found", status_code=303)
    ctx["message"] = _(claim_find.SENT_IF_FOUND)
    return render(request, "student/find.html", ctx)


def _qr(token: str):  # noqa: ANN202
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=10)
    qr.add_data(token)
    qr.make(fit=True)
    return qr


def _status_ctx(token: str, request: Request, session) -> dict:  # noqa: ANN001
    claim = claim_actions.by_token(session=session, token=token)
    view = claim_views.holder_view(
        session=session,
        claim=claim,
        locale=request.state.locale,
        tz=request.app.state.settings.timezone,
    )
    svg = _qr(token).make_image(image_factory=qrcode.image.svg.SvgPathImage).to_string()
    slots = []
    if claim.fulfilment == "pickup" and claim.pickup_location_id:
        slots = campaigns.slots(session=session, location_id=claim.pickup_location_id)
    terms = notices.terms(
        session, campaign_id=claim.campaign_id, notice_id=claim.notice_id, minor=claim.is_minor
    )
    campaign = campaigns.get_campaign(session=session, campaign_id=claim.campaign_id)
    return {
        "find_url": f"/claim/{campaign.public_id}/find",
        "claim": claim,
        "view": view,
        "terms": terms,
        "qr_svg": Markup(svg.decode()),
        "slots": slots,
        "msg": "",
        "error": None,
    }


@router.get("/s/{token}")
def status_page(token: str, request: Request, session: SessionDep, msg: str = "") -> Response:
    """The confirmation and status page, at an unguessable address (the claim's token)."""
    ctx = _status_ctx(token, request, session)
    ctx["msg"] = msg
    response = render(request, "student/status.html", ctx)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/s/{token}/qr.png")
def qr_png(token: str, session: SessionDep) -> Response:
    claim = claim_actions.by_token(session=session, token=token)
    if claim.status == "submitted":  # no code to show before the claim is verified
        return Response(status_code=404, headers={"Cache-Control": "private, no-store"})
    buf = io.BytesIO()
    _qr(token).make_image().save(buf, format="PNG")
    return Response(
        buf.getvalue(),
        media_type="image/png",
        headers={
            "Content-Disposition": 'attachment; filename="kit-qr.png"',
            "Cache-Control": "private, no-store",
        },
    )


def _status_again(request, session, token, message, status):  # noqa: ANN001, ANN202
    session.rollback()
    ctx = _status_ctx(token, request, session)
    ctx["error"] = message
    return render(request, "student/status.html", ctx, status_code=status)


@router.post("/s/{token}/verify")
def verify(
    token: str,
    request: Request,
    session: SessionDep,
    code: Annotated[str, Form()] = "",  # any length: a wrong code is shown as such, not a 422
) -> Response:
    try:
        claim_actions.verify_code(
            session=session, settings=request.app.state.settings, token=token, code=code
        )
    except DomainError as exc:
        return _status_again(
            request, session, token, exc.localized(gettext(request)), exc.status_code
        )
    return RedirectResponse(f"/s/{token}?msg=verified", status_code=303)


@router.post("/s/{token}/resend")
def resend(token: str, request: Request, session: SessionDep) -> Response:
    try:
        claim_actions.resend_code(session=session, settings=request.app.state.settings, token=token)
    except DomainError as exc:
        return _status_again(
            request, session, token, exc.localized(gettext(request)), exc.status_code
        )
    return RedirectResponse(f"/s/{token}?msg=resent", status_code=303)


@router.post("/s/{token}/slot")
def change_slot(
    token: str, request: Request, session: SessionDep, slot_id: Annotated[str, Form()] = ""
) -> Response:
    try:
        chosen = int(slot_id) if slot_id.strip().isdigit() else 0
        if not 0 < chosen <= INT32_MAX:
            raise Invalid(N_("Choose a time slot."))
        claim_actions.change_slot(session=session, token=token, slot_id=chosen)
    except DomainError as exc:
        return _status_again(
            request, session, token, exc.localized(gettext(request)), exc.status_code
        )
    return RedirectResponse(f"/s/{token}?msg=slot", status_code=303)


@router.post("/s/{token}/cancel")
def cancel(
    token: str, request: Request, session: SessionDep, confirm: Annotated[str, Form()] = ""
) -> Response:
    try:
        claim = claim_actions.by_token(session=session, token=token)
        # the box says what cancelling means: no kit, no way back (past cancelling: a 409 below)
        if not _checked(confirm) and claim.status in CANCELLABLE:
            raise Invalid(N_("Tick the box to confirm that you cancel your claim."))
        claim_actions.cancel(session=session, token=token)
    except DomainError as exc:
        return _status_again(
            request, session, token, exc.localized(gettext(request)), exc.status_code
        )
    return RedirectResponse(f"/s/{token}?msg=cancelled", status_code=303)
