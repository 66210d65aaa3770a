"""CVRPLIB: the parser, EUC_2D rounding, and solution quality against best-known costs."""

import json

import pytest
from routing_factories import cvrplib_dir

from app.routing import (
    RoutingError,
    cvrp_problem,
    euc_2d_matrix,
    evaluate,
    load_vrp,
    parse_vrp,
    solve,
)

DATA = cvrplib_dir()
INSTANCES = sorted(DATA.glob("*.vrp"))

SMALL = """NAME : T-n4-k2
TYPE : CVRP
DIMENSION : 4
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
 1 0 0
 2 3 4
 3 0 2.5
 4 -1 1
DEMAND_SECTION
1 0
2 6
3 6
4 2
DEPOT_SECTION
 1
 -1
EOF
"""


def test_parse_small_instance():
    inst = parse_vrp(SMALL)
    assert inst.name == "T-n4-k2" and inst.min_vehicles == 2
    assert inst.dimension == 4 and inst.capacity == 10 and inst.depot == 0
    assert inst.coords[1] == (3.0, 4.0) and inst.demands == [0, 6, 6, 2]


def test_euc_2d_rounds_half_up():
    m = euc_2d_matrix([(0, 0), (3, 4), (0, 2.5), (-1, 1), (0.5, 0)])
    assert m[0][1] == 5
    assert m[0][2] == 3  # 2.5 rounds up
    assert m[0][3] == 1  # 1.414
    assert m[0][4] == 1  # 0.5 rounds up
    assert m[1][2] == 3  # sqrt(11.25) = 3.354


def test_small_instance_solved_exactly():
    p = cvrp_problem(parse_vrp(SMALL))
    plan = solve(p)
    assert evaluate(p, plan) == []
    # Capacity 10 keeps customers 2 and 3 apart: 0-2-0 (10) and 0-4-3-0 (1 + 2 + 3 = 6).
    assert plan.cost == 16 and len(plan.routes) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SMALL.replace("EUC_2D", "GEO"), "GEO is not supported"),
        (SMALL.replace("CAPACITY : 10\n", ""), "no CAPACITY"),
        (SMALL.replace("4 2\n", ""), r"nodes \[4\]"),
    ],
)
def test_parse_rejects_what_it_cannot_handle(text, message):
    with pytest.raises(RoutingError, match=message):
        parse_vrp(text)


def test_shared_instances_are_present():
    assert {p.stem for p in INSTANCES} >= {"A-n32-k5", "E-n51-k5", "X-n101-k25"}, (
        f"no CVRPLIB instances in {DATA}; set KITRUN_CVRPLIB_DIR"
    )


SLOW_INSTANCES = {"X-n101-k25"}  # over 5 s to solve: left out of `make test-fast`


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW_INSTANCES else [])
        for p in INSTANCES
    ],
)
def test_within_two_percent_of_best_known(path):
    best = json.loads((DATA / "best_known.json").read_text())[path.stem]
    inst = load_vrp(path)
    assert inst.dimension == best["jobs"] + 1 and inst.capacity == best["capacity"]
    assert sum(inst.demands) == best["total_demand"]
    p = cvrp_problem(inst)
    plan = solve(p)  # its time is bench/routing.py's to measure, not a test's
    assert evaluate(p, plan) == []
    assert plan.unassigned == []
    gap = (plan.cost - best["best_known_cost"]) / best["best_known_cost"]
    assert 0 <= gap <= 0.02, f"{path.stem}: cost {plan.cost}, gap {gap:.2%}"
