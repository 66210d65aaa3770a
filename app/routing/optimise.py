"""The optimiser: a Problem in, a Plan out, solved with VROOM (pyvroom)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

import vroom

from app.routing.diagnose import VehicleState, diagnose
from app.routing.model import (
    JobSpec,
    Plan,
    PlannedStop,
    Problem,
    RoutePlan,
    RoutingError,
    Unassigned,
    VehicleSpec,
)
from app.routing.validate import validate

PROFILE = "car"


@dataclass
class _Prefix:
    """The locked stops of one vehicle, scheduled from the depot at shift start."""

    stops: list[PlannedStop] = field(default_factory=list)
    location: int = 0
    ready_s: int = 0
    distance_m: int = 0
    duration_s: int = 0
    kits: int = 0


def solve(
    problem: Problem,
    *,
    exploration_level: int = 5,
    nb_threads: int = 2,
    timeout_s: float | None = 10.0,
) -> Plan:
    """Plan routes for `problem`; jobs that cannot be served come back unassigned with a reason."""
    started = time.perf_counter()
    validate(problem)
    jobs_by_id = {job.id: job for job in problem.jobs}
    prefixes = {v.id: _schedule_prefix(problem, v, jobs_by_id) for v in problem.vehicles}
    states = [_state(v, prefixes[v.id]) for v in problem.vehicles]
    locked = {job_id for ids in problem.fixed.values() for job_id in ids}
    free_jobs = [job for job in problem.jobs if job.id not in locked]

    routes_by_vehicle: dict[int, dict] = {}
    unassigned_idx: list[int] = []
    if free_jobs:
        inp = build_input(problem, states, free_jobs)
        solution = inp.solve(
            exploration_level=exploration_level,
            nb_threads=nb_threads,
            timeout=None if timeout_s is None else timedelta(seconds=timeout_s),
        )
        answer = solution.to_dict()
        routes_by_vehicle = {route["vehicle"]: route for route in answer["routes"]}
        unassigned_idx = [item["id"] for item in answer["unassigned"]]

    routes = []
    for index, vehicle in enumerate(problem.vehicles):
        route = _route(
            problem, vehicle, prefixes[vehicle.id], routes_by_vehicle.get(index), free_jobs
        )
        if route is not None:
            routes.append(route)

    used = {route.vehicle_id: route for route in routes}
    for state in states:
        if state.vehicle.id in used:
            prefix = prefixes[state.vehicle.id]
            state.planned_stops = len(used[state.vehicle.id].stops) - len(prefix.stops)
            state.planned_kits = used[state.vehicle.id].kits - prefix.kits
    unassigned = []
    for job_index in sorted(unassigned_idx):
        job = free_jobs[job_index]
        reason, detail = diagnose(problem, job, states)
        unassigned.append(Unassigned(job_id=job.id, reason=reason, detail=detail))

    return Plan(
        routes=routes,
        unassigned=unassigned,
        cost=sum(route.duration_s for route in routes),
        elapsed_s=time.perf_counter() - started,
        warnings=list(problem.matrix.warnings),
    )


def build_input(problem: Problem, states: list[VehicleState], jobs: list[JobSpec]) -> vroom.Input:
    """VROOM input: vehicle i is `states[i]`, job k is `jobs[k]` (VROOM ids are these indices)."""
    inp = vroom.Input()
    inp.set_durations_matrix(profile=PROFILE, matrix_input=problem.matrix.durations)
    inp.set_distances_matrix(profile=PROFILE, matrix_input=problem.matrix.distances)
    vehicles = []
    for index, state in enumerate(states):
        extra = {} if state.stops_left is None else {"max_tasks": state.stops_left}
        vehicles.append(
            vroom.Vehicle(
                index,
                start=state.start_location,
                end=problem.depot_index,
                profile=PROFILE,
                capacity=[state.capacity_left],
                time_window=vroom.TimeWindow(state.ready_s, state.vehicle.shift_end),
                **extra,
            )
        )
    inp.add_vehicle(vehicles)
    inp.add_job(
        [
            vroom.Job(
                index,
                location=job.location_index,
                default_service=job.service_s,
                delivery=[job.kits],
                priority=job.priority,
                time_windows=[vroom.TimeWindow(a, b) for a, b in sorted(job.time_windows)],
            )
            for index, job in enumerate(jobs)
        ]
    )
    return inp


def _schedule_prefix(
    problem: Problem, vehicle: VehicleSpec, jobs_by_id: dict[object, JobSpec]
) -> _Prefix:
    """Serve the vehicle's locked jobs in order from the depot; raise if that is infeasible."""
    durations, distances = problem.matrix.durations, problem.matrix.distances
    prefix = _Prefix(location=problem.depot_index, ready_s=vehicle.shift_start)
    for seq, job_id in enumerate(problem.fixed.get(vehicle.id, []), start=1):
        job = jobs_by_id[job_id]
        loc = job.location_index
        arrival = prefix.ready_s + durations[prefix.location][loc]
        start = _service_start(arrival, job.time_windows)
        if start is None:
            raise RoutingError(
                f"locked job {job_id!r} on vehicle {vehicle.id!r}: arrival at {arrival} misses "
                f"all its time windows {job.time_windows}"
            )
        prefix.distance_m += distances[prefix.location][loc]
        prefix.duration_s += durations[prefix.location][loc]
        prefix.kits += job.kits
        prefix.stops.append(
            PlannedStop(
                job_id=job_id,
                seq=seq,
                location_index=loc,
                arrival_s=arrival,
                waiting_s=start - arrival,
                service_s=job.service_s,
                distance_m=prefix.distance_m,
                duration_s=prefix.duration_s,
                locked=True,
            )
        )
        prefix.location, prefix.ready_s = loc, start + job.service_s
    if prefix.kits > vehicle.capacity:
        raise RoutingError(
            f"locked jobs on vehicle {vehicle.id!r} need {prefix.kits} kits; "
            f"it carries {vehicle.capacity}"
        )
    if vehicle.max_stops is not None and len(prefix.stops) > vehicle.max_stops:
        raise RoutingError(
            f"vehicle {vehicle.id!r} has {len(prefix.stops)} locked stops; "
            f"max_stops is {vehicle.max_stops}"
        )
    back = prefix.ready_s + durations[prefix.location][problem.depot_index]
    if back > vehicle.shift_end:
        raise RoutingError(
            f"locked jobs on vehicle {vehicle.id!r} bring it back at {back}, "
            f"after its shift ends ({vehicle.shift_end})"
        )
    return prefix


def _service_start(arrival: int, windows: list[tuple[int, int]]) -> int | None:
    """Earliest service start at or after `arrival` inside a window; None if none is left."""
    if not windows:
        return arrival
    for a, b in sorted(windows):
        if arrival <= b:
            return max(arrival, a)
    return None


def _state(vehicle: VehicleSpec, prefix: _Prefix) -> VehicleState:
    stops_left = None if vehicle.max_stops is None else vehicle.max_stops - len(prefix.stops)
    return VehicleState(
        vehicle=vehicle,
        start_location=prefix.location,
        ready_s=prefix.ready_s,
        capacity_left=vehicle.capacity - prefix.kits,
        stops_left=stops_left,
    )


def _route(
    problem: Problem,
    vehicle: VehicleSpec,
    prefix: _Prefix,
    answer: dict | None,
    free_jobs: list[JobSpec],
) -> RoutePlan | None:
    """Join the locked prefix and VROOM's route for one vehicle; None if the car stays home."""
    if answer is None and not prefix.stops:
        return None
    stops = list(prefix.stops)
    kits = prefix.kits
    if answer is None:
        back_m = problem.matrix.distances[prefix.location][problem.depot_index]
        back_s = problem.matrix.durations[prefix.location][problem.depot_index]
        return RoutePlan(
            vehicle_id=vehicle.id,
            stops=stops,
            distance_m=prefix.distance_m + back_m,
            duration_s=prefix.duration_s + back_s,
            kits=kits,
            start_s=vehicle.shift_start,
            end_s=prefix.ready_s + back_s,
        )
    steps = answer["steps"]
    for step in steps:
        if step["type"] != "job":
            continue
        job = free_jobs[step["id"]]
        kits += job.kits
        stops.append(
            PlannedStop(
                job_id=job.id,
                seq=len(stops) + 1,
                location_index=job.location_index,
                arrival_s=step["arrival"],
                waiting_s=step["waiting_time"],
                service_s=step["service"],
                distance_m=prefix.distance_m + step["distance"],
                duration_s=prefix.duration_s + step["duration"],
            )
        )
    return RoutePlan(
        vehicle_id=vehicle.id,
        stops=stops,
        distance_m=prefix.distance_m + answer["distance"],
        duration_s=prefix.duration_s + answer["duration"],
        kits=kits,
        start_s=vehicle.shift_start if prefix.stops else steps[0]["arrival"],
        end_s=steps[-1]["arrival"],
    )
