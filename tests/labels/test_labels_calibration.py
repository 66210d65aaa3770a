"""Calibration page: one outline per label cell, each on the cell's edge, each numbered."""

from pathlib import Path

import pytest
from labels_helpers import darkest, pdf_text, pixel_box, rasterise
from PIL import Image

from labels import FORMATS, LabelError, cell_rect, render_calibration

DPI = 150


def _dark(image: Image.Image, box: tuple[int, int, int, int]) -> bool:
    return darkest(image, box) < 128


@pytest.mark.parametrize("format_id", FORMATS)
def test_every_cell_is_outlined_and_numbered(format_id: str, tmp_path: Path) -> None:
    fmt = FORMATS[format_id]
    pdf = render_calibration(format_id)
    pages = rasterise(pdf, tmp_path, DPI)
    assert len(pages) == 1
    page = pages[0]
    outlined = 0
    for position in range(1, fmt.cells + 1):
        left, top, right, bottom = pixel_box(cell_rect(fmt, position), fmt.page_h, DPI)
        mid_x, mid_y = (left + right) // 2, (top + bottom) // 2
        edges = [
            (mid_x - 5, top, mid_x + 5, top + 2),  # top edge, within 2 px of the cell's
            (mid_x - 5, bottom - 2, mid_x + 5, bottom),
            (left, mid_y - 5, left + 2, mid_y + 5),
            (right - 2, mid_y - 5, right, mid_y + 5),
        ]
        inside = (left + 4, top + 4, left + (right - left) // 5, top + (bottom - top) // 5)
        if all(_dark(page, e) for e in edges) and not _dark(page, inside):
            outlined += 1
    assert outlined == fmt.cells
    numbers = pdf_text(pdf, tmp_path)[0].split()
    assert {str(n) for n in range(1, fmt.cells + 1)} <= set(numbers)
    assert "100" in " ".join(numbers)  # "Print at 100 %"


def test_calibration_unknown_format() -> None:
    with pytest.raises(LabelError, match="unknown label format"):
        render_calibration("L7651")
