"""Pickup pages: the scanner for volunteers, and the diplomat's points, log, conflicts, undo."""

import base64
import hmac
import json
import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from app.accounts import queries as account_queries
from app.claims import queries as claim_views
from app.core import security
from app.core.errors import DomainError
from app.core.localtime import show
from app.inventory import service as inventory
from app.pickup import handover as pickup
from app.pickup import log as scan_log
from app.pickup import redeem, volunteers
from app.pickup.photo import MAX_PHOTO_BYTES, PhotoTooLarge, decode_qr
from models.base import Id, Int32
from models.inventory import Location
from models.users import User
from routes.http.deps import PageDiplomat, PageUser
from routes.http.input import PageNo, id_or_none, upload_limit
from routes.http.session import SessionDep
from routes.http.web import gettext, render

router = APIRouter()
PHOTO_MAX_BYTES = MAX_PHOTO_BYTES
# A photo scan's verdict, carried over its redirect to the scanner (read once, then deleted).
VERDICT_COOKIE = "kitrun_verdict"
VERDICT_MAX_AGE = 60


def _scanner(
    request: Request,
    session,  # noqa: ANN001
    point: Location,
    answer: dict | None = None,
    error: str | None = None,
    status_code: int = 200,
    extra: dict | None = None,
) -> Response:
    tz = request.app.state.settings.timezone
    if answer is not None and answer.get("handed_over", {}).get("at"):
        # the form scanner.js shows a live scan in (localtime "datetime", the district's zone)
        answer["handed_over"]["local"] = show(answer["handed_over"]["at"], tz)
    return render(
        request,
        "pickup/scanner.html",
        {
            "point": point,
            "counters": scan_log.counters(session=session, location_id=point.id, tz=tz),
            "answer": answer,
            "error": error,
            "nonce": uuid.uuid4().hex,
            "vendor_ok": getattr(request.app.state, "vendor_ok", False),
            "tz": tz,
            **(extra or {}),
        },
        status_code=status_code,
    )


def _sign(secret: str, payload: str) -> str:
    return security.keyed_hash(secret, "verdict:" + payload)


def _verdict_cookie(request: Request, point_id: int, shown: dict) -> tuple[str, dict]:
    """The signed cookie that carries a photo scan's verdict over the redirect."""
    payload = base64.urlsafe_b64encode(json.dumps(shown).encode()).decode()
    value = payload + "." + _sign(request.app.state.settings.secret, payload)
    return value, {
        "path": f"/scan/{point_id}",
        "max_age": VERDICT_MAX_AGE,
        "httponly": True,
        "samesite": "strict",
        "secure": request.app.state.settings.base_url.startswith("https"),
    }


def _read_verdict(request: Request) -> dict | None:
    raw = request.cookies.get(VERDICT_COOKIE) or ""
    payload, _, mac = raw.rpartition(".")
    if not payload or not hmac.compare_digest(
        mac, _sign(request.app.state.settings.secret, payload)
    ):
        return None
    try:
        shown = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return None
    return shown if isinstance(shown, dict) else None


@router.get("/scan")
def choose_point(request: Request, session: SessionDep, user: PageUser) -> Response:
    points = volunteers.points_of(session=session, user=user)
    if len(points) == 1:
        return RedirectResponse(f"/scan/{points[0].id}", status_code=303)
    return render(request, "pickup/choose.html", {"points": points})


@router.get("/scan/{point_id}")
def scanner(point_id: Id, request: Request, session: SessionDep, user: PageUser) -> Response:
    point = volunteers.require_point(session=session, user=user, location_id=point_id)
    shown = _read_verdict(request)
    if shown is None or shown.get("user") != user.id:
        return _scanner(request, session, point)
    # A photo scan's verdict, redirected here: shown once, in the page's language.
    answer = pickup.localize(shown["answer"], gettext(request), request.state.locale)
    page = _scanner(request, session, point, answer=answer, extra=_confirm(shown))
    page.delete_cookie(VERDICT_COOKIE, path=f"/scan/{point.id}")
    return page


def _confirm(shown: dict) -> dict:
    """What the "Confirm hand-over" form posts back (a check_id answer): the code and nonce."""
    if shown["answer"].get("result") != "check_id":
        return {}
    return {"confirm_code": shown["code"], "confirm_nonce": shown["nonce"]}


def _redeem_and_show(
    request: Request,
    session,  # noqa: ANN001
    point: Location,
    code: str,
    nonce: str,
    user: User,
    *,
    confirm: bool = False,
    redirect: bool = False,
) -> Response:
    nonce = nonce[:64] or uuid.uuid4().hex
    try:
        answer = redeem.redeem(
            session=session,
            code=code[:500],
            location_id=point.id,
            nonce=nonce,
            scanned_at=datetime.now(UTC),
            user=user,
            confirm=confirm,
        )
    except DomainError as exc:
        return _scanner(
            request,
            session,
            point,
            error=exc.localized(gettext(request)),
            status_code=exc.status_code,
        )
    check = answer.get("result") == "check_id"  # its confirm form posts the code back
    shown = {"user": user.id, "answer": answer, "code": code[:500] if check else "", "nonce": nonce}
    if redirect:
        # Back to the scanner's own address (no upload route left in the address bar).
        page = RedirectResponse(f"/scan/{point.id}", status_code=303)
        value, options = _verdict_cookie(request, point.id, shown)
        page.set_cookie(VERDICT_COOKIE, value, **options)
        return page
    answer = pickup.localize(answer, gettext(request), request.state.locale)
    return _scanner(request, session, point, answer=answer, extra=_confirm(shown))


@router.post("/scan/{point_id}")
def scan_form(
    point_id: Id,
    request: Request,
    session: SessionDep,
    user: PageUser,
    code: Annotated[str, Form(max_length=500)] = "",
    nonce: Annotated[str, Form(max_length=64)] = "",
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    """The scanner without JavaScript: a handheld scanner or typed code posts here (and the
    "Confirm hand-over" after an ID check, with the same code and nonce and `confirm`)."""
    point = volunteers.require_point(session=session, user=user, location_id=point_id)
    if not code.strip():
        return _scanner(request, session, point, error=gettext(request)("Scan or type a code."))
    return _redeem_and_show(request, session, point, code, nonce, user, confirm=confirm)


@router.post("/scan/{point_id}/photo", openapi_extra=upload_limit(PHOTO_MAX_BYTES))
def scan_photo(
    point_id: Id,
    request: Request,
    session: SessionDep,
    user: PageUser,
    photo: Annotated[UploadFile | None, File()] = None,
    nonce: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """A photo of the code, decoded on the server (no JavaScript needed)."""
    point = volunteers.require_point(session=session, user=user, location_id=point_id)
    _ = gettext(request)
    data = photo.file.read(PHOTO_MAX_BYTES + 1) if photo is not None else b""
    if not data:
        return _scanner(
            request, session, point, error=_("Choose a photo of the QR code."), status_code=422
        )
    if len(data) > PHOTO_MAX_BYTES:
        return _scanner(
            request,
            session,
            point,
            error=_("The photo is too large (at most 15 MB)."),
            status_code=422,
        )
    try:
        code = decode_qr(data)
    except PhotoTooLarge as exc:
        return _scanner(
            request, session, point, error=exc.localized(_), status_code=exc.status_code
        )
    if code is None:
        return _scanner(
            request,
            session,
            point,
            error=_("No QR code found in the photo. Hold the phone steady, closer, and try again."),
            status_code=422,
        )
    return _redeem_and_show(request, session, point, code, nonce, user, redirect=True)


# ---------------------------------------------------------------- diplomats


@router.get("/admin/pickup")
def overview(request: Request, session: SessionDep, user: PageDiplomat) -> Response:
    tz = request.app.state.settings.timezone
    points = [
        {"point": p, **scan_log.counters(session=session, location_id=p.id, tz=tz)}
        for p in scan_log.pickup_points(session=session)
    ]
    _, conflicts = scan_log.list_scans(
        session=session, filters=scan_log.ScanFilter(conflict=True), limit=1
    )
    return render(request, "pickup/admin.html", {"points": points, "conflicts": conflicts})


@router.get("/admin/pickup/volunteers")
def volunteers_page(
    request: Request, session: SessionDep, user: PageDiplomat, saved: Int32 | None = None
) -> Response:
    return render(
        request,
        "pickup/volunteers.html",
        {
            "volunteers": scan_log.volunteers(session=session),
            "points": scan_log.pickup_points(session=session),
            "assigned": volunteers.assignments(session=session),
            "saved": saved,
        },
    )


@router.post("/admin/pickup/volunteers")
def save_volunteers(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    uid: Annotated[list[Id], Form()] = [],  # noqa: B006
    vp: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    """Save the checkboxes: each `vp` is 'user_id:point_id'; `uid` lists the volunteers shown."""
    mapping: dict[int, list[int]] = {u: [] for u in uid}
    for pair in vp:
        u, _, p = pair.partition(":")
        user_id, point_id = id_or_none(u), id_or_none(p)
        if user_id in mapping and point_id is not None:
            mapping[user_id].append(point_id)
    try:
        volunteers.set_assignments(session=session, points_by_user=mapping)
    except DomainError as exc:
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": exc.localized(gettext(request))},
            status_code=exc.status_code,
        )
    return RedirectResponse("/admin/pickup/volunteers?saved=1", status_code=303)


@router.get("/admin/pickup/scans")
def scans_page(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    point_id: Annotated[Id | None, Query()] = None,
    claim_id: Annotated[Id | None, Query()] = None,
    user_id: Annotated[Id | None, Query()] = None,
    result: Annotated[str | None, Query()] = None,
    conflict: Annotated[bool | None, Query()] = None,
    day: Annotated[date | None, Query()] = None,
    page: PageNo = 1,
) -> Response:
    return _log(request, session, point_id, claim_id, user_id, result, conflict, day, page)


@router.get("/admin/pickup/conflicts")
def conflicts_page(request: Request, session: SessionDep, user: PageDiplomat) -> Response:
    return _log(request, session, None, None, None, None, True, None, 1, title="Offline conflicts")


def _log(
    request, session, point_id, claim_id, user_id, result, conflict, day, page, title="Scan log"
):  # noqa: ANN001, ANN202, PLR0913
    tz = scan_log.zone(request.app.state.settings.timezone)
    since = until = None
    if day is not None:
        since, until = scan_log.day_bounds(day, tz)
    result = result if result in pickup.RESULTS else None
    filters = scan_log.ScanFilter(point_id, claim_id, user_id, result, conflict, since, until)
    per_page = 100
    rows, total = scan_log.list_scans(
        session=session, filters=filters, limit=per_page, offset=(page - 1) * per_page
    )
    for r in rows:
        r["local_received"] = show(r["received_at"], tz, "seconds")
        r["local_scanned"] = show(r["scanned_at"], tz, "seconds")
    query = {
        k: v
        for k, v in {
            "point_id": point_id,
            "claim_id": claim_id,
            "user_id": user_id,
            "result": result,
            "conflict": "true" if conflict else None,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }.items()
        if v is not None
    }
    return render(
        request,
        "pickup/scans.html",
        {
            "title": title,
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // per_page)),
            "filters": {
                "point_id": point_id,
                "claim_id": claim_id,
                "user_id": user_id,
                "result": result,
                "conflict": conflict,
                "day": day,
            },
            "query": query,
            "points": scan_log.pickup_points(session=session),
            "volunteers": account_queries.users(session=session),
            "results": pickup.RESULTS,
            "labels": pickup.RESULT_LABELS,
        },
    )


@router.get("/admin/pickup/claims/{claim_id}")
def claim_page(
    claim_id: Id,
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    undone: Int32 | None = None,
) -> Response:
    return _claim(request, session, claim_id, undone=undone)


def _claim(request: Request, session, claim_id: Id, status_code: int = 200, **extra) -> Response:  # noqa: ANN001, ANN003
    claim = claim_views.get_claim(session=session, claim_id=claim_id)
    tz = scan_log.zone(request.app.state.settings.timezone)
    rows, _total = scan_log.list_scans(
        session=session, filters=scan_log.ScanFilter(claim_id=claim_id), limit=500
    )
    for r in rows:
        r["local_received"] = show(r["received_at"], tz, "seconds")
        r["local_scanned"] = show(r["scanned_at"], tz, "seconds")
    return render(
        request,
        "pickup/claim.html",
        {
            "claim": claim,
            "masked": pickup.mask_name(claim.name_zh, claim.name_latin),
            "handed_over_local": show(claim.handed_over_at, tz) or None,
            "location": inventory.get_location(
                session=session, location_id=claim.handed_over_location_id
            )
            if claim.handed_over_location_id
            else None,
            "rows": rows,
            "labels": pickup.RESULT_LABELS,
            **extra,
        },
        status_code=status_code,
    )


@router.post("/admin/pickup/claims/{claim_id}/undo")
def undo(
    claim_id: Id,
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        pickup.undo_handover(session=session, claim_id=claim_id, reason=reason, user=user)
    except DomainError as exc:
        return _claim(
            request,
            session,
            claim_id,
            error=exc.localized(gettext(request)),
            reason=reason,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/admin/pickup/claims/{claim_id}?undone=1", status_code=303)
