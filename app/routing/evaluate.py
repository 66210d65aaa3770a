"""Independent check of a Plan against its Problem, recomputed from the matrix."""

from __future__ import annotations

from app.routing.model import Plan, Problem, Reason


def evaluate(problem: Problem, plan: Plan) -> list[str]:
    """Every violation found in `plan`, as sentences; an empty list means the plan is valid."""
    out: list[str] = []
    vehicles = {v.id: v for v in problem.vehicles}
    jobs = {j.id: j for j in problem.jobs}
    dur, dist = problem.matrix.durations, problem.matrix.distances
    depot = problem.depot_index
    routed: dict[object, object] = {}
    seen_vehicles: set[object] = set()

    for route in plan.routes:
        vid = route.vehicle_id
        vehicle = vehicles.get(vid)
        if vehicle is None:
            out.append(f"route for unknown vehicle {vid!r}")
            continue
        if vid in seen_vehicles:
            out.append(f"vehicle {vid!r} has two routes")
        seen_vehicles.add(vid)
        kits = 0
        loc, ready = depot, route.start_s
        cum_m = cum_s = 0
        if route.start_s < vehicle.shift_start:
            out.append(f"vehicle {vid!r} starts at {route.start_s}, before its shift")
        for seq, stop in enumerate(route.stops, start=1):
            job = jobs.get(stop.job_id)
            if job is None:
                out.append(f"vehicle {vid!r} serves unknown job {stop.job_id!r}")
                continue
            if stop.job_id in routed:
                out.append(
                    f"job {stop.job_id!r} is on two routes ({routed[stop.job_id]!r} and {vid!r})"
                )
            routed[stop.job_id] = vid
            if stop.seq != seq:
                out.append(f"vehicle {vid!r} stop {seq} has seq {stop.seq}")
            kits += job.kits
            cum_m += dist[loc][job.location_index]
            cum_s += dur[loc][job.location_index]
            earliest = ready + dur[loc][job.location_index]
            if stop.arrival_s < earliest:
                out.append(
                    f"job {job.id!r} on vehicle {vid!r}: arrival {stop.arrival_s} is earlier than "
                    f"possible ({earliest})"
                )
            begin = max(stop.arrival_s, earliest) + stop.waiting_s
            if job.time_windows and not any(a <= begin <= b for a, b in job.time_windows):
                out.append(
                    f"job {job.id!r} on vehicle {vid!r}: service at {begin} is outside its time "
                    f"windows {job.time_windows}"
                )
            if (stop.distance_m, stop.duration_s) != (cum_m, cum_s):
                out.append(
                    f"job {job.id!r} on vehicle {vid!r}: cumulative {stop.distance_m} m / "
                    f"{stop.duration_s} s, matrix says {cum_m} m / {cum_s} s"
                )
            loc, ready = job.location_index, begin + job.service_s
        back = ready + dur[loc][depot]
        cum_m += dist[loc][depot]
        cum_s += dur[loc][depot]
        if kits > vehicle.capacity:
            out.append(f"vehicle {vid!r} capacity exceeded: {kits} kits > {vehicle.capacity}")
        if route.kits != kits:
            out.append(f"vehicle {vid!r} reports {route.kits} kits, stops add up to {kits}")
        if max(back, route.end_s) > vehicle.shift_end:
            out.append(
                f"vehicle {vid!r} shift exceeded: back at {max(back, route.end_s)} > "
                f"{vehicle.shift_end}"
            )
        if vehicle.max_stops is not None and len(route.stops) > vehicle.max_stops:
            out.append(f"vehicle {vid!r} has {len(route.stops)} stops > max {vehicle.max_stops}")
        if route.distance_m != cum_m or route.duration_s != cum_s:
            out.append(
                f"vehicle {vid!r} reports {route.distance_m} m / {route.duration_s} s travel, "
                f"matrix says {cum_m} m / {cum_s} s"
            )
        locked = problem.fixed.get(vid, [])
        if [s.job_id for s in route.stops[: len(locked)]] != list(locked):
            out.append(f"vehicle {vid!r} does not start with its locked stops {locked}")

    for vid, locked in problem.fixed.items():
        if locked and vid not in seen_vehicles:
            out.append(f"vehicle {vid!r} has locked stops but no route")

    reasons = {r.value for r in Reason}
    unassigned: set[object] = set()
    for item in plan.unassigned:
        if item.job_id not in jobs:
            out.append(f"unassigned list names unknown job {item.job_id!r}")
        if item.job_id in unassigned:
            out.append(f"job {item.job_id!r} is unassigned twice")
        if item.job_id in routed:
            out.append(f"job {item.job_id!r} is both routed and unassigned")
        if item.reason not in reasons:
            out.append(f"job {item.job_id!r} is unassigned without a known reason")
        unassigned.add(item.job_id)
    for job_id in jobs:
        if job_id not in routed and job_id not in unassigned:
            out.append(f"job {job_id!r} is neither routed nor unassigned")
    if plan.cost != sum(r.duration_s for r in plan.routes):
        out.append(f"plan cost {plan.cost} is not the sum of route travel times")
    return out
