"""Pure PDF rendering of kit labels and route sheets: plain data in, PDF bytes out."""

from labels.data import (
    CalibrationTexts,
    LabelData,
    RouteSheet,
    RouteTexts,
    Stop,
    VehicleRoute,
    sample_labels,
    sample_route,
)
from labels.errors import LabelError
from labels.fonts import cjk_fonts
from labels.formats import FORMATS, Rect, SheetFormat, cell_rect, get_format
from labels.route import PlacedQR, RouteLayout, render_route_sheets
from labels.routemap import MapProjection, project_route
from labels.sheet import qr_rect, render_calibration, render_labels

__all__ = [
    "FORMATS",
    "CalibrationTexts",
    "LabelData",
    "LabelError",
    "MapProjection",
    "PlacedQR",
    "Rect",
    "RouteLayout",
    "RouteSheet",
    "RouteTexts",
    "SheetFormat",
    "Stop",
    "VehicleRoute",
    "cell_rect",
    "cjk_fonts",
    "get_format",
    "qr_rect",
    "render_calibration",
    "project_route",
    "render_labels",
    "render_route_sheets",
    "sample_labels",
    "sample_route",
]
