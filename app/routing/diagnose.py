"""Why a job ended up unassigned: checked after the solve, most specific reason first."""

from __future__ import annotations

from dataclasses import dataclass

from app.routing.model import JobSpec, Problem, Reason, VehicleSpec


@dataclass
class VehicleState:
    """What a vehicle has left for the optimiser once its locked stops are served."""

    vehicle: VehicleSpec
    start_location: int
    ready_s: int
    capacity_left: int
    stops_left: int | None
    planned_stops: int = 0
    planned_kits: int = 0


def diagnose(problem: Problem, job: JobSpec, states: list[VehicleState]) -> tuple[Reason, str]:
    """(reason, human-readable detail) for an unassigned `job`."""
    durations = problem.matrix.durations
    depot, loc = problem.depot_index, job.location_index

    carriers = [s for s in states if job.kits <= s.capacity_left]
    if not carriers:
        largest = max(s.capacity_left for s in states)
        return Reason.CAPACITY, f"needs {job.kits} kits; the largest vehicle has room for {largest}"

    def arrival(s: VehicleState) -> int:
        return s.ready_s + durations[s.start_location][loc]

    def back_in_time(s: VehicleState, service_start: int) -> bool:
        return service_start + job.service_s + durations[loc][depot] <= s.vehicle.shift_end

    in_shift = [s for s in carriers if back_in_time(s, arrival(s))]
    if not in_shift:
        return Reason.SHIFT, (
            "the trip from the depot, the service and the way back do not fit in the shift of "
            "any vehicle that can carry it"
        )

    def window_reachable(s: VehicleState) -> bool:
        if not job.time_windows:
            return True
        t = arrival(s)
        return any(t <= b and back_in_time(s, max(t, a)) for a, b in job.time_windows)

    timely = [s for s in in_shift if window_reachable(s)]
    if not timely:
        return Reason.TIME_WINDOW, (
            f"no vehicle can reach it within its time windows {sorted(job.time_windows)} "
            "and still return before its shift ends"
        )

    if all(s.stops_left is not None and s.planned_stops >= s.stops_left for s in timely):
        return Reason.MAX_STOPS, "every vehicle that could take it already has its maximum stops"

    total_kits = sum(j.kits for j in problem.jobs)
    total_capacity = sum(v.capacity for v in problem.vehicles)
    if total_kits > total_capacity:
        return Reason.CAPACITY, (
            f"all jobs need {total_kits} kits but the vehicles carry {total_capacity} in total"
        )
    if all(s.planned_kits + job.kits > s.capacity_left for s in timely):
        return Reason.NO_ROOM_LEFT, "every vehicle that could take it is full"
    return Reason.NO_ROOM_LEFT, (
        "no vehicle that could take it has time left for it between its other stops"
    )
