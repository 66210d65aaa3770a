"""Travel-cost matrices: the data type, the provider protocol and the great-circle default."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

# Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8

Point = tuple[float, float]
"""A location as (latitude, longitude) in degrees."""


@dataclass
class Matrix:
    """Square travel matrices: integer `durations` (seconds) and `distances` (metres)."""

    durations: list[list[int]]
    distances: list[list[int]]
    warnings: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Number of locations."""
        return len(self.durations)

    @classmethod
    def from_costs(cls, costs: list[list[int]]) -> Matrix:
        """Use one plain cost matrix as both durations and distances (benchmarks, CVRPLIB)."""
        rows = [list(row) for row in costs]
        return cls(durations=rows, distances=[list(row) for row in rows])


class MatrixProvider(Protocol):
    """Anything that turns (lat, lon) points into a travel matrix."""

    def matrix(self, points: list[Point]) -> Matrix:
        """Travel matrix between every pair of `points`, in the given order."""
        ...


def haversine_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres between two (lat, lon) points."""
    lat1, lon1 = math.radians(a[0]), math.radians(a[1])
    lat2, lon2 = math.radians(b[0]), math.radians(b[1])
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class GreatCircleProvider:
    """Haversine distance times a road factor; time from an average speed. Needs no network."""

    road_factor: float = 1.3
    speed_kmh: float = 60.0

    def __post_init__(self) -> None:
        if self.road_factor <= 0:
            raise ValueError(f"road_factor must be positive, got {self.road_factor}")
        if self.speed_kmh <= 0:
            raise ValueError(f"speed_kmh must be positive, got {self.speed_kmh}")

    def pair(self, a: Point, b: Point) -> tuple[int, int]:
        """(duration_s, distance_m) from `a` to `b`."""
        road_m = haversine_m(a, b) * self.road_factor
        return round(road_m / (self.speed_kmh / 3.6)), round(road_m)

    def matrix(self, points: list[Point]) -> Matrix:
        """Great-circle matrix; symmetric, zero on the diagonal."""
        n = len(points)
        durations = [[0] * n for _ in range(n)]
        distances = [[0] * n for _ in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                duration, distance = self.pair(points[i], points[j])
                durations[i][j] = durations[j][i] = duration
                distances[i][j] = distances[j][i] = distance
        return Matrix(durations=durations, distances=distances)
