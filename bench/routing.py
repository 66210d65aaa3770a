"""Routing benchmark: our wrapper vs plain pyvroom on CVRPLIB instances, then a synthetic district.

Usage: .venv/bin/python bench/routing.py [instance.vrp ...] [--level 5] [--threads 2]
       [--timeout 10] [--radius 75 100] [--district-levels 0 5] [--district-timeout 4.5]
Defaults to the shared instances (KITRUN_CVRPLIB_DIR or ../shared/data/cvrplib).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

import vroom

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.routing import (  # noqa: E402
    GreatCircleProvider,
    JobSpec,
    Problem,
    VehicleSpec,
    cvrp_problem,
    euc_2d_matrix,
    evaluate,
    load_vrp,
    solve,
)
from app.routing.cvrplib import LONG_SHIFT_S, CvrpInstance  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def default_dir() -> Path:
    env = os.environ.get("KITRUN_CVRPLIB_DIR")
    if env:
        return Path(env)
    sibling = (REPO / ".." / "shared" / "data" / "cvrplib").resolve()
    return sibling if sibling.is_dir() else Path("/work/shared/data/cvrplib")


def plain_vroom(inst: CvrpInstance, n_vehicles: int, level: int, threads: int, timeout: float):
    """The same instance written directly against pyvroom, no wrapper: (cost, seconds)."""
    started = time.perf_counter()
    costs = euc_2d_matrix(inst.coords)
    inp = vroom.Input()
    inp.set_durations_matrix(profile="car", matrix_input=costs)
    inp.set_distances_matrix(profile="car", matrix_input=costs)
    inp.add_vehicle(
        [
            vroom.Vehicle(
                k,
                start=inst.depot,
                end=inst.depot,
                capacity=[inst.capacity],
                time_window=vroom.TimeWindow(0, LONG_SHIFT_S),
            )
            for k in range(n_vehicles)
        ]
    )
    inp.add_job(
        [
            vroom.Job(i, location=i, delivery=[inst.demands[i]])
            for i in range(inst.dimension)
            if i != inst.depot
        ]
    )
    sol = inp.solve(exploration_level=level, nb_threads=threads, timeout=timedelta(seconds=timeout))
    return int(sol.summary.cost), time.perf_counter() - started


def bench_instances(paths: list[Path], level: int, threads: int, timeout: float) -> None:
    best_file = paths[0].parent / "best_known.json" if paths else None
    best = json.loads(best_file.read_text()) if best_file and best_file.exists() else {}
    print(f"CVRPLIB (exploration_level={level}, nb_threads={threads}, timeout={timeout:g} s)")
    header = f"{'instance':<12} {'best':>7} {'ours':>7} {'gap':>7} {'time':>7}"
    print(f"{header} {'plain':>7} {'gap':>7} {'time':>7}  valid")
    for path in paths:
        inst = load_vrp(path)
        problem = cvrp_problem(inst)
        started = time.perf_counter()
        plan = solve(problem, exploration_level=level, nb_threads=threads, timeout_s=timeout)
        ours_s = time.perf_counter() - started
        plain_cost, plain_s = plain_vroom(inst, len(problem.vehicles), level, threads, timeout)
        known = best.get(path.stem, {}).get("best_known_cost")

        def gap(cost: int, known: int | None = known) -> str:
            return f"{100 * (cost - known) / known:+.2f}%" if known else "n/a"

        valid = "ok" if not evaluate(problem, plan) and not plan.unassigned else "INVALID"
        print(
            f"{path.stem:<12} {known or '?':>7} {plan.cost:>7} {gap(plan.cost):>7} "
            f"{ours_s:>6.2f}s {plain_cost:>7} {gap(plain_cost):>7} {plain_s:>6.2f}s  {valid}"
        )


def district(seed: int, radius_km: float, level: int, threads: int, timeout: float) -> None:
    """300 students within `radius_km` of a depot, 6 cars of 60 kits, 08:00-20:00, 5 min each."""
    rng = random.Random(seed)
    depot = (23.70, 120.95)  # an inland point; the figures do not depend on the place
    points = [depot]
    for _ in range(300):
        r_km, bearing = radius_km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        lat = depot[0] + r_km * math.cos(bearing) / 111.32
        lon = depot[1] + r_km * math.sin(bearing) / (111.32 * math.cos(math.radians(depot[0])))
        points.append((lat, lon))
    started = time.perf_counter()
    matrix = GreatCircleProvider().matrix(points)
    matrix_s = time.perf_counter() - started
    problem = Problem(
        vehicles=[
            VehicleSpec(id=k, capacity=60, shift_start=8 * 3600, shift_end=20 * 3600)
            for k in range(1, 7)
        ],
        jobs=[JobSpec(id=i, location_index=i, kits=1, service_s=300) for i in range(1, 301)],
        matrix=matrix,
    )
    plan = solve(problem, exploration_level=level, nb_threads=threads, timeout_s=timeout)
    total = time.perf_counter() - started
    reasons: dict[str, int] = {}
    for item in plan.unassigned:
        reasons[str(item.reason)] = reasons.get(str(item.reason), 0) + 1
    km = sum(r.distance_m for r in plan.routes) / 1000
    valid = "ok" if not evaluate(problem, plan) else "INVALID"
    print(
        f"{radius_km:>6g} km {level:>5} {timeout:>7g}s {matrix_s:>6.2f}s {plan.elapsed_s:>6.2f}s "
        f"{total:>6.2f}s {300 - len(plan.unassigned):>8} {len(plan.unassigned):>10} "
        f"{len(plan.routes):>6} {km:>8,.0f}  {valid} {reasons or ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="*", type=Path)
    parser.add_argument("--level", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--radius", type=float, nargs="+", default=[75, 100])
    parser.add_argument("--district-levels", type=int, nargs="+", default=[0, 5])
    parser.add_argument("--district-timeout", type=float, default=4.5)
    args = parser.parse_args()
    paths = args.instances or sorted(default_dir().glob("*.vrp"))
    bench_instances(paths, args.level, args.threads, args.timeout)
    print(
        "\nDistrict: 300 students (1 kit, 5 min each) within a radius of the depot, "
        "6 cars x 60 kits, 08:00-20:00, great-circle matrix"
    )
    print(
        f"{'radius':>9} {'level':>5} {'timeout':>8} {'matrix':>7} {'solve':>7} {'total':>7} "
        f"{'assigned':>8} {'unassigned':>10} {'routes':>6} {'km':>8}  valid"
    )
    for radius in args.radius:
        for level in args.district_levels:
            district(args.seed, radius, level, args.threads, args.district_timeout)


if __name__ == "__main__":
    main()
