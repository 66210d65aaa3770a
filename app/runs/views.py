"""Read models of delivery runs: the run with its stops, the SVG map, route sheets, the driver."""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from app.audit import looks
from app.core.errors import N_, Invalid, NotFound
from app.core.i18n import gettext_for
from app.runs import drivers
from app.runs.service import get_run, hhmm, vehicles_of
from labels import LabelError, RouteSheet, RouteTexts, Stop, VehicleRoute, render_route_sheets
from models.claims import Claim
from models.inventory import Location
from models.runs import RunStop
from models.users import User

COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
PAPERS = ("A4", "Letter")


def detail(*, session: Session, run_id: int) -> dict:
    """The run, its depot, vehicles (with kits and stop counts) and stops (with claim data)."""
    run = get_run(session=session, run_id=run_id)
    depot = session.get(Location, run.depot_location_id)
    vehicles = vehicles_of(session=session, run_id=run.id)
    rows = session.execute(
        select(RunStop, Claim)
        .join(Claim, Claim.id == RunStop.claim_id)
        .where(RunStop.run_id == run.id)
        .order_by(RunStop.vehicle_id, RunStop.seq, RunStop.id)
    ).all()
    stops = []
    for s, c in rows:
        stops.append(
            {
                **s.model_dump(),
                "name_zh": c.name_zh,
                "name_latin": c.name_latin,
                "phone": c.phone,
                "address": c.address,
                "lat": c.lat,
                "lon": c.lon,
                "kits": c.kits,
                "is_minor": c.is_minor,
                "claim_status": c.status,
                "token": c.token,
                "short_code": c.short_code,
                "arrival": hhmm(s.planned_arrival_s),
                "window_start": hhmm(s.tw_start_s),
                "window_end": hhmm(s.tw_end_s),
                "needs_pin": c.lat is None or c.lon is None,
            }
        )
    vs = []
    for i, v in enumerate(vehicles):
        mine = [s for s in stops if s["vehicle_id"] == v.id]
        vs.append(
            {
                **v.model_dump(),
                "kits": sum(s["kits"] for s in mine),
                "stops": len(mine),
                "colour": COLOURS[i % len(COLOURS)],
                "shift": f"{hhmm(v.shift_start_s)}–{hhmm(v.shift_end_s)}",
                "open": sum(1 for s in mine if s["status"] == "planned"),
            }
        )
    return {
        **run.model_dump(),
        "run": run,
        "depot": {
            "id": depot.id,
            "name_zh": depot.name_zh,
            "name_en": depot.name_en,
            "address": depot.address,
            "lat": depot.lat,
            "lon": depot.lon,
        },
        "vehicles": vs,
        "stops": stops,
    }


def svg_map(d: dict, width: int = 800, height: int = 520, margin: int = 24) -> dict:
    """Project depot and stops into an SVG box: a polyline per vehicle, numbered stops."""
    depot = d["depot"]
    points = [(depot["lat"], depot["lon"])] + [
        (s["lat"], s["lon"]) for s in d["stops"] if s["lat"] is not None
    ]
    lat0 = math.radians(sum(p[0] for p in points) / len(points))

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return 6371.0 * math.radians(lon) * math.cos(lat0), 6371.0 * math.radians(lat)

    km = [xy(*p) for p in points]
    xs, ys = [p[0] for p in km], [p[1] for p in km]
    span_x, span_y = max(max(xs) - min(xs), 0.5), max(max(ys) - min(ys), 0.5)
    scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def place(lat: float, lon: float) -> tuple[float, float]:
        x, y = xy(lat, lon)
        return round(width / 2 + (x - cx) * scale, 1), round(height / 2 - (y - cy) * scale, 1)

    home = place(depot["lat"], depot["lon"])
    routes = []
    for v in d["vehicles"]:
        mine = [
            s
            for s in d["stops"]
            if s["vehicle_id"] == v["id"] and s["seq"] is not None and not s["needs_pin"]
        ]
        marks = [(s["seq"], *place(s["lat"], s["lon"]), s["status"]) for s in mine]
        line = [home, *[(m[1], m[2]) for m in marks], home]
        routes.append(
            {
                "name": v["name"],
                "colour": v["colour"],
                "points": " ".join(f"{x},{y}" for x, y in line),
                "stops": marks,
            }
        )
    loose = [
        (*place(s["lat"], s["lon"]), s["unassigned_reason"] or "")
        for s in d["stops"]
        if s["vehicle_id"] is None and not s["needs_pin"]
    ]
    bar_km = _nice(span_x / 4)
    return {
        "width": width,
        "height": height,
        "depot": home,
        "routes": routes,
        "unassigned": loose,
        "bar_km": bar_km,
        "bar_px": round(bar_km * scale, 1),
    }


def map_data(d: dict, *, tile_url: str, attribution: str) -> dict:
    """What the run page's Leaflet map draws (a JSON block): depot, one route per vehicle with
    its numbered stops, the unrouted stops with their reason, the stops waiting for a pin."""
    depot = d["depot"]
    routes = []
    for i, v in enumerate(d["vehicles"]):
        mine = [s for s in d["stops"] if s["vehicle_id"] == v["id"] and s["seq"] is not None]
        routes.append(
            {
                "name": v["name"],
                "colour": v["colour"],
                "index": i % len(COLOURS),
                "stops": [_mark(s) for s in mine if not s["needs_pin"]],
            }
        )
    loose = [s for s in d["stops"] if s["vehicle_id"] is None]
    return {
        "tiles": tile_url,
        "attribution": attribution,
        "depot": {"lat": depot["lat"], "lon": depot["lon"]},
        "routes": routes,
        "unassigned": [_mark(s) for s in loose if not s["needs_pin"]],
        "needs_pin": [_mark(s) for s in d["stops"] if s["needs_pin"]],
        "pin_url": f"/admin/runs/{d['id']}/stops/{{id}}/pin",
    }


def _mark(s: dict) -> dict:
    return {
        "id": s["id"],
        "seq": s["seq"],
        "lat": s["lat"],
        "lon": s["lon"],
        "status": s["status"],
        "reason": s["unassigned_reason"],
        "label": f"{s['name_zh']} {s['name_latin']}".strip(),
    }


def _nice(km: float) -> float:
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if step >= km:
            return step
    return 1000


def looked_at(
    *, session: Session, user_id: int | None, stops: list[dict], context: str = "run"
) -> None:
    """Log the minors among these stops whose address or phone an answer shows (both)."""
    looks.record(
        session,
        user_id=user_id,
        context=context,
        shown=looks.shown(stops, id_field="claim_id"),
    )


def looked_at_page(
    *, session: Session, user_id: int | None, d: dict, candidates: list[Claim]
) -> None:
    """Log the minors the run page shows: its stops' and candidate claims' addresses (the page
    shows no phone)."""
    looks.record(
        session,
        user_id=user_id,
        context="run",
        shown=[
            *looks.shown(d["stops"], id_field="claim_id", phone=False),
            *looks.shown(candidates, phone=False),
        ],
    )


def route_sheet_pdf(
    *,
    session: Session,
    run_id: int,
    paper: str = "A4",
    locale: str = "en",
    user_id: int | None = None,
) -> bytes:
    """The printable route sheets in `locale`: one per vehicle with stops (names, phones,
    addresses: the minors among them are logged as printed by `user_id`)."""
    if paper not in PAPERS:
        raise Invalid(N_("Unknown paper {paper}: use A4 or Letter."), params={"paper": paper})
    _ = gettext_for(locale)
    d = detail(session=session, run_id=run_id)
    vehicles = []
    for v in d["vehicles"]:
        mine = [s for s in d["stops"] if s["vehicle_id"] == v["id"]]
        if not mine:
            continue
        last = mine[-1]
        hours = (v["duration_s"] or 0) / 3600
        vehicles.append(
            VehicleRoute(
                name=v["name"],
                driver=v["driver"],
                capacity=v["capacity"],
                km=round((v["distance_m"] or last["cumulative_m"] or 0) / 1000, 1),
                planned_hours=round(hours, 1),
                stops=[
                    Stop(
                        seq=s["seq"],
                        arrival=s["arrival"],
                        name=f"{s['name_zh']} {s['name_latin']}".strip(),
                        phone=s["phone"] or "",
                        address=s["address"],
                        kits=s["kits"],
                        notes=_note(s, _),
                        token=s["token"],
                        lat=s["lat"],
                        lon=s["lon"],
                    )
                    for s in mine
                ],
            )
        )
    if not vehicles:
        raise Invalid(
            N_("Run {id} has no routed stops yet: optimise it before printing route sheets."),
            params={"id": run_id},
        )
    depot = d["depot"]
    sheet = RouteSheet(
        run_name=d["name"],
        date=d["date"],
        depot_name=(depot["name_zh"] if locale == "zh_CN" else depot["name_en"])
        or depot["name_zh"]
        or depot["name_en"],
        depot_lat=depot["lat"],
        depot_lon=depot["lon"],
        vehicles=vehicles,
    )
    try:
        pdf = render_route_sheets(sheet, pagesize=paper, texts=route_texts(_))
    except LabelError as exc:
        raise Invalid(
            N_("The route sheet cannot be printed: {error}"), params={"error": str(exc)}
        ) from exc
    printed = [s for s in d["stops"] if s["vehicle_id"] is not None]
    looks.record(
        session,
        user_id=user_id,
        context="print",
        shown=looks.shown(printed, id_field="claim_id"),
    )
    return pdf


def route_texts(_) -> RouteTexts:  # noqa: ANN001
    """The route sheet's fixed words in the language of `_` (a gettext)."""
    return RouteTexts(
        date=_("Date"),
        driver=_("Driver"),
        vehicle=_("Vehicle"),
        depot=_("Depot"),
        stops=_("Stops"),
        kits=_("Kits"),
        kits_value=_("{kits} (capacity {capacity})"),
        distance=_("Distance"),
        planned=_("Planned time"),
        hours=_("{hours} h"),
        seq="#",
        arrival=_("Arrival"),
        name_phone=_("Name / phone"),
        address=_("Address"),
        notes=_("Notes"),
        qr=_("QR (proof)"),
        sign=_("Done / sign"),
        page=_("page {page} of {pages}"),
        north=_("N"),
        no_phone=_("no phone"),
        title=_("Route sheets {run}"),
    )


def _note(s: dict, _) -> str:  # noqa: ANN001
    parts = []
    if s["is_minor"]:
        parts.append(_("minor"))
    if s["tw_start_s"] is not None or s["tw_end_s"] is not None:
        parts.append(f"{hhmm(s['tw_start_s'])}–{hhmm(s['tw_end_s'])}")
    if s["status"] in ("delivered", "failed"):
        parts.append(_(s["status"]))
    return " · ".join(parts)


def driver_view(*, session: Session, run_id: int, vehicle_id: int, user: User) -> dict:
    """A driver's route: the next open stop first, then the rest, with map links. Only for the
    vehicle's driver and diplomats (403 `not_your_vehicle`). Every stop's address is shown, and
    the next stop's phone once the run is dispatched: the minors among them are logged."""
    drivers.require_vehicle(session=session, user=user, run_id=run_id, vehicle_id=vehicle_id)
    d = detail(session=session, run_id=run_id)
    vehicle = next((v for v in d["vehicles"] if v["id"] == vehicle_id), None)
    if vehicle is None:
        raise NotFound(
            N_("Run {run} has no vehicle {id}."), params={"run": run_id, "id": vehicle_id}
        )
    stops = [s for s in d["stops"] if s["vehicle_id"] == vehicle_id]
    for s in stops:
        s["geo"] = f"geo:{s['lat']},{s['lon']}"
        s["osm"] = (
            f"https://www.openstreetmap.org/?mlat={s['lat']}&mlon={s['lon']}"
            f"#map=17/{s['lat']}/{s['lon']}"
        )
    upcoming = [s for s in stops if s["status"] == "planned"]
    following = upcoming[0] if upcoming and d["status"] == "dispatched" else None
    looks.record(
        session,
        user_id=user.id,
        context="driver",
        shown=[
            *looks.shown(stops, id_field="claim_id", phone=False),
            *(looks.shown([following], id_field="claim_id") if following else []),
        ],
    )
    return {
        "run": d,
        "vehicle": vehicle,
        "stops": stops,
        "next": upcoming[0] if upcoming else None,
        "left": len(upcoming),
        "now": datetime.now(),
    }
