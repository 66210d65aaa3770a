"""The optimiser on small hand-made problems: plans, unassigned reasons, bad input, locks."""

import pytest
from routing_factories import line_matrix, problem, vehicle

from app.routing import JobSpec, Matrix, Problem, Reason, RoutingError, evaluate, solve


def reasons(plan):
    return {u.job_id: u.reason for u in plan.unassigned}


def test_everything_fits_on_one_route():
    p = problem(n=6)
    plan = solve(p)
    assert evaluate(p, plan) == []
    assert plan.unassigned == []
    (route,) = plan.routes
    assert sorted(s.job_id for s in route.stops) == [1, 2, 3, 4, 5]
    # A line out and back is optimal: 5 hops out, 5 back, 100 s each.
    assert plan.cost == route.duration_s == 1000
    assert route.distance_m == 10_000 and route.kits == 5
    assert [s.seq for s in route.stops] == [1, 2, 3, 4, 5]
    far = next(s for s in route.stops if s.location_index == 5)
    assert far.distance_m == 5000 and far.duration_s == 500  # cumulative from the depot
    last = route.stops[-1]
    assert route.end_s == last.departure_s + 100 * last.location_index


def test_ids_may_be_strings_and_service_times_count():
    p = problem(
        n=3,
        vehicles=[vehicle("van-A", shift=(28_800, 72_000))],
        jobs=[
            JobSpec(id="s-1", location_index=1, service_s=300),
            JobSpec(id="s-2", location_index=2, service_s=300),
        ],
    )
    plan = solve(p)
    assert evaluate(p, plan) == []
    (route,) = plan.routes
    assert route.vehicle_id == "van-A"
    first, second = route.stops
    assert {first.job_id, second.job_id} == {"s-1", "s-2"}
    assert first.arrival_s == 28_800 + 100 * first.location_index
    assert second.arrival_s == first.arrival_s + 300 + 100
    assert route.end_s == second.arrival_s + 300 + 100 * second.location_index


def test_time_window_is_honoured_by_waiting():
    p = problem(n=2, jobs=[JobSpec(id=1, location_index=1, time_windows=[(5_000, 5_100)])])
    plan = solve(p)
    assert evaluate(p, plan) == []
    stop = plan.routes[0].stops[0]
    assert 5_000 <= stop.arrival_s + stop.waiting_s <= 5_100


def test_capacity_and_max_stops_split_work_between_vehicles():
    p = problem(n=9, vehicles=[vehicle(1, capacity=5), vehicle(2, capacity=5, max_stops=3)])
    plan = solve(p)
    assert evaluate(p, plan) == []
    assert plan.unassigned == []
    by_vehicle = {r.vehicle_id: len(r.stops) for r in plan.routes}
    assert by_vehicle == {1: 5, 2: 3}


def test_reason_job_bigger_than_every_vehicle():
    jobs = [JobSpec(id=1, location_index=1, kits=11), JobSpec(id=2, location_index=2, kits=3)]
    plan = solve(p := problem(n=3, vehicles=[vehicle(1, 10), vehicle(2, 8)], jobs=jobs))
    assert evaluate(p, plan) == []
    assert reasons(plan) == {1: Reason.CAPACITY}
    assert "needs 11 kits" in plan.unassigned[0].detail


def test_reason_more_kits_than_all_vehicles_carry():
    jobs = [JobSpec(id=i, location_index=i, kits=3) for i in range(1, 5)]
    plan = solve(p := problem(n=5, vehicles=[vehicle(1, 5), vehicle(2, 5)], jobs=jobs))
    assert evaluate(p, plan) == []
    assert len(plan.routes) == 2 and len(plan.unassigned) == 2
    assert set(reasons(plan).values()) == {Reason.CAPACITY}
    assert "12 kits" in plan.unassigned[0].detail


def test_reason_shift_too_short():
    # Location 3 is 300 s out: 600 s round trip plus 10 s service in a 500 s shift.
    jobs = [JobSpec(id=1, location_index=1, service_s=10), JobSpec(id=3, location_index=3)]
    plan = solve(p := problem(n=4, vehicles=[vehicle(1, shift=(1_000, 1_500))], jobs=jobs))
    assert evaluate(p, plan) == []
    assert reasons(plan) == {3: Reason.SHIFT}


def test_reason_impossible_time_window():
    jobs = [
        JobSpec(id=1, location_index=2, time_windows=[(0, 100)]),  # can't arrive before 200
        JobSpec(id=2, location_index=1, time_windows=[(200_000, 200_100)]),  # after the shift
        JobSpec(id=3, location_index=1, time_windows=[(0, 50), (400, 800)]),  # second one works
    ]
    plan = solve(p := problem(n=3, jobs=jobs))
    assert evaluate(p, plan) == []
    assert reasons(plan) == {1: Reason.TIME_WINDOW, 2: Reason.TIME_WINDOW}


def test_reason_max_stops():
    plan = solve(p := problem(n=5, vehicles=[vehicle(1, max_stops=2)]))
    assert evaluate(p, plan) == []
    assert len(plan.routes[0].stops) == 2
    assert list(reasons(plan).values()) == [Reason.MAX_STOPS] * 2


def test_reason_no_room_left():
    # Both want service at exactly t=1000; serving one makes the car late for the other.
    jobs = [JobSpec(id=i, location_index=i, time_windows=[(1_000, 1_000)]) for i in (1, 2)]
    plan = solve(p := problem(n=3, jobs=jobs))
    assert evaluate(p, plan) == []
    assert len(plan.unassigned) == 1
    assert plan.unassigned[0].reason == Reason.NO_ROOM_LEFT
    assert "time left" in plan.unassigned[0].detail


def test_reason_no_room_left_when_vehicles_are_full():
    # The big job fits either car alone, but each already carries a job that leaves too little.
    jobs = [
        JobSpec(id=1, location_index=1, kits=4, priority=100),
        JobSpec(id=2, location_index=2, kits=4, priority=100),
        JobSpec(id=3, location_index=3, kits=5),
    ]
    plan = solve(p := problem(n=4, vehicles=[vehicle(1, 7), vehicle(2, 7)], jobs=jobs))
    assert evaluate(p, plan) == []
    assert reasons(plan) == {3: Reason.NO_ROOM_LEFT}
    assert "full" in plan.unassigned[0].detail


def test_priority_decides_who_is_left_out():
    jobs = [
        JobSpec(id=1, location_index=1, kits=6),
        JobSpec(id=2, location_index=2, kits=6, priority=100),
    ]
    plan = solve(problem(n=3, jobs=jobs))
    assert reasons(plan) == {1: Reason.CAPACITY}


def test_no_jobs_gives_empty_plan():
    plan = solve(problem(n=2, jobs=[]))
    assert (plan.routes, plan.unassigned, plan.cost) == ([], [], 0)


def test_matrix_warnings_reach_the_plan():
    p = problem(n=3)
    p.matrix.warnings.append("OSRM down")
    assert solve(p).warnings == ["OSRM down"]


BAD = [
    ("capacity 0", dict(vehicles=[vehicle("van", capacity=0)]), "vehicle 'van' has capacity 0"),
    ("shift", dict(vehicles=[vehicle(7, shift=(500, 400))]), "vehicle 7 shift ends"),
    ("no vehicles", dict(vehicles=[]), "no vehicles"),
    ("twice", dict(vehicles=[vehicle(1), vehicle(1)]), "vehicle 1 appears twice"),
    ("stops", dict(vehicles=[vehicle(1, max_stops=-1)]), "max_stops -1"),
    ("location", dict(jobs=[JobSpec(id="x", location_index=3)]), "job 'x' location_index 3"),
    ("kits", dict(jobs=[JobSpec(id=1, location_index=1, kits=-2)]), "job 1 has -2 kits"),
    ("window", dict(jobs=[JobSpec(1, 1, time_windows=[(9, 5)])]), r"invalid time window \(9, 5\)"),
    ("overlap", dict(jobs=[JobSpec(1, 1, time_windows=[(0, 9), (5, 20)])]), "overlapping"),
    ("priority", dict(jobs=[JobSpec(1, 1, priority=101)]), "priority 101"),
    ("depot", dict(depot_index=5), "depot_index 5"),
    ("lock vehicle", dict(fixed={"ghost": [1]}), "unknown vehicle 'ghost'"),
    ("lock job", dict(fixed={1: [9]}), "unknown job 9"),
]


@pytest.mark.parametrize(("kwargs", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_raises_routing_error(kwargs, message):
    with pytest.raises(RoutingError, match=message):
        solve(problem(n=3, **kwargs))


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (Matrix(durations=[[0, 1], [1, 0]], distances=[[0]]), "2 duration rows but 1"),
        (Matrix(durations=[[0, 1], [1]], distances=[[0, 1], [1, 0]]), "durations row 1 has 1"),
        (Matrix(durations=[[0, 1], [1, 0]], distances=[[0, -1], [1, 0]]), r"distances\[0\]\[1\]"),
        (Matrix(durations=[[0, 1.5], [1, 0]], distances=[[0, 1], [1, 0]]), r"durations\[0\]\[1\]"),
        (Matrix(durations=[], distances=[]), "empty"),
    ],
)
def test_bad_matrix_raises_routing_error(matrix, message):
    p = Problem(vehicles=[vehicle()], jobs=[JobSpec(1, 0)], matrix=matrix)
    with pytest.raises(RoutingError, match=message):
        solve(p)


def test_routing_error_is_a_value_error():
    assert issubclass(RoutingError, ValueError)


def test_locked_stops_stay_on_their_vehicle_in_order():
    # Zig-zag order the optimiser would never choose, on the vehicle it would not pick.
    p = problem(n=9, vehicles=[vehicle("a"), vehicle("b")], fixed={"b": [5, 1, 6], "a": [7]})
    plan = solve(p)
    assert evaluate(p, plan) == []
    routes = {r.vehicle_id: r for r in plan.routes}
    assert [s.job_id for s in routes["b"].stops[:3]] == [5, 1, 6]
    assert [s.locked for s in routes["b"].stops[:3]] == [True] * 3
    assert routes["a"].stops[0].job_id == 7 and routes["a"].stops[0].locked
    assert not any(s.locked for r in plan.routes for s in r.stops if s.job_id not in (5, 1, 6, 7))
    assert plan.unassigned == []
    assert plan.cost > solve(problem(n=9, vehicles=[vehicle("a"), vehicle("b")])).cost


def test_locked_stops_leave_capacity_and_stops_for_the_rest():
    p = problem(n=6, vehicles=[vehicle(1, capacity=3, max_stops=3)], fixed={1: [4, 2]})
    plan = solve(p)
    assert evaluate(p, plan) == []
    assert [s.job_id for s in plan.routes[0].stops][:2] == [4, 2]
    assert len(plan.routes[0].stops) == 3
    assert len(plan.unassigned) == 2


def test_only_locked_stops_needs_no_optimiser():
    p = problem(n=3, fixed={1: [2, 1]})
    plan = solve(p)
    assert evaluate(p, plan) == []
    assert [s.job_id for s in plan.routes[0].stops] == [2, 1]
    assert plan.cost == 200 + 100 + 100


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(vehicles=[vehicle(1, capacity=1)], fixed={1: [1, 2]}), "need 2 kits"),
        (dict(vehicles=[vehicle(1, max_stops=1)], fixed={1: [1, 2]}), "2 locked stops"),
        (dict(vehicles=[vehicle(1, shift=(0, 300))], fixed={1: [2]}), "after its shift"),
        (dict(vehicles=[vehicle(1), vehicle(2)], fixed={1: [1], 2: [1]}), "locked to vehicle 1"),
    ],
)
def test_infeasible_locks_raise(kwargs, message):
    with pytest.raises(RoutingError, match=message):
        solve(problem(n=3, **kwargs))


def test_locked_stop_missing_its_window_raises():
    jobs = [JobSpec(id=1, location_index=2, time_windows=[(0, 50)])]
    with pytest.raises(RoutingError, match="locked job 1 on vehicle 1"):
        solve(problem(n=3, jobs=jobs, fixed={1: [1]}))


def test_evaluate_catches_broken_plans():
    p = problem(n=4, vehicles=[vehicle(1, capacity=2)])
    plan = solve(p)
    assert evaluate(p, plan) == []
    route = plan.routes[0]
    route.stops.append(route.stops[0])
    problems = evaluate(p, plan)
    assert any("on two routes" in m for m in problems)
    assert any("capacity exceeded" in m for m in problems)
    route.stops.clear()
    problems = evaluate(p, plan)
    assert any("neither routed nor unassigned" in m for m in problems)


def test_evaluate_catches_late_return():
    p = problem(n=4)
    plan = solve(p)
    p.vehicles[0].shift_end = plan.routes[0].end_s - 1
    assert any("shift exceeded" in m for m in evaluate(p, plan))


def test_line_matrix_helper_is_symmetric():
    m = line_matrix(4)
    assert m.durations[1][3] == m.durations[3][1] == 200
