"""Vehicle-routing core: travel matrices, the VROOM optimiser, plan checks, CVRPLIB loading.

Pure Python plus pyvroom and httpx; no database, no web framework.
"""

from app.routing.cvrplib import CvrpInstance, cvrp_problem, euc_2d_matrix, load_vrp, parse_vrp
from app.routing.evaluate import evaluate
from app.routing.matrix import GreatCircleProvider, Matrix, MatrixProvider, Point, haversine_m
from app.routing.model import (
    JobSpec,
    Plan,
    PlannedStop,
    Problem,
    Reason,
    RoutePlan,
    RoutingError,
    Unassigned,
    VehicleSpec,
)
from app.routing.optimise import solve
from app.routing.osrm import OSRMProvider

__all__ = [
    "CvrpInstance",
    "GreatCircleProvider",
    "JobSpec",
    "Matrix",
    "MatrixProvider",
    "OSRMProvider",
    "Plan",
    "PlannedStop",
    "Point",
    "Problem",
    "Reason",
    "RoutePlan",
    "RoutingError",
    "Unassigned",
    "VehicleSpec",
    "cvrp_problem",
    "euc_2d_matrix",
    "evaluate",
    "haversine_m",
    "load_vrp",
    "parse_vrp",
    "solve",
]
