"""Travel matrices from an OSRM server's table service, falling back to great-circle estimates."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from app.routing.matrix import GreatCircleProvider, Matrix, Point


class _OSRMFailure(Exception):
    """The server could not give us a table; the message says why, for a warning."""


@dataclass(frozen=True)
class OSRMProvider:
    """OSRM `table` service client. Never raises on server trouble: it falls back and warns.

    Larger point sets are fetched in blocks of `max_table_size` sources × destinations, which
    is what osrm-routed's `--max-table-size` (default 100) limits.
    """

    base_url: str
    timeout: float = 10.0
    fallback: GreatCircleProvider = field(default_factory=GreatCircleProvider)
    profile: str = "driving"
    max_table_size: int = 100

    def matrix(self, points: list[Point]) -> Matrix:
        """Road matrix for `points` (lat, lon); great-circle with a warning if OSRM fails."""
        n = len(points)
        if n == 0:
            return Matrix(durations=[], distances=[])
        durations: list[list[float | None]] = [[None] * n for _ in range(n)]
        distances: list[list[float | None]] = [[None] * n for _ in range(n)]
        try:
            with httpx.Client(timeout=self.timeout) as client:
                for sources in _blocks(n, self.max_table_size):
                    for destinations in _blocks(n, self.max_table_size):
                        self._fetch_block(
                            client, points, sources, destinations, durations, distances
                        )
        except _OSRMFailure as exc:
            fallback = self.fallback.matrix(points)
            fallback.warnings.append(
                f"OSRM at {self.base_url} failed ({exc}); travel times and distances are "
                f"great-circle estimates (road factor {self.fallback.road_factor}, "
                f"{self.fallback.speed_kmh:g} km/h)."
            )
            return fallback
        return self._assemble(points, durations, distances)

    def _fetch_block(
        self,
        client: httpx.Client,
        points: list[Point],
        sources: range,
        destinations: range,
        durations: list[list[float | None]],
        distances: list[list[float | None]],
    ) -> None:
        whole = len(sources) == len(points) and len(destinations) == len(points)
        if whole:
            indices = list(range(len(points)))
            query = ""
        else:
            indices = list(sources) + list(destinations)
            src = ";".join(str(k) for k in range(len(sources)))
            dst = ";".join(str(len(sources) + k) for k in range(len(destinations)))
            query = f"&sources={src}&destinations={dst}"
        coords = ";".join(f"{points[i][1]:.6f},{points[i][0]:.6f}" for i in indices)
        url = (
            f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coords}"
            f"?annotations=duration,distance{query}"
        )
        try:
            response = client.get(url)
        except httpx.HTTPError as exc:
            raise _OSRMFailure(f"unreachable: {type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise _OSRMFailure(f"HTTP {response.status_code}, not JSON") from exc
        if not isinstance(body, dict) or body.get("code") != "Ok":
            code = body.get("code") if isinstance(body, dict) else None
            message = body.get("message", "") if isinstance(body, dict) else ""
            raise _OSRMFailure(f"HTTP {response.status_code}, code {code!r} {message}".strip())
        table_d, table_m = body.get("durations"), body.get("distances")
        if not _shape_ok(table_d, len(sources), len(destinations)) or not _shape_ok(
            table_m, len(sources), len(destinations)
        ):
            raise _OSRMFailure("answer lacks a durations/distances table of the expected shape")
        for a, i in enumerate(sources):
            for b, j in enumerate(destinations):
                durations[i][j] = _number(table_d[a][b])
                distances[i][j] = _number(table_m[a][b])

    def _assemble(
        self,
        points: list[Point],
        durations: list[list[float | None]],
        distances: list[list[float | None]],
    ) -> Matrix:
        n = len(points)
        out_d = [[0] * n for _ in range(n)]
        out_m = [[0] * n for _ in range(n)]
        missing = 0
        for i in range(n):
            for j in range(n):
                d, m = durations[i][j], distances[i][j]
                if d is None or m is None:
                    # OSRM answers null for pairs it cannot route (e.g. a point on an island).
                    missing += 1
                    d, m = self.fallback.pair(points[i], points[j])
                out_d[i][j], out_m[i][j] = round(d), round(m)
        warnings = []
        if missing:
            warnings.append(
                f"OSRM at {self.base_url} found no route for {missing} of {n * n} pairs; "
                "those use great-circle estimates."
            )
        return Matrix(durations=out_d, distances=out_m, warnings=warnings)


def _blocks(n: int, size: int) -> list[range]:
    size = max(1, size)
    return [range(start, min(n, start + size)) for start in range(0, n, size)]


def _shape_ok(table: object, rows: int, cols: int) -> bool:
    return (
        isinstance(table, list)
        and len(table) == rows
        and all(isinstance(row, list) and len(row) == cols for row in table)
    )


def _number(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _OSRMFailure(f"non-numeric table entry {value!r}")
    if value < 0:
        raise _OSRMFailure(f"negative table entry {value!r}")
    return float(value)
