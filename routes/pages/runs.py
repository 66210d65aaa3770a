"""Delivery-run pages: plan (claims, vehicles, optimise, map), adjust, dispatch, progress, print;
and the driver's phone view of one vehicle's route."""

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.core.errors import N_, DomainError, Invalid
from app.inventory import catalog
from app.pickup import handover as pickup
from app.pickup import redeem
from app.runs import delivery as run_delivery
from app.runs import drivers
from app.runs import plan as run_plan
from app.runs import service as runs
from app.runs import views as run_views
from app.schools import service as schools
from models.base import INT32_MAX, Id, Int32
from routes.http.deps import PageDiplomat, PageUser
from routes.http.input import id_or_none
from routes.http.session import SessionDep
from routes.http.web import gettext, render

router = APIRouter()


def _see(run_id: Id, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/admin/runs/{run_id}{anchor}", status_code=303)


def _detail_page(
    request: Request, session, run_id: Id, error: str | None = None, status: int = 200
) -> Response:  # noqa: ANN001
    d = run_views.detail(session=session, run_id=run_id)
    run = d["run"]
    editable = run.status in runs.EDITABLE
    settings = request.app.state.settings
    cands = runs.candidates(session, run, limit=500) if editable else []
    context = {
        "d": d,
        "map": run_views.svg_map(d) if d["stops"] else None,
        "map_data": {
            **run_views.map_data(
                d, tile_url=settings.tile_url, attribution=settings.tile_attribution
            ),
            "texts": _map_texts(gettext(request)),
        },
        "editable": editable,
        "candidates": cands,
        "schools": schools.all_by_name(session=session) if editable else [],
        "error": error,
        "hhmm": runs.hhmm,
        "drivers": drivers.drivers(session=session),
        "fail_reasons": run_delivery.FAIL_REASONS,
        "unassigned_reasons": runs.UNASSIGNED_REASONS,
    }
    run_views.looked_at_page(session=session, user_id=request.state.user.id, d=d, candidates=cands)
    return render(request, "runs/detail.html", context, status_code=status)


def _map_texts(_: Callable[[str], str]) -> dict:
    """What the map's script says, in the page's language."""
    return {
        "reasons": {code: _(text) for code, text in runs.UNASSIGNED_REASONS.items()},
        "unrouted": _("Not on a route"),
        "depot": _("Depot"),
        "needs_pin": _("Needs a pin"),
        "place": _("Click the map where this address is."),
        "saving": _("Saving the position…"),
        "failed": _("The position could not be saved."),
    }


def _failed(request: Request, session, run_id: Id, exc: DomainError) -> Response:  # noqa: ANN001
    session.rollback()
    return _detail_page(request, session, run_id, exc.localized(gettext(request)), exc.status_code)


def _act(request: Request, session, run_id: Id, anchor: str, action: Callable, **kw) -> Response:  # noqa: ANN001, ANN003
    """Make a diplomat's change to a run, `action(session=, run_id=, **kw)`, then back to its
    page at `anchor`; a refusal shows the page again with what to fix."""
    try:
        action(session=session, run_id=run_id, **kw)
    except DomainError as exc:
        return _failed(request, session, run_id, exc)
    return _see(run_id, anchor)


@router.get("/admin/runs")
def list_page(
    request: Request, session: SessionDep, user: PageDiplomat, error: str | None = None
) -> Response:
    rows, total = runs.list_runs(session=session, limit=200)
    depots = catalog.mapped_locations(session=session)
    return render(
        request,
        "runs/list.html",
        {"runs": rows, "total": total, "depots": depots, "today": date.today(), "error": error},
    )


@router.post("/admin/runs")
def create(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    name: Annotated[str, Form()],
    run_date: Annotated[date, Form()],
    depot_location_id: Annotated[Id, Form()],
    service_min: Annotated[Int32, Form()] = 5,
) -> Response:
    try:
        run = runs.create_run(
            session=session,
            name=name,
            run_date=run_date,
            depot_location_id=depot_location_id,
            service_s=service_min * 60,
        )
    except DomainError as exc:
        session.rollback()
        return list_page(request, session, user, exc.localized(gettext(request)))
    return _see(run.id)


@router.get("/admin/runs/{run_id}")
def detail(request: Request, session: SessionDep, user: PageDiplomat, run_id: Id) -> Response:
    return _detail_page(request, session, run_id)


@router.post("/admin/runs/{run_id}/vehicles")
def add_vehicle(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    run_id: Id,
    name: Annotated[str, Form()],
    capacity: Annotated[Int32, Form()],
    shift_start: Annotated[str, Form()] = "08:00",
    shift_end: Annotated[str, Form()] = "18:00",
    driver: Annotated[str, Form()] = "",
    driver_user_id: Annotated[str, Form()] = "",
    max_stops: Annotated[str, Form()] = "",
) -> Response:
    def add(session: SessionDep, run_id: Id) -> None:  # a bad time is shown on the page
        runs.add_vehicle(
            session=session,
            run_id=run_id,
            name=name,
            driver=driver,
            driver_user_id=_account(driver_user_id),
            capacity=capacity,
            shift_start_s=runs.parse_hhmm(shift_start),
            shift_end_s=runs.parse_hhmm(shift_end),
            max_stops=_count(max_stops),
        )

    return _act(request, session, run_id, "#vehicles", add)


def _count(value: str) -> int | None:
    """A count typed in a form ("" for none); Invalid when it is not a whole number we store."""
    value = value.strip()
    if not value:
        return None
    if len(value) > 10 or not (value.isascii() and value.isdigit()) or int(value) > INT32_MAX:
        raise Invalid(N_("Write a whole number, or nothing."))
    return int(value)


def _account(value: str) -> int | None:
    """A driver account chosen in a form ("" for none)."""
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise Invalid(N_("Choose a driver account from the list."))
    return int(value)


@router.post("/admin/runs/{run_id}/vehicles/{vehicle_id}/driver")
def set_driver(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    run_id: Id,
    vehicle_id: Id,
    driver: Annotated[str, Form(max_length=100)] = "",
    driver_user_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Who drives a vehicle, also once dispatched: the only account (with diplomats) that sees
    its stops on the driver's page."""

    def assign(session: SessionDep, run_id: Id) -> None:
        drivers.set_driver(
            session=session,
            run_id=run_id,
            vehicle_id=vehicle_id,
            driver=driver,
            driver_user_id=_account(driver_user_id),
            actor_id=user.id,
        )

    return _act(request, session, run_id, "#vehicles", assign)


@router.post("/admin/runs/{run_id}/vehicles/{vehicle_id}/delete")
def remove_vehicle(
    request: Request, session: SessionDep, user: PageDiplomat, run_id: Id, vehicle_id: Id
) -> Response:
    return _act(request, session, run_id, "#vehicles", runs.remove_vehicle, vehicle_id=vehicle_id)


@router.post("/admin/runs/{run_id}/claims")
def select_claims(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    run_id: Id,
    mode: Annotated[str, Form()] = "ids",
    claim_id: Annotated[list[Id] | None, Form()] = None,
    school_id: Annotated[str, Form()] = "",
    minors_only: Annotated[bool, Form()] = False,
    quarantine_only: Annotated[bool, Form()] = False,
) -> Response:
    def choose(session: SessionDep, run_id: Id) -> None:
        if mode == "filter":
            runs.select_claims(
                session=session,
                run_id=run_id,
                school_id=id_or_none(school_id),
                minors_only=minors_only,
                quarantine_only=quarantine_only,
                user_id=user.id,
            )
        else:
            if not claim_id:
                raise Invalid(N_("Tick at least one claim to add."))
            runs.select_claims(session=session, run_id=run_id, claim_ids=claim_id, user_id=user.id)

    return _act(request, session, run_id, "#stops", choose)


@router.post("/admin/runs/{run_id}/stops/{stop_id}/remove")
def remove_stop(
    request: Request, session: SessionDep, user: PageDiplomat, run_id: Id, stop_id: Id
) -> Response:
    return _act(request, session, run_id, "#stops", runs.remove_stop, stop_id=stop_id)


@router.post("/admin/runs/{run_id}/optimize")
def optimize(request: Request, session: SessionDep, user: PageDiplomat, run_id: Id) -> Response:
    return _act(
        request, session, run_id, "#map", run_plan.optimise, settings=request.app.state.settings
    )


@router.post("/admin/runs/{run_id}/stops/{stop_id}/move")
def move_stop(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    run_id: Id,
    stop_id: Id,
    vehicle_id: Annotated[Id, Form()],
    position: Annotated[Int32, Form()],
    lock: Annotated[bool, Form()] = False,
) -> Response:
    return _act(
        request,
        session,
        run_id,
        "#routes",
        run_plan.move_stop,
        settings=request.app.state.settings,
        stop_id=stop_id,
        vehicle_id=vehicle_id,
        position=position,
        lock=lock,
    )


@router.post("/admin/runs/{run_id}/stops/{stop_id}/lock")
def lock_stop(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    run_id: Id,
    stop_id: Id,
    locked: Annotated[bool, Form()] = False,
) -> Response:
    return _act(
        request,
        session,
        run_id,
        "#routes",
        run_plan.lock_stop,
        settings=request.app.state.settings,
        stop_id=stop_id,
        locked=locked,
    )


@router.post("/admin/runs/{run_id}/stops/{stop_id}/window")
def set_window(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    run_id: Id,
    stop_id: Id,
    start: Annotated[str, Form(max_length=5)] = "",
    end: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """When the student is home; the next optimisation keeps the arrival inside it."""
    return _act(
        request,
        session,
        run_id,
        "#routes",
        runs.set_window,
        stop_id=stop_id,
        start=start or None,
        end=end or None,
    )


@router.post("/admin/runs/{run_id}/stops/{stop_id}/pin")
def pin_stop(
    request: Request,
    session: SessionDep,
    user: PageDiplomat,
    run_id: Id,
    stop_id: Id,
    lat: Annotated[float, Form(ge=-90, le=90)],
    lon: Annotated[float, Form(ge=-180, le=180)],
) -> Response:
    """Place a stop's address on the map (the map's click or drag, or the typed position)."""
    return _act(
        request,
        session,
        run_id,
        "#map",
        runs.pin_stop,
        stop_id=stop_id,
        lat=lat,
        lon=lon,
        user_id=user.id,
    )


@router.post("/admin/runs/{run_id}/dispatch")
def dispatch(request: Request, session: SessionDep, user: PageDiplomat, run_id: Id) -> Response:
    return _act(request, session, run_id, "", run_delivery.dispatch, user=user)


@router.get("/admin/runs/{run_id}/route-sheet.pdf")
def route_sheet(
    request: Request, session: SessionDep, user: PageDiplomat, run_id: Id, paper: str = "A4"
) -> Response:
    try:
        pdf = run_views.route_sheet_pdf(
            session=session,
            run_id=run_id,
            paper=paper,
            locale=request.state.locale,
            user_id=user.id,
        )
    except DomainError as exc:
        return _failed(request, session, run_id, exc)
    return Response(pdf, media_type="application/pdf")


# ---------------------------------------------------------------- the driver


def _driver_page(
    request: Request,
    session,
    run_id: Id,
    vehicle_id: Id,
    result: dict | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:  # noqa: ANN001
    view = run_views.driver_view(
        session=session, run_id=run_id, vehicle_id=vehicle_id, user=request.state.user
    )
    return render(
        request,
        "runs/driver.html",
        {
            **view,
            "result": result,
            "error": error,
            "nonce": uuid.uuid4().hex,
            "fail_reasons": run_delivery.FAIL_REASONS,
        },
        status_code=status,
    )


@router.get("/driver/runs/{run_id}/{vehicle_id}")
def driver(
    request: Request, session: SessionDep, user: PageUser, run_id: Id, vehicle_id: Id
) -> Response:
    """The driver's phone view of one vehicle: its driver and diplomats only (403)."""
    return _driver_page(request, session, run_id, vehicle_id)


@router.post("/driver/runs/{run_id}/{vehicle_id}/scan")
def driver_scan(
    request: Request,
    session: SessionDep,
    user: PageUser,
    run_id: Id,
    vehicle_id: Id,
    stop_id: Annotated[Id, Form()],
    code: Annotated[str, Form()],
    nonce: Annotated[str, Form()],
) -> Response:
    drivers.require_vehicle(session=session, user=user, run_id=run_id, vehicle_id=vehicle_id)
    session.commit()  # end the check's read: redeem begins its own transaction
    try:
        answer = redeem.redeem(
            session=session,
            code=code,
            nonce=nonce,
            scanned_at=datetime.now(UTC),
            user=user,
            run_stop_id=stop_id,
        )
    except DomainError as exc:
        session.rollback()
        msg = exc.localized(gettext(request))
        return _driver_page(request, session, run_id, vehicle_id, error=msg, status=422)
    out = pickup.localize(answer, gettext(request), request.state.locale)
    return _driver_page(request, session, run_id, vehicle_id, result=out)


@router.post("/driver/runs/{run_id}/{vehicle_id}/stops/{stop_id}/fail")
def driver_fail(
    request: Request,
    session: SessionDep,
    user: PageUser,
    run_id: Id,
    vehicle_id: Id,
    stop_id: Id,
    reason: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    drivers.require_vehicle(session=session, user=user, run_id=run_id, vehicle_id=vehicle_id)
    try:
        run_delivery.fail_stop(
            session=session,
            run_id=run_id,
            stop_id=stop_id,
            reason=reason,
            note=note,
            user=user,
            vehicle_id=vehicle_id,
        )
    except DomainError as exc:
        session.rollback()
        msg = exc.localized(gettext(request))
        return _driver_page(request, session, run_id, vehicle_id, error=msg, status=exc.status_code)
    return RedirectResponse(f"/driver/runs/{run_id}/{vehicle_id}", status_code=303)
