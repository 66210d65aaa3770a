"""Small typed factories for routing tests."""

from __future__ import annotations

import os
from pathlib import Path

from app.routing import JobSpec, Matrix, Problem, VehicleSpec

REPO = Path(__file__).resolve().parents[2]


def cvrplib_dir() -> Path:
    """KITRUN_CVRPLIB_DIR, else <repo>/../shared/data/cvrplib, else /work/shared/data/cvrplib."""
    env = os.environ.get("KITRUN_CVRPLIB_DIR")
    if env:
        return Path(env)
    sibling = (REPO / ".." / "shared" / "data" / "cvrplib").resolve()
    return sibling if sibling.is_dir() else Path("/work/shared/data/cvrplib")


def line_matrix(n: int, step: int = 100) -> Matrix:
    """Locations on a line `step` seconds (and step*10 metres) apart; index 0 is the depot."""
    return Matrix(
        durations=[[abs(i - j) * step for j in range(n)] for i in range(n)],
        distances=[[abs(i - j) * step * 10 for j in range(n)] for i in range(n)],
    )


def vehicle(
    id: int | str = 1,
    capacity: int = 10,
    shift: tuple[int, int] = (0, 100_000),
    max_stops: int | None = None,
) -> VehicleSpec:
    return VehicleSpec(
        id=id, capacity=capacity, shift_start=shift[0], shift_end=shift[1], max_stops=max_stops
    )


def problem(
    n: int = 6,
    vehicles: list[VehicleSpec] | None = None,
    jobs: list[JobSpec] | None = None,
    **kwargs: object,
) -> Problem:
    """A line of `n` locations, one 1-kit job at each non-depot location by default."""
    return Problem(
        vehicles=vehicles if vehicles is not None else [vehicle()],
        jobs=jobs if jobs is not None else [JobSpec(id=i, location_index=i) for i in range(1, n)],
        matrix=line_matrix(n),
        **kwargs,
    )
