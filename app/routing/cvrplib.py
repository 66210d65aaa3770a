"""CVRPLIB / TSPLIB `.vrp` instances, so the optimiser can be measured on standard benchmarks."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from app.routing.matrix import Matrix
from app.routing.model import JobSpec, Problem, RoutingError, VehicleSpec

# CVRP has no time limits; a shift this long never binds.
LONG_SHIFT_S = 10**9


@dataclass
class CvrpInstance:
    """A capacitated VRP instance; node lists are 0-based (TSPLIB node k is index k - 1)."""

    name: str
    capacity: int
    coords: list[tuple[float, float]]
    demands: list[int]
    depot: int
    edge_weight_type: str = "EUC_2D"
    comment: str = ""

    @property
    def dimension(self) -> int:
        """Number of nodes, depot included."""
        return len(self.coords)

    @property
    def min_vehicles(self) -> int | None:
        """The `k` in a name like A-n32-k5: the fewest vehicles any solution needs."""
        match = re.search(r"-k(\d+)", self.name)
        return int(match.group(1)) if match else None


def parse_vrp(text: str) -> CvrpInstance:
    """Parse TSPLIB CVRP text (NODE_COORD_SECTION, DEMAND_SECTION, DEPOT_SECTION, EUC_2D)."""
    header: dict[str, str] = {}
    coords: dict[int, tuple[float, float]] = {}
    demands: dict[int, int] = {}
    depots: list[int] = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == "EOF":
            break
        word = line.split()[0]
        if word.endswith("_SECTION"):
            section = word
            continue
        if re.match(r"^[A-Z_]+\s*:", line):
            key, _, value = line.partition(":")
            header[key.strip().upper()] = value.strip()
            section = None
            continue
        fields = line.split()
        if section == "NODE_COORD_SECTION":
            coords[int(fields[0])] = (float(fields[1]), float(fields[2]))
        elif section == "DEMAND_SECTION":
            demands[int(fields[0])] = int(fields[1])
        elif section == "DEPOT_SECTION":
            node = int(fields[0])
            if node != -1:
                depots.append(node)
        else:
            raise RoutingError(f"unexpected line in .vrp data: {raw!r}")

    dimension = int(header.get("DIMENSION", len(coords)))
    weight_type = header.get("EDGE_WEIGHT_TYPE", "EUC_2D")
    if weight_type != "EUC_2D":
        raise RoutingError(f"EDGE_WEIGHT_TYPE {weight_type} is not supported (only EUC_2D)")
    if "CAPACITY" not in header:
        raise RoutingError("instance has no CAPACITY")
    nodes = list(range(1, dimension + 1))
    missing = [k for k in nodes if k not in coords or k not in demands]
    if missing:
        raise RoutingError(f"nodes {missing[:5]} lack coordinates or demand")
    if len(depots) != 1:
        raise RoutingError(f"expected one depot in DEPOT_SECTION, found {depots}")
    return CvrpInstance(
        name=header.get("NAME", ""),
        capacity=int(header["CAPACITY"]),
        coords=[coords[k] for k in nodes],
        demands=[demands[k] for k in nodes],
        depot=depots[0] - 1,
        edge_weight_type=weight_type,
        comment=header.get("COMMENT", ""),
    )


def load_vrp(path: str | Path) -> CvrpInstance:
    """Read and parse a `.vrp` file."""
    return parse_vrp(Path(path).read_text())


def euc_2d_matrix(coords: list[tuple[float, float]]) -> list[list[int]]:
    """TSPLIB EUC_2D: Euclidean distance rounded to the nearest integer, `int(d + 0.5)`."""
    return [[int(math.hypot(ax - bx, ay - by) + 0.5) for bx, by in coords] for ax, ay in coords]


def cvrp_problem(instance: CvrpInstance, n_vehicles: int | None = None) -> Problem:
    """A Problem equivalent to the instance: one job per customer, identical vehicles.

    CVRP allows any number of vehicles; by default we give the `k` of the name plus a few
    spare (or enough for the total demand), which is never the binding constraint.
    """
    customers = [i for i in range(instance.dimension) if i != instance.depot]
    if n_vehicles is None:
        by_demand = math.ceil(sum(instance.demands) / instance.capacity)
        n_vehicles = max(by_demand, instance.min_vehicles or 0) + 3
    vehicles = [
        VehicleSpec(id=k + 1, capacity=instance.capacity, shift_start=0, shift_end=LONG_SHIFT_S)
        for k in range(n_vehicles)
    ]
    jobs = [JobSpec(id=i + 1, location_index=i, kits=instance.demands[i]) for i in customers]
    return Problem(
        vehicles=vehicles,
        jobs=jobs,
        matrix=Matrix.from_costs(euc_2d_matrix(instance.coords)),
        depot_index=instance.depot,
    )
