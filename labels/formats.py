"""Label sheet geometry: the sheets we print on, and where each label cell lies."""

from dataclasses import dataclass
from typing import NamedTuple

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import inch, mm

from labels.errors import LabelError


class Rect(NamedTuple):
    """A rectangle in PDF points, origin at the bottom-left of the page."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class SheetFormat:
    """One label sheet: page size, grid, label size, margins and pitches, all in points."""

    id: str
    description: str
    page_w: float
    page_h: float
    cols: int
    rows: int
    label_w: float
    label_h: float
    top: float
    left: float
    pitch_x: float
    pitch_y: float
    layout: str = "side"  # "side": QR left of the text; "stacked": QR above the text

    @property
    def cells(self) -> int:
        """Number of labels on one sheet."""
        return self.cols * self.rows

    @property
    def pagesize(self) -> tuple[float, float]:
        return (self.page_w, self.page_h)


FORMATS: dict[str, SheetFormat] = {
    "L7160": SheetFormat(
        "L7160", "Avery L7160, A4, 3 x 7, 63.5 x 38.1 mm", *A4,
        cols=3, rows=7, label_w=63.5 * mm, label_h=38.1 * mm,
        top=15.15 * mm, left=7.2 * mm, pitch_x=66.0 * mm, pitch_y=38.1 * mm,
    ),
    "L7163": SheetFormat(
        "L7163", "Avery L7163, A4, 2 x 7, 99.1 x 38.1 mm", *A4,
        cols=2, rows=7, label_w=99.1 * mm, label_h=38.1 * mm,
        top=15.15 * mm, left=4.65 * mm, pitch_x=101.6 * mm, pitch_y=38.1 * mm,
    ),
    "5160": SheetFormat(
        "5160", "Avery 5160, Letter, 3 x 10, 2.625 x 1 in", *LETTER,
        cols=3, rows=10, label_w=2.625 * inch, label_h=1 * inch,
        top=0.5 * inch, left=0.1875 * inch, pitch_x=2.75 * inch, pitch_y=1 * inch,
    ),
    "thermal-4x6": SheetFormat(
        "thermal-4x6", "Thermal 4 x 6 in, one label a page", 4 * inch, 6 * inch,
        cols=1, rows=1, label_w=4 * inch, label_h=6 * inch,
        top=0, left=0, pitch_x=4 * inch, pitch_y=6 * inch, layout="stacked",
    ),
}  # fmt: skip


def get_format(format_id: str) -> SheetFormat:
    """Return the sheet format for an id, or raise LabelError naming the known ids."""
    try:
        return FORMATS[format_id]
    except (KeyError, TypeError):
        known = ", ".join(FORMATS)
        raise LabelError(f"unknown label format {format_id!r}; known formats: {known}") from None


def cell_rect(fmt: SheetFormat | str, position: int) -> Rect:
    """Rectangle of label `position` (1-based, row by row from the top left) in PDF points."""
    if isinstance(fmt, str):
        fmt = get_format(fmt)
    if not 1 <= position <= fmt.cells:
        raise LabelError(f"position {position} is off the {fmt.id} sheet (1..{fmt.cells})")
    row, col = divmod(position - 1, fmt.cols)
    x = fmt.left + col * fmt.pitch_x
    y = fmt.page_h - fmt.top - row * fmt.pitch_y - fmt.label_h
    return Rect(x, y, fmt.label_w, fmt.label_h)
