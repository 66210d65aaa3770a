"""Overview map of a vehicle's route drawn from coordinates: no tiles, equirectangular."""

import math
from dataclasses import dataclass

from reportlab.platypus import Flowable

from labels.data import RouteSheet, VehicleRoute

EARTH_KM = 6371.0088
NICE_STEPS = (1, 2, 5)


@dataclass(frozen=True)
class MapProjection:
    """Depot and stop positions in points within a width x height box, and its scale."""

    width: float
    height: float
    depot: tuple[float, float]
    stops: list[tuple[int, float, float]]  # (seq, x, y)
    pt_per_km: float


def project_route(
    sheet: RouteSheet, vehicle: VehicleRoute, width: float, height: float, margin: float = 14
) -> MapProjection:
    """Project depot and stops (equirectangular about their mean latitude) into the box."""
    points = [(sheet.depot_lat, sheet.depot_lon)] + [(s.lat, s.lon) for s in vehicle.stops]
    lat0 = math.radians(sum(p[0] for p in points) / len(points))
    km = [
        (EARTH_KM * math.radians(lon) * math.cos(lat0), EARTH_KM * math.radians(lat))
        for lat, lon in points
    ]
    xs, ys = [p[0] for p in km], [p[1] for p in km]
    span_x = max(max(xs) - min(xs), 0.1)  # a single point still gets a 100 m wide view
    span_y = max(max(ys) - min(ys), 0.1)
    scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    placed = [(width / 2 + (x - cx) * scale, height / 2 + (y - cy) * scale) for x, y in km]
    stops = [(s.seq, x, y) for s, (x, y) in zip(vehicle.stops, placed[1:], strict=True)]
    return MapProjection(width, height, placed[0], stops, scale)


def nice_km(target: float) -> float:
    """Largest 1, 2 or 5 times a power of ten not above `target` km."""
    power = 10 ** math.floor(math.log10(target))
    return max(step * power for step in NICE_STEPS if step * power <= target)


class RouteMap(Flowable):
    """The route polyline from the depot through numbered stops and back, with scale and N."""

    def __init__(
        self,
        sheet: RouteSheet,
        vehicle: VehicleRoute,
        width: float,
        height: float,
        font: str,
        *,
        depot: str = "Depot",
        north: str = "N",
    ) -> None:
        super().__init__()
        self.width, self.height, self.font = width, height, font
        self.depot_label, self.north = depot, north
        self.projection = project_route(sheet, vehicle, width, height)
        self.origin: tuple[int, float, float] | None = None  # page, x, y once drawn

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c, p = self.canv, self.projection
        ax, ay = c.absolutePosition(0, 0)
        self.origin = (c.getPageNumber(), ax, ay)
        c.saveState()
        c.setStrokeGray(0.6)
        c.setLineWidth(0.5)
        c.rect(0, 0, self.width, self.height)
        if p.stops:
            path = c.beginPath()
            path.moveTo(*p.depot)
            for _, x, y in p.stops:
                path.lineTo(x, y)
            c.setStrokeColorRGB(0.1, 0.35, 0.75)
            c.setLineWidth(1)
            c.drawPath(path)
            c.setDash(3, 2)  # the way back to the depot
            c.line(p.stops[-1][1], p.stops[-1][2], *p.depot)
            c.setDash()
        size = 5.5 if len(p.stops) > 60 else 7
        c.setFont(self.font, size)
        for seq, x, y in p.stops:
            c.setFillGray(1)
            c.setStrokeColorRGB(0.1, 0.35, 0.75)
            c.circle(x, y, size * 0.45, stroke=1, fill=1)
            c.setFillGray(0)
            c.drawString(x + size * 0.6, y + size * 0.2, str(seq))
        dx, dy = p.depot
        c.setFillColorRGB(0.8, 0.1, 0.1)
        c.rect(dx - 4, dy - 4, 8, 8, stroke=0, fill=1)
        label = self.depot_label
        c.setFillGray(1)  # keep the depot's name readable over the route lines
        c.rect(dx + 5, dy - 5, c.stringWidth(label, self.font, 8) + 2, 10, stroke=0, fill=1)
        c.setFillGray(0)
        c.setFont(self.font, 8)
        c.drawString(dx + 6, dy - 3, label)
        self._scale_bar()
        self._north_arrow()
        c.restoreState()

    def _scale_bar(self) -> None:
        c = self.canv
        km = nice_km(self.width * 0.25 / self.projection.pt_per_km)
        length = km * self.projection.pt_per_km
        x, y = 10, 10
        c.setStrokeGray(0)
        c.setLineWidth(1.5)
        c.line(x, y, x + length, y)
        c.setLineWidth(0.8)
        c.line(x, y - 3, x, y + 3)
        c.line(x + length, y - 3, x + length, y + 3)
        c.setFont(self.font, 7)
        c.drawString(x, y + 4, f"{km:g} km")

    def _north_arrow(self) -> None:
        c = self.canv
        x, y = self.width - 16, self.height - 30
        path = c.beginPath()
        path.moveTo(x, y + 18)
        path.lineTo(x - 5, y)
        path.lineTo(x, y + 5)
        path.lineTo(x + 5, y)
        path.close()
        c.setFillGray(0)
        c.drawPath(path, stroke=0, fill=1)
        c.setFont(self.font, 8)
        c.drawCentredString(x, y + 20, self.north)
