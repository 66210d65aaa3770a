"""Label sheets: QR, short code, names and destination on each cell, in page-aligned chunks."""

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from typing import BinaryIO

from pypdf import PdfReader, PdfWriter
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from labels.data import CalibrationTexts, LabelData
from labels.errors import LabelError
from labels.fonts import Fonts, cjk_fonts
from labels.formats import Rect, SheetFormat, cell_rect, get_format
from labels.qr import QUIET_ZONE, draw_qr, qr_size_for
from labels.text import fit_text, wrap_text

Progress = Callable[[int, int], None]
CHUNK_PAGES = 50
LEADING = 1.2


@dataclass(frozen=True)
class LabelStyle:
    """How one format lays out a label: insets, QR square (with quiet zone), text sizes."""

    pad: float  # inset from the cell edge, for printer drift
    qr: float  # side of the QR square including its quiet zone
    sizes: tuple[tuple[float, float], ...]  # (size, min size) per text line, top to bottom
    lines: tuple[int, ...] = (1, 1, 1, 1, 1, 1)  # most lines each text may wrap onto


# Text lines: short code, Chinese name, passport name, school, destination, contents.
STYLES: dict[str, LabelStyle] = {
    "L7160": LabelStyle(
        1.2 * mm, 25.0 * mm, ((16, 10), (12, 6), (9, 5), (7, 4.5), (8, 5), (6.5, 4.5))
    ),
    "L7163": LabelStyle(
        1.5 * mm,
        30.0 * mm,
        ((20, 12), (14, 7), (10, 6), (8, 5), (9, 5), (8, 5)),
        lines=(1, 1, 1, 1, 1, 2),
    ),
    # 25.4 mm high: the largest QR that fits leaves 0.5 mm above and below (18.5 mm symbol).
    "5160": LabelStyle(
        0.5 * mm, 24.4 * mm, ((14, 9), (11, 6), (8, 5), (6.5, 4.5), (7, 5), (6, 4.5))
    ),
    "thermal-4x6": LabelStyle(
        5 * mm,
        70.0 * mm,
        ((30, 16), (26, 12), (18, 9), (13, 7), (15, 8), (12, 6)),
        lines=(1, 1, 2, 2, 3, 6),
    ),
}


def qr_rect(fmt: SheetFormat, cell: Rect) -> Rect:
    """Where the QR square (quiet zone included) of a label in `cell` is drawn."""
    style = STYLES[fmt.id]
    if fmt.layout == "stacked":
        return Rect(cell.x + (cell.w - style.qr) / 2, cell.y + cell.h - style.pad - style.qr,
                    style.qr, style.qr)  # fmt: skip
    return Rect(cell.x + style.pad, cell.y + (cell.h - style.qr) / 2, style.qr, style.qr)


def draw_label(
    canvas: Canvas, fmt: SheetFormat, cell: Rect, label: LabelData, fonts: Fonts
) -> None:
    """Draw one label inside `cell`, clipped to it so nothing reaches a neighbour."""
    style = STYLES[fmt.id]
    canvas.saveState()
    clip = canvas.beginPath()
    clip.rect(*cell)
    canvas.clipPath(clip, stroke=0, fill=0)
    q = qr_rect(fmt, cell)
    draw_qr(canvas, label.token, q.x, q.y, q.w)

    if fmt.layout == "stacked":
        left, right = cell.x + style.pad, cell.x + cell.w - style.pad
        top, bottom = q.y, cell.y + style.pad
    else:
        # The QR's quiet zone is white: the text keeps the same margin on the right, so the
        # label's printed content sits centred in it.
        module, _ = qr_size_for(q.w, label.token)
        left, right = q.x + q.w, cell.x + cell.w - style.pad - QUIET_ZONE * module
        top, bottom = cell.y + cell.h - style.pad, cell.y + style.pad
    fitted = _fit_lines(label, style, fonts, right - left, top - bottom)
    block = sum(size for _, size, _ in fitted) * LEADING
    y = (top + bottom) / 2 + block / 2  # centre the block in the space beside/below the QR
    centre = (left + right) / 2
    for i, (text, size, font) in enumerate(fitted):
        y -= size * LEADING
        baseline = y + size * 0.25
        if not text:
            continue
        x = centre - stringWidth(text, font, size) / 2 if fmt.layout == "stacked" else left
        t = canvas.beginText(x, baseline)
        t.setFont(font, size)
        if i == 0:
            # The short code is read aloud and typed: heavier strokes (fill + stroke). The
            # render mode outlives the text object, so keep it inside q/Q.
            canvas.saveState()
            canvas.setLineWidth(size * 0.04)
            t.setTextRenderMode(2)
        t.textOut(text)
        canvas.drawText(t)
        if i == 0:
            canvas.restoreState()
    canvas.restoreState()


def _fit_lines(
    label: LabelData, style: LabelStyle, fonts: Fonts, width: float, height: float
) -> list[tuple[str, float, str]]:
    """(text, size, font) per printed line: each field fitted or wrapped onto its lines, all
    scaled down together when the wrapped block would not fit the label's height."""
    fields = (
        (label.short_code, fonts.mono),
        (label.name_zh, fonts.text),
        (label.name_latin, fonts.text),
        (label.school, fonts.text),
        (label.destination, fonts.text),
        (label.contents, fonts.text),
    )
    scale = 1.0
    for _ in range(8):
        out: list[tuple[str, float, str]] = []
        for (text, font), (size, min_size), most in zip(
            fields, style.sizes, style.lines, strict=True
        ):
            lines, fitted = wrap_text(
                text, font, size * scale, min(min_size, size * scale), width, most
            )
            out += [(line, fitted, font) for line in lines] or [("", fitted, font)]
        block = sum(size for _, size, _ in out) * LEADING
        if block <= height:
            break
        scale *= 0.95 * height / block
    return out


def _check_start(fmt: SheetFormat, start: int) -> None:
    if isinstance(start, bool) or not isinstance(start, int) or not 1 <= start <= fmt.cells:
        raise LabelError(
            f"start position {start!r} is off the {fmt.id} sheet: use 1..{fmt.cells} "
            f"(labels are numbered row by row from the top left)"
        )


def plan_pages(
    fmt: SheetFormat, labels: Iterable[LabelData], start: int = 1
) -> Iterator[list[tuple[int, LabelData]]]:
    """Yield each page as (position, label) pairs; the first page begins at `start`."""
    _check_start(fmt, start)
    page: list[tuple[int, LabelData]] = []
    position = start
    for label in labels:
        page.append((position, label))
        position += 1
        if position > fmt.cells:
            yield page
            page, position = [], 1
    if page:
        yield page


def _new_canvas(buf: BinaryIO, fmt: SheetFormat, title: str, fonts: Fonts) -> Canvas:
    # The initial font is otherwise Helvetica, listed (not embedded) on every page.
    canvas = Canvas(
        buf, pagesize=fmt.pagesize, pageCompression=1, invariant=1, initialFontName=fonts.text
    )
    canvas.setTitle(title)
    canvas.setCreator("kitrun labels")
    return canvas


def _render_chunks(
    fmt: SheetFormat,
    labels: Sequence[LabelData],
    start: int,
    fonts: Fonts,
    title: str,
    chunk_pages: int,
    progress: Progress | None,
) -> Iterator[bytes]:
    """Yield one complete PDF per `chunk_pages` pages, so no canvas holds the whole job."""
    pages = plan_pages(fmt, labels, start)
    done, total = 0, len(labels)
    while chunk := list(islice(pages, chunk_pages)):
        buf = io.BytesIO()
        canvas = _new_canvas(buf, fmt, title, fonts)
        for page in chunk:
            for position, label in page:
                draw_label(canvas, fmt, cell_rect(fmt, position), label, fonts)
            canvas.showPage()
            done += len(page)
            if progress is not None:
                progress(done, total)
        canvas.save()
        yield buf.getvalue()


def render_labels(
    labels: Sequence[LabelData],
    format_id: str,
    start: int = 1,
    out: BinaryIO | None = None,
    *,
    progress: Progress | None = None,
    font_path: str | None = None,
    chunk_pages: int = CHUNK_PAGES,
) -> bytes | None:
    """Render labels onto sheets of `format_id` from position `start`; PDF bytes or into `out`."""
    fmt = get_format(format_id)
    _check_start(fmt, start)
    if not isinstance(labels, Sequence):
        labels = list(labels)
    if not labels:
        raise LabelError("no labels to render: the label list is empty")
    if chunk_pages < 1:
        raise LabelError(f"chunk_pages must be at least 1, not {chunk_pages}")
    fonts = cjk_fonts(font_path)
    title = f"Labels {fmt.id} ({len(labels)})"
    chunks = _render_chunks(fmt, labels, start, fonts, title, chunk_pages, progress)
    first = next(chunks)
    second = next(chunks, None)
    if second is None:  # one chunk is the whole document already
        data = first
    else:
        # Each chunk is parsed, appended and dropped: memory follows the (compressed) output.
        writer = PdfWriter()
        for chunk in chain((first, second), chunks):
            writer.append(PdfReader(io.BytesIO(chunk)))
        del first, second
        writer.add_metadata({"/Title": title, "/Creator": "kitrun labels"})
        if out is not None:
            writer.write(out)
            return None
        merged = io.BytesIO()
        writer.write(merged)
        data = merged.getvalue()
    if out is None:
        return data
    out.write(data)
    return None


def render_calibration(
    format_id: str, *, font_path: str | None = None, texts: CalibrationTexts | None = None
) -> bytes:
    """One page outlining and numbering every label cell, to check printer alignment; its notes
    are `texts` (English by default)."""
    fmt = get_format(format_id)
    texts = texts or CalibrationTexts()
    fonts = cjk_fonts(font_path)
    buf = io.BytesIO()
    heading = texts.title.format(format=texts.description or fmt.description)
    canvas = _new_canvas(buf, fmt, heading, fonts)
    canvas.setLineWidth(0.5)
    for position in range(1, fmt.cells + 1):
        cell = cell_rect(fmt, position)
        # Inset by half the line width so the outline lies just inside the cell.
        canvas.rect(cell.x + 0.25, cell.y + 0.25, cell.w - 0.5, cell.h - 0.5)
        size = min(cell.h * 0.45, 28)
        canvas.setFont(fonts.text, size)
        canvas.drawCentredString(cell.x + cell.w / 2, cell.y + cell.h / 2 - size * 0.35,
                                 str(position))  # fmt: skip
    notes = (heading, texts.advice)
    in_margin = fmt.top >= 8 * mm
    text_y = fmt.page_h - fmt.top / 2 + 1 if in_margin else fmt.page_h * 0.25
    width = fmt.page_w - 2 * max(fmt.left, 5 * mm)
    for i, note in enumerate(notes):
        text, size = fit_text(note, fonts.text, 8, 5, width)
        canvas.setFont(fonts.text, size)
        canvas.drawCentredString(fmt.page_w / 2, text_y - i * 10, text)
    bar_y = fmt.top / 2 if in_margin else fmt.page_h * 0.18
    x0 = fmt.page_w / 2 - 25 * mm
    canvas.line(x0, bar_y, x0 + 50 * mm, bar_y)
    for i in range(6):
        tick = 2 * mm if i % 5 == 0 else 1 * mm
        canvas.line(x0 + i * 10 * mm, bar_y, x0 + i * 10 * mm, bar_y + tick)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()
