"""Delivery runs API (diplomats): runs, vehicles, claims, optimise, adjust, dispatch, close."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.runs import delivery as run_delivery
from app.runs import drivers
from app.runs import plan as run_plan
from app.runs import service as runs
from app.runs import views as run_views
from models.base import INT32_MAX, Id, Page
from models.runs import (
    FailIn,
    LockIn,
    MoveIn,
    PinIn,
    RunCreate,
    RunDetail,
    RunPublic,
    SelectIn,
    StopPublic,
    VehicleDriverIn,
    VehicleIn,
    VehiclePublic,
    WindowIn,
)
from models.users import User
from routes.http.deps import ApiDiplomat, ApiUser
from routes.http.openapi import errors
from routes.http.session import SessionDep

router = APIRouter(tags=["runs"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=INT32_MAX)]


def _detail(session, run_id: Id, user: User | None = None) -> RunDetail:  # noqa: ANN001
    """The run; with `user`, the minors whose address and phone it shows are logged as seen."""
    d = run_views.detail(session=session, run_id=run_id)
    if user is not None:
        run_views.looked_at(session=session, user_id=user.id, stops=d["stops"])
    return RunDetail(**d)


@router.get("/runs", response_model=Page[RunPublic])
def list_runs(
    session: SessionDep,
    user: ApiDiplomat,
    status: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[RunPublic]:
    """Delivery runs, newest first."""
    rows, total = runs.list_runs(session=session, status=status, limit=limit, offset=offset)
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.post("/runs", response_model=RunPublic, status_code=201)
def create_run(body: RunCreate, session: SessionDep, user: ApiDiplomat) -> RunPublic:
    """A draft run from a depot with coordinates."""
    return runs.create_run(
        session=session,
        name=body.name,
        run_date=body.date,
        depot_location_id=body.depot_location_id,
        campaign_id=body.campaign_id,
        service_s=body.service_s,
    )


@router.get("/runs/{run_id}", response_model=RunDetail)
def get_run(run_id: Id, session: SessionDep, user: ApiDiplomat) -> RunDetail:
    """The run with its vehicles and stops (in route order; unassigned with their reason).
    Minors' addresses and phones in the answer are logged as seen by the caller."""
    return _detail(session, run_id, user)


@router.post(
    "/runs/{run_id}/vehicles", response_model=VehiclePublic, status_code=201, responses=errors(409)
)
def add_vehicle(
    run_id: Id, body: VehicleIn, session: SessionDep, user: ApiDiplomat
) -> VehiclePublic:
    """Add a car (capacity in kits, shift in seconds after midnight)."""
    v = runs.add_vehicle(session=session, run_id=run_id, **body.model_dump())
    return VehiclePublic(**v.model_dump())


@router.put(
    "/runs/{run_id}/vehicles/{vehicle_id}/driver",
    response_model=VehiclePublic,
    responses=errors(409),
)
def set_driver(
    run_id: Id, vehicle_id: Id, body: VehicleDriverIn, session: SessionDep, user: ApiDiplomat
) -> VehiclePublic:
    """Who drives a car: the name, and the driver account that alone (with diplomats) sees and
    closes its stops; also once dispatched (drivers swap cars)."""
    v = drivers.set_driver(
        session=session,
        run_id=run_id,
        vehicle_id=vehicle_id,
        driver=body.driver,
        driver_user_id=body.driver_user_id,
        actor_id=user.id,
    )
    return next(x for x in _detail(session, run_id).vehicles if x.id == v.id)


@router.delete("/runs/{run_id}/vehicles/{vehicle_id}", status_code=204, responses=errors(409))
def remove_vehicle(run_id: Id, vehicle_id: Id, session: SessionDep, user: ApiDiplomat) -> None:
    """Remove a car; its stops wait to be planned again."""
    runs.remove_vehicle(session=session, run_id=run_id, vehicle_id=vehicle_id)


@router.post(
    "/runs/{run_id}/claims", response_model=list[StopPublic], status_code=201, responses=errors(409)
)
def select_claims(
    run_id: Id, body: SelectIn, session: SessionDep, user: ApiDiplomat
) -> list[StopPublic]:
    """Add claims by id or by filters; a claim without coordinates is refused by name."""
    stops = runs.select_claims(session=session, run_id=run_id, user_id=user.id, **body.model_dump())
    ids = {s.id for s in stops}
    added = [s for s in run_views.detail(session=session, run_id=run_id)["stops"] if s["id"] in ids]
    run_views.looked_at(session=session, user_id=user.id, stops=added)
    return [StopPublic(**s) for s in added]


@router.delete("/runs/{run_id}/stops/{stop_id}", status_code=204, responses=errors(409))
def remove_stop(run_id: Id, stop_id: Id, session: SessionDep, user: ApiDiplomat) -> None:
    """Take a claim off a run that is not dispatched."""
    runs.remove_stop(session=session, run_id=run_id, stop_id=stop_id)


@router.post("/runs/{run_id}/optimize", response_model=RunDetail, responses=errors(409))
def optimize(run_id: Id, request: Request, session: SessionDep, user: ApiDiplomat) -> RunDetail:
    """Plan the routes (locked stops stay first); unassigned stops carry their reason."""
    run_plan.optimise(session=session, settings=request.app.state.settings, run_id=run_id)
    return _detail(session, run_id, user)


@router.post("/runs/{run_id}/stops/{stop_id}/move", response_model=RunDetail, responses=errors(409))
def move_stop(
    run_id: Id,
    stop_id: Id,
    body: MoveIn,
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
) -> RunDetail:
    """Move a stop to a vehicle and position; totals are recomputed."""
    run_plan.move_stop(
        session=session,
        settings=request.app.state.settings,
        run_id=run_id,
        stop_id=stop_id,
        vehicle_id=body.vehicle_id,
        position=body.position,
        lock=body.lock,
    )
    return _detail(session, run_id, user)


@router.post("/runs/{run_id}/stops/{stop_id}/lock", response_model=RunDetail, responses=errors(409))
def lock_stop(
    run_id: Id,
    stop_id: Id,
    body: LockIn,
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
) -> RunDetail:
    """Lock a stop and those before it (kept on re-optimising), or unlock it and those after."""
    run_plan.lock_stop(
        session=session,
        settings=request.app.state.settings,
        run_id=run_id,
        stop_id=stop_id,
        locked=body.locked,
    )
    return _detail(session, run_id, user)


@router.put(
    "/runs/{run_id}/stops/{stop_id}/window", response_model=RunDetail, responses=errors(409)
)
def set_window(
    run_id: Id, stop_id: Id, body: WindowIn, session: SessionDep, user: ApiDiplomat
) -> RunDetail:
    """Set when the student is home (the optimiser keeps the arrival inside it)."""
    runs.set_window(session=session, run_id=run_id, stop_id=stop_id, start=body.start, end=body.end)
    return _detail(session, run_id, user)


@router.post("/runs/{run_id}/stops/{stop_id}/pin", response_model=StopPublic, responses=errors(409))
def pin_stop(
    run_id: Id, stop_id: Id, body: PinIn, session: SessionDep, user: ApiDiplomat
) -> StopPublic:
    """Place a stop whose address has no coordinates (or correct one) on the map: the claim's
    position; the next optimisation routes it (a planned run goes back to draft)."""
    stop = runs.pin_stop(
        session=session,
        run_id=run_id,
        stop_id=stop_id,
        lat=body.lat,
        lon=body.lon,
        user_id=user.id,
    )
    d = run_views.detail(session=session, run_id=run_id)
    shown = [s for s in d["stops"] if s["id"] == stop.id]
    run_views.looked_at(session=session, user_id=user.id, stops=shown)
    return StopPublic(**shown[0])


@router.post("/runs/{run_id}/dispatch", response_model=RunDetail, responses=errors(409))
def dispatch(run_id: Id, session: SessionDep, user: ApiDiplomat) -> RunDetail:
    """Claims go out for delivery; unassigned claims are released for another run."""
    run_delivery.dispatch(session=session, run_id=run_id, user=user)
    return _detail(session, run_id, user)


@router.post(
    "/runs/{run_id}/stops/{stop_id}/fail", response_model=StopPublic, responses=errors(409)
)
def fail_stop(
    run_id: Id, stop_id: Id, body: FailIn, session: SessionDep, user: ApiUser
) -> StopPublic:
    """Not delivered (not_home, wrong_address, refused, other): the claim is planned again.
    A diplomat, or the driver of the stop's vehicle (403 `not_your_vehicle` for anyone else)."""
    run_delivery.fail_stop(
        session=session,
        run_id=run_id,
        stop_id=stop_id,
        reason=body.reason,
        note=body.note,
        user=user,
    )
    stop = next(
        s for s in run_views.detail(session=session, run_id=run_id)["stops"] if s["id"] == stop_id
    )
    run_views.looked_at(session=session, user_id=user.id, stops=[stop], context="driver")
    return StopPublic(**stop)


@router.get(
    "/runs/{run_id}/route-sheet.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def route_sheet(
    run_id: Id,
    request: Request,
    session: SessionDep,
    user: ApiDiplomat,
    paper: Annotated[str, Query(pattern="^(A4|Letter)$")] = "A4",
) -> Response:
    """One route sheet per vehicle: map, stops in order, each stop's QR for proof of delivery."""
    pdf = run_views.route_sheet_pdf(
        session=session,
        run_id=run_id,
        paper=paper,
        locale=request.state.locale,
        user_id=user.id,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="run-{run_id}-{paper}.pdf"'},
    )
