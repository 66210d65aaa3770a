"""Checks that a Problem is well formed before it reaches VROOM."""

from __future__ import annotations

from app.routing.model import Problem, RoutingError

# VROOM stores matrix entries as uint32.
MAX_MATRIX_VALUE = 2**32 - 1


def validate(problem: Problem) -> None:
    """Raise RoutingError naming the first malformed vehicle, job, matrix row or lock."""
    _check_matrix(problem)
    n = problem.matrix.size
    if not 0 <= problem.depot_index < n:
        raise RoutingError(f"depot_index {problem.depot_index} is outside the matrix (size {n})")
    if not problem.vehicles:
        raise RoutingError("no vehicles: add at least one vehicle")
    seen: set[object] = set()
    for v in problem.vehicles:
        if v.id in seen:
            raise RoutingError(f"vehicle {v.id!r} appears twice")
        seen.add(v.id)
        if v.capacity <= 0:
            raise RoutingError(f"vehicle {v.id!r} has capacity {v.capacity}; it must be positive")
        if v.shift_start < 0:
            raise RoutingError(f"vehicle {v.id!r} shift starts at {v.shift_start} (< 0)")
        if v.shift_end < v.shift_start:
            raise RoutingError(
                f"vehicle {v.id!r} shift ends ({v.shift_end}) before it starts ({v.shift_start})"
            )
        if v.max_stops is not None and v.max_stops < 0:
            raise RoutingError(f"vehicle {v.id!r} has max_stops {v.max_stops} (< 0)")
    seen = set()
    for job in problem.jobs:
        if job.id in seen:
            raise RoutingError(f"job {job.id!r} appears twice")
        seen.add(job.id)
        if not 0 <= job.location_index < n:
            raise RoutingError(
                f"job {job.id!r} location_index {job.location_index} is outside the matrix "
                f"(size {n})"
            )
        if job.kits < 0:
            raise RoutingError(f"job {job.id!r} has {job.kits} kits (< 0)")
        if job.service_s < 0:
            raise RoutingError(f"job {job.id!r} has service_s {job.service_s} (< 0)")
        if not 0 <= job.priority <= 100:
            raise RoutingError(f"job {job.id!r} priority {job.priority} is outside 0..100")
        windows = sorted(job.time_windows)
        for a, b in windows:
            if a < 0 or b < a:
                raise RoutingError(f"job {job.id!r} has an invalid time window ({a}, {b})")
        for (_, b1), (a2, _) in zip(windows, windows[1:], strict=False):
            if a2 <= b1:
                raise RoutingError(f"job {job.id!r} has overlapping time windows")
    _check_fixed(problem)


def _check_matrix(problem: Problem) -> None:
    m = problem.matrix
    n = len(m.durations)
    if n == 0:
        raise RoutingError("matrix is empty")
    if len(m.distances) != n:
        raise RoutingError(
            f"matrix size mismatch: {n} duration rows but {len(m.distances)} distance rows"
        )
    for name, table in (("durations", m.durations), ("distances", m.distances)):
        for i, row in enumerate(table):
            if len(row) != n:
                raise RoutingError(
                    f"matrix size mismatch: {name} row {i} has {len(row)} entries, expected {n}"
                )
            for j, value in enumerate(row):
                if not isinstance(value, int) or not 0 <= value <= MAX_MATRIX_VALUE:
                    raise RoutingError(
                        f"matrix {name}[{i}][{j}] = {value!r} is not an integer in 0..2^32-1"
                    )


def _check_fixed(problem: Problem) -> None:
    vehicle_ids = {v.id for v in problem.vehicles}
    job_ids = {j.id for j in problem.jobs}
    locked: dict[object, object] = {}
    for vehicle_id, job_list in problem.fixed.items():
        if vehicle_id not in vehicle_ids:
            raise RoutingError(f"fixed stops name unknown vehicle {vehicle_id!r}")
        for job_id in job_list:
            if job_id not in job_ids:
                raise RoutingError(
                    f"fixed stops of vehicle {vehicle_id!r} name unknown job {job_id!r}"
                )
            if job_id in locked:
                raise RoutingError(
                    f"job {job_id!r} is locked to vehicle {locked[job_id]!r} and {vehicle_id!r}"
                )
            locked[job_id] = vehicle_id
