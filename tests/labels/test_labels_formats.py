"""Sheet geometry: cells match the published specs, fit the page and never overlap."""

import itertools

import pytest
from labels_helpers import MM

from labels import FORMATS, LabelError, cell_rect, get_format, qr_rect
from labels.qr import QUIET_ZONE, qr_size_for

SPEC_MM = {  # cols, rows, label w, h, top, left, pitch x, y (mm); page size (mm)
    "L7160": (3, 7, 63.5, 38.1, 15.15, 7.2, 66.0, 38.1, (210, 297)),
    "L7163": (2, 7, 99.1, 38.1, 15.15, 4.65, 101.6, 38.1, (210, 297)),
    "5160": (3, 10, 66.675, 25.4, 12.7, 4.7625, 69.85, 25.4, (215.9, 279.4)),
    "thermal-4x6": (1, 1, 101.6, 152.4, 0, 0, 101.6, 152.4, (101.6, 152.4)),
}


@pytest.mark.parametrize("format_id", FORMATS)
def test_format_matches_spec(format_id: str) -> None:
    fmt = FORMATS[format_id]
    cols, rows, w, h, top, left, px, py, (pw, ph) = SPEC_MM[format_id]
    assert (fmt.cols, fmt.rows) == (cols, rows)
    got = (fmt.label_w, fmt.label_h, fmt.top, fmt.left, fmt.pitch_x, fmt.pitch_y)
    assert [round(v / MM, 3) for v in got] == pytest.approx([w, h, top, left, px, py], abs=0.01)
    assert (round(fmt.page_w / MM, 1), round(fmt.page_h / MM, 1)) == (pw, ph)


@pytest.mark.parametrize("format_id", FORMATS)
def test_cells_on_page_and_disjoint(format_id: str) -> None:
    fmt = FORMATS[format_id]
    cells = [cell_rect(fmt, p) for p in range(1, fmt.cells + 1)]
    for c in cells:
        assert c.x >= 0 and c.x + c.w <= fmt.page_w + 1e-6
        assert c.y >= 0 and c.y + c.h <= fmt.page_h + 1e-6
    for a, b in itertools.combinations(cells, 2):
        overlap_x = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
        overlap_y = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
        assert overlap_x <= 1e-6 or overlap_y <= 1e-6
    first = cells[0]  # position 1 is top left
    assert first.x == pytest.approx(fmt.left)
    assert first.y + first.h == pytest.approx(fmt.page_h - fmt.top)


@pytest.mark.parametrize("format_id", FORMATS)
def test_qr_inside_cell_and_at_least_18mm_where_it_fits(format_id: str) -> None:
    fmt = FORMATS[format_id]
    token = "x" * 22
    for position in (1, fmt.cells):
        cell = cell_rect(fmt, position)
        q = qr_rect(fmt, cell)
        assert cell.x <= q.x and q.x + q.w <= cell.x + cell.w
        assert cell.y <= q.y and q.y + q.h <= cell.y + cell.h
        module, across = qr_size_for(q.w, token)
        symbol_mm = module * (across - 2 * QUIET_ZONE) / MM
        assert symbol_mm >= 18.0, f"{format_id}: QR symbol only {symbol_mm:.1f} mm"


def test_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(LabelError, match=r"unknown label format 'L9999'.*L7160.*thermal-4x6"):
        get_format("L9999")


@pytest.mark.parametrize("position", [0, 22, -1])
def test_cell_off_sheet(position: int) -> None:
    with pytest.raises(LabelError, match="off the L7160 sheet"):
        cell_rect("L7160", position)
