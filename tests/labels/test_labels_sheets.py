"""Label sheets: every QR decodes where the geometry says, Chinese is embedded and extractable."""

import io
from dataclasses import replace
from pathlib import Path

import pytest
import zxingcpp
from labels_helpers import (
    MM,
    darkest,
    ink_outside,
    pdf_fonts,
    pdf_text,
    pixel_box,
    rasterise,
)
from pypdf import PdfReader

from labels import FORMATS, LabelError, cell_rect, qr_rect, render_labels, sample_labels
from labels.qr import QUIET_ZONE, qr_size_for
from labels.sheet import plan_pages

DPI = 300
PX_PER_MM = DPI / 25.4


def _case(format_id: str) -> tuple[int, int]:
    """(labels, start): more than a page, from a partly used first sheet."""
    fmt = FORMATS[format_id]
    return (3, 1) if fmt.cells == 1 else (fmt.cells + 4, 3)


@pytest.fixture(scope="module", params=list(FORMATS))
def rendered(request, tmp_path_factory):
    format_id = request.param
    n, start = _case(format_id)
    labels = sample_labels(n, seed=hash(format_id) % 1000)
    pdf = render_labels(labels, format_id, start=start)
    tmp = tmp_path_factory.mktemp(format_id)
    return format_id, labels, start, pdf, rasterise(pdf, tmp, DPI), tmp


def test_every_qr_decodes_in_its_cell_at_the_specified_place(rendered) -> None:
    format_id, labels, start, _, pages, _ = rendered
    fmt = FORMATS[format_id]
    plan = list(plan_pages(fmt, labels, start))
    assert len(pages) == len(plan) >= 2
    assert plan[0][0][0] == start
    decoded = 0
    for image, page in zip(pages, plan, strict=True):
        for position, label in page:
            cell = cell_rect(fmt, position)
            box = pixel_box(cell, fmt.page_h, DPI)
            results = zxingcpp.read_barcodes(image.crop(box), formats=zxingcpp.BarcodeFormat.QRCode)
            assert [r.text for r in results] == [label.token], f"position {position}"
            # The symbol's top-left corner, relative to the cell, as the layout specifies.
            q = qr_rect(fmt, cell)
            module, _ = qr_size_for(q.w, label.token)
            quiet = module * QUIET_ZONE
            want_x = (q.x + quiet - cell.x) / MM
            want_y = (cell.y + cell.h - (q.y + q.h - quiet)) / MM
            corner = results[0].position.top_left
            assert corner.x / PX_PER_MM == pytest.approx(want_x, abs=0.5)
            assert corner.y / PX_PER_MM == pytest.approx(want_y, abs=0.5)
            decoded += 1
    assert decoded == len(labels)


def test_cells_before_start_are_blank(rendered) -> None:
    format_id, _, start, _, pages, _ = rendered
    fmt = FORMATS[format_id]
    for position in range(1, start):
        box = pixel_box(cell_rect(fmt, position), fmt.page_h, DPI)
        assert darkest(pages[0], box) == 255


def test_nothing_drawn_outside_the_cells_nor_in_their_edge_band(rendered) -> None:
    format_id, _, _, _, pages, _ = rendered
    fmt = FORMATS[format_id]
    band = round(0.4 * PX_PER_MM)  # every style insets its content by >= 0.5 mm
    allowed = []
    for position in range(1, fmt.cells + 1):
        left, top, right, bottom = pixel_box(cell_rect(fmt, position), fmt.page_h, DPI)
        allowed.append((left + band, top + band, right - band, bottom - band))
    assert ink_outside(pages[1], allowed) is None


def test_chinese_names_extract_and_cjk_font_is_embedded_subset(rendered) -> None:
    _, labels, _, pdf, _, tmp = rendered
    text = "".join(pdf_text(pdf, tmp))
    for label in labels:
        assert label.name_zh in text
        assert label.short_code in text
    rows = pdf_fonts(pdf, tmp)
    cjk = [r for r in rows if "WenQuanYi" in r[0] or "Kitrun" in r[0]]
    assert cjk, rows
    for row in rows:  # every font, CJK and the mono one for codes: emb yes, sub yes
        emb, sub = row[-5], row[-4]
        assert (emb, sub) == ("yes", "yes"), row


def test_long_text_is_shrunk_then_ellipsised_inside_its_cell(tmp_path: Path) -> None:
    long = replace(
        sample_labels(1)[0],
        name_zh="欧阳" + "诸葛静怡" * 12,
        name_latin="OUYANG " + "Jingyi-Zixuan " * 10,
        school="北京市第一中学国际部高中二年级实验班 " * 5,
        destination="Pickup 北楼大厅 North Hall entrance behind the library · Sat 9:00" * 3,
        contents="Kit B: 20 masks, hand gel, 10 antigen tests, vitamin C, " * 6,
    )
    for format_id in FORMATS:
        fmt = FORMATS[format_id]
        pdf = render_labels([long] * fmt.cells, format_id)
        page = rasterise(pdf, tmp_path, 150, name=format_id)[0]
        allowed = []
        for position in range(1, fmt.cells + 1):
            left, top, right, bottom = pixel_box(cell_rect(fmt, position), fmt.page_h, 150)
            allowed.append((left + 2, top + 2, right - 2, bottom - 2))
        assert ink_outside(page, allowed) is None, format_id
        text = pdf_text(pdf, tmp_path, name=f"t{format_id}")[0]
        assert "…" in text
        assert "欧阳诸葛" in text
        assert zxingcpp.read_barcodes(page.crop(pixel_box(cell_rect(fmt, 1), fmt.page_h, 150)))


@pytest.mark.slow
def test_chunks_merge_into_one_pdf_and_stream_out(tmp_path: Path) -> None:
    labels = sample_labels(21 * 5 + 2)
    seen: list[tuple[int, int]] = []
    out = io.BytesIO()
    result = render_labels(
        labels, "L7160", out=out, chunk_pages=2, progress=lambda d, t: seen.append((d, t))
    )
    assert result is None
    reader = PdfReader(io.BytesIO(out.getvalue()))
    assert len(reader.pages) == 6
    assert [d for d, _ in seen] == [21, 42, 63, 84, 105, 107]
    assert {t for _, t in seen} == {107}
    assert labels[-1].name_zh in reader.pages[5].extract_text()
    # The merged file rasterises, decodes, and keeps its fonts embedded.
    last = rasterise(out.getvalue(), tmp_path, DPI)[-1]
    fmt = FORMATS["L7160"]
    box = pixel_box(cell_rect(fmt, 2), fmt.page_h, DPI)
    assert [
        r.text
        for r in zxingcpp.read_barcodes(last.crop(box), formats=zxingcpp.BarcodeFormat.QRCode)
    ] == [labels[-1].token]
    for row in pdf_fonts(out.getvalue(), tmp_path):
        assert (row[-5], row[-4]) == ("yes", "yes"), row


def test_generator_input_is_accepted() -> None:
    pdf = render_labels((label for label in sample_labels(3)), "5160")
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format_id": "A4-3x8"}, "unknown label format 'A4-3x8'"),
        (
            {"format_id": "L7160", "start": 0},
            r"start position 0 is off the L7160 sheet: use 1\.\.21",
        ),
        ({"format_id": "L7160", "start": 22}, "start position 22 is off"),
        ({"format_id": "5160", "start": 31}, r"use 1\.\.30"),
        ({"format_id": "thermal-4x6", "start": 2}, r"use 1\.\.1"),
        ({"format_id": "L7163", "start": "3"}, "start position '3'"),
    ],
)
def test_bad_format_or_start(kwargs: dict, message: str) -> None:
    with pytest.raises(LabelError, match=message):
        render_labels(sample_labels(2), **kwargs)


def test_empty_label_list() -> None:
    with pytest.raises(LabelError, match="no labels to render"):
        render_labels([], "L7160")


def test_only_the_short_code_is_stroked() -> None:
    """Text render mode 2 (fill + stroke, for a heavier code) must not leak to other lines."""
    pdf = render_labels(sample_labels(3), "L7163")
    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data().decode("latin-1")
    assert content.count("2 Tr") == 3
    for chunk in content.split("2 Tr")[1:]:
        first_text_end = chunk.index("ET")
        assert chunk.index("Q", first_text_end) < chunk.index("BT")
