"""Random problems: every plan passes evaluate(), every left-out job has a sound reason."""

import math

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from app.routing import JobSpec, Matrix, Problem, Reason, RoutingError, VehicleSpec, evaluate, solve

SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@st.composite
def problems(draw, with_locks=False):
    n = draw(st.integers(1, 12))
    points = draw(
        st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=n, max_size=n)
    )
    # Euclidean seconds; distances deliberately not proportional, to catch mixed-up matrices.
    durations = [[round(10 * math.dist(a, b)) for b in points] for a in points]
    distances = [[round(37 * math.dist(a, b)) + (a != b) for b in points] for a in points]
    vehicles = []
    for k in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, 2_000))
        vehicles.append(
            VehicleSpec(
                id=f"v{k}",
                capacity=draw(st.integers(1, 15)),
                shift_start=start,
                shift_end=start + draw(st.integers(0, 3_000)),
                max_stops=draw(st.none() | st.integers(0, 5)),
            )
        )
    jobs = []
    for j in range(draw(st.integers(1 if with_locks else 0, 14))):
        windows = []
        if draw(st.booleans()):
            a = draw(st.integers(0, 5_000))
            windows = [(a, a + draw(st.integers(0, 1_500)))]
        jobs.append(
            JobSpec(
                id=j,
                location_index=draw(st.integers(0, n - 1)),
                kits=draw(st.integers(0, 8)),
                service_s=draw(st.integers(0, 120)),
                time_windows=windows,
                priority=draw(st.integers(0, 100)),
            )
        )
    fixed = {}
    if with_locks and jobs:
        ids = draw(st.permutations([j.id for j in jobs]))
        fixed = {vehicles[0].id: ids[: draw(st.integers(1, min(3, len(ids))))]}
    return Problem(
        vehicles=vehicles,
        jobs=jobs,
        matrix=Matrix(durations=durations, distances=distances),
        depot_index=draw(st.integers(0, n - 1)),
        fixed=fixed,
    )


def check(problem):
    plan = solve(problem, exploration_level=2, timeout_s=5)
    assert evaluate(problem, plan) == []
    biggest = max(v.capacity for v in problem.vehicles)
    reasons = {u.job_id: u.reason for u in plan.unassigned}
    for job in problem.jobs:
        if job.kits > biggest and not problem.fixed:
            assert reasons[job.id] == Reason.CAPACITY
    for item in plan.unassigned:
        assert item.reason in set(Reason) and item.detail
    return plan


@SETTINGS
@given(problems())
def test_random_plans_are_valid(problem):
    check(problem)


@SETTINGS
@given(problems(with_locks=True))
def test_random_plans_with_locks_are_valid(problem):
    try:
        plan = check(problem)
    except RoutingError as exc:
        assert "locked" in str(exc)
        reject()
    ((vehicle_id, locked),) = problem.fixed.items()
    route = next(r for r in plan.routes if r.vehicle_id == vehicle_id)
    assert [s.job_id for s in route.stops[: len(locked)]] == locked
