"""Plain data in and out of the optimiser. Times are integer seconds, e.g. since midnight."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.routing.matrix import Matrix

Id = int | str
"""Caller's identifier for a vehicle or a job; mapped to VROOM's integers internally."""


class RoutingError(ValueError):
    """The problem is malformed; the message names the offending vehicle, job or field."""


class Reason(StrEnum):
    """Why a job was left unassigned, most specific first."""

    CAPACITY = "capacity"
    SHIFT = "shift"
    TIME_WINDOW = "time_window"
    MAX_STOPS = "max_stops"
    NO_ROOM_LEFT = "no_room_left"


@dataclass
class VehicleSpec:
    """A car: `capacity` kits, working from `shift_start` to `shift_end` at the depot."""

    id: Id
    capacity: int
    shift_start: int
    shift_end: int
    max_stops: int | None = None


@dataclass
class JobSpec:
    """A delivery of `kits` kits at matrix index `location_index`.

    `time_windows` are (earliest, latest) service starts; empty means any time in the shift.
    `priority` (0..100) makes VROOM prefer the job when not everything fits.
    """

    id: Id
    location_index: int
    kits: int = 1
    service_s: int = 0
    time_windows: list[tuple[int, int]] = field(default_factory=list)
    priority: int = 0


@dataclass(kw_only=True)
class Problem:
    """Vehicles leave from and return to `depot_index`.

    `fixed` locks stops: for a vehicle id, the listed job ids are served by that vehicle first,
    in that order, before anything the optimiser adds.
    """

    vehicles: list[VehicleSpec]
    jobs: list[JobSpec]
    matrix: Matrix
    depot_index: int = 0
    fixed: dict[Id, list[Id]] = field(default_factory=dict)


@dataclass
class PlannedStop:
    """One delivery on a route; `distance_m` and `duration_s` (travel) are cumulative."""

    job_id: Id
    seq: int
    location_index: int
    arrival_s: int
    waiting_s: int
    service_s: int
    distance_m: int
    duration_s: int
    locked: bool = False

    @property
    def departure_s(self) -> int:
        """When the car leaves this stop."""
        return self.arrival_s + self.waiting_s + self.service_s


@dataclass
class RoutePlan:
    """One vehicle's tour: depot → stops → depot. `duration_s` is total travel time."""

    vehicle_id: Id
    stops: list[PlannedStop]
    distance_m: int
    duration_s: int
    kits: int
    start_s: int
    end_s: int


@dataclass
class Unassigned:
    """A job no vehicle takes; `reason` is a `Reason` value, `detail` a sentence for people."""

    job_id: Id
    reason: str
    detail: str = ""


@dataclass
class Plan:
    """The optimiser's answer. `cost` is total travel time in seconds (VROOM's objective)."""

    routes: list[RoutePlan]
    unassigned: list[Unassigned]
    cost: int
    elapsed_s: float
    warnings: list[str] = field(default_factory=list)
