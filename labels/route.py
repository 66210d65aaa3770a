"""Route sheets: per vehicle a header, an overview map and the table of ordered stops."""

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from labels.data import RouteSheet, RouteTexts, Stop, VehicleRoute
from labels.errors import LabelError
from labels.fonts import Fonts, cjk_fonts
from labels.qr import draw_qr
from labels.routemap import MapProjection, RouteMap

PAGESIZES = {"A4": A4, "Letter": LETTER}
MARGIN = 12 * mm
QR_SIZE = 24 * mm  # with quiet zone: an 18 mm symbol, like the labels
MAP_HEIGHT = 105 * mm


@dataclass(frozen=True)
class PlacedQR:
    """Where a stop's QR square (quiet zone included) landed: page (1-based) and points."""

    page: int
    token: str
    x: float
    y: float
    size: float


@dataclass
class RouteLayout:
    """Optional record of what was drawn where, for tests and previews."""

    qrs: list[PlacedQR] = field(default_factory=list)
    maps: list[tuple[int, float, float, MapProjection]] = field(default_factory=list)
    pages: int = 0


class _QR(Flowable):
    def __init__(self, token: str, size: float, layout: RouteLayout | None) -> None:
        super().__init__()
        self.token, self.size, self.layout = token, size, layout

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        draw_qr(self.canv, self.token, 0, 0, self.size)
        if self.layout is not None:
            x, y = self.canv.absolutePosition(0, 0)
            page = self.canv.getPageNumber()
            self.layout.qrs.append(PlacedQR(page, self.token, x, y, self.size))


class _TickBox(Flowable):
    """An empty square to tick, above a line to sign on."""

    def __init__(self, width: float, height: float) -> None:
        super().__init__()
        self.width, self.height = width, height

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.setLineWidth(0.8)
        c.rect(0, self.height - 6 * mm, 6 * mm, 6 * mm)
        c.setLineWidth(0.4)
        c.line(0, 3 * mm, self.width, 3 * mm)


class _Marker(Flowable):
    """Zero-size flowable telling the canvas which vehicle the following pages belong to."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv.kitrun_footer = self.text


def _numbered_canvas(font: str, page_text: str) -> type[Canvas]:
    class NumberedCanvas(Canvas):
        """Holds pages until save() so each footer can say 'page x of y'."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.kitrun_footer = ""
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                w, _ = self._pagesize
                self.setFont(font, 8)
                self.setFillGray(0.3)
                # Aligned with the frame's content, which is padded by 6 pt.
                self.drawString(MARGIN + 6, MARGIN / 2, self.kitrun_footer)
                self.drawRightString(
                    w - MARGIN - 6, MARGIN / 2, page_text.format(page=number, pages=total)
                )
                super().showPage()
            super().save()

    return NumberedCanvas


def _arrival(value: str | datetime) -> str:
    return value.strftime("%H:%M") if isinstance(value, datetime) else str(value)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _styles(fonts: Fonts) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "cell", fontName=fonts.text, bulletFontName=fonts.text, fontSize=8, leading=10,
        wordWrap="CJK",
    )  # fmt: skip
    return {
        "cell": base,
        "head": ParagraphStyle("head", parent=base, fontSize=7.5, textColor=colors.white),
        "small": ParagraphStyle("small", parent=base, fontSize=7, leading=8.5),
        "title": ParagraphStyle("title", parent=base, fontSize=15, leading=19, spaceAfter=4),
        "meta": ParagraphStyle("meta", parent=base, fontSize=9, leading=12, wordWrap=None),
    }


def _header(
    sheet: RouteSheet,
    v: VehicleRoute,
    st: dict[str, ParagraphStyle],
    width: float,
    fonts: Fonts,
    tx: RouteTexts,
) -> list[Flowable]:
    day = sheet.date.isoformat() if isinstance(sheet.date, date) else str(sheet.date)
    kits = sum(s.kits for s in v.stops)
    pairs = [
        (tx.date, day), (tx.driver, v.driver), (tx.vehicle, v.name),
        (tx.depot, sheet.depot_name), (tx.stops, str(len(v.stops))),
        (tx.kits, tx.kits_value.format(kits=kits, capacity=v.capacity)),
        (tx.distance, f"{v.km:.1f} km"),
        (tx.planned, tx.hours.format(hours=f"{v.planned_hours:.1f}")),
    ]  # fmt: skip
    cells = [(_p(label, st["meta"]), _p(value, st["meta"])) for label, value in pairs]
    rows = [[item for pair in cells[i : i + 4] for item in pair] for i in (0, 4)]
    label_w = 19 * mm
    value_w = width / 4 - label_w
    table = Table(rows, colWidths=[label_w, value_w] * 4)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), fonts.text),  # else Table sets Helvetica
                ("TEXTCOLOR", (0, 0), (-1, -1), colors.black),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")),
                ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#eeeeee")),
                ("BACKGROUND", (4, 0), (4, -1), colors.HexColor("#eeeeee")),
                ("BACKGROUND", (6, 0), (6, -1), colors.HexColor("#eeeeee")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return [_p(f"{sheet.run_name} — {v.name}", st["title"]), table, Spacer(1, 4 * mm)]


def _stop_row(
    stop: Stop, st: dict[str, ParagraphStyle], layout: RouteLayout | None, tx: RouteTexts
) -> list:
    phone = stop.phone.strip() or f"({tx.no_phone})"
    return [
        _p(str(stop.seq), st["cell"]),
        _p(_arrival(stop.arrival), st["cell"]),
        [_p(stop.name, st["cell"]), _p(phone, st["small"])],
        _p(stop.address, st["cell"]),
        _p(str(stop.kits), st["cell"]),
        _p(stop.notes, st["small"]),
        _QR(stop.token, QR_SIZE, layout),
        _TickBox(16 * mm, QR_SIZE - 2 * mm),
    ]


def _stops_table(
    v: VehicleRoute,
    st: dict[str, ParagraphStyle],
    width: float,
    layout: RouteLayout | None,
    tx: RouteTexts,
) -> Table:
    heads = [tx.seq, tx.arrival, tx.name_phone, tx.address, tx.kits, tx.notes, tx.qr, tx.sign]
    # Kits: wide enough for a four-character Chinese heading on one line.
    fixed = [8 * mm, 13 * mm, 34 * mm, None, 15 * mm, 25 * mm, QR_SIZE + 2 * mm, 20 * mm]
    fixed[3] = width - sum(w for w in fixed if w is not None)
    rows = [[_p(h, st["head"]) for h in heads]]
    rows += [_stop_row(stop, st, layout, tx) for stop in v.stops]
    table = Table(rows, colWidths=fixed, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), st["cell"].fontName),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#333333")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f6f6")]),
                ("BACKGROUND", (6, 1), (6, -1), colors.white),  # QR quiet zone stays white
                ("LEFTPADDING", (6, 1), (6, -1), 1 * mm),
                ("RIGHTPADDING", (6, 1), (6, -1), 1 * mm),
                ("TOPPADDING", (6, 1), (6, -1), 1 * mm),
                ("BOTTOMPADDING", (6, 1), (6, -1), 1 * mm),
            ]
        )
    )
    return table


def render_route_sheets(
    sheet: RouteSheet,
    pagesize: str = "A4",
    out: BinaryIO | None = None,
    *,
    font_path: str | None = None,
    layout: RouteLayout | None = None,
    texts: RouteTexts | None = None,
) -> bytes | None:
    """One route sheet per vehicle with stops, in one PDF; bytes, or written into `out`. Its
    fixed words are `texts` (English by default): the caller translates them."""
    tx = texts or RouteTexts()
    if pagesize not in PAGESIZES:
        raise LabelError(f"unknown page size {pagesize!r}; use one of {', '.join(PAGESIZES)}")
    vehicles = [v for v in sheet.vehicles if v.stops]  # an idle vehicle needs no sheet
    if not vehicles:
        what = "no vehicles" if not sheet.vehicles else "no stops"
        raise LabelError(f"run {sheet.run_name!r} has {what}: nothing to put on a route sheet")
    fonts = cjk_fonts(font_path)
    st = _styles(fonts)
    size = PAGESIZES[pagesize]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN, title=tx.title.format(run=sheet.run_name), creator="kitrun labels",
        invariant=1, initialFontName=fonts.text,
    )  # fmt: skip
    width = doc.width - 12  # the frame pads its content by 6 pt on each side
    story: list[Flowable] = []
    maps: list[RouteMap] = []
    for i, v in enumerate(vehicles):
        if i:
            story.append(PageBreak())
        story.append(_Marker(f"{sheet.run_name} · {v.name} · {v.driver}"))
        story += _header(sheet, v, st, width, fonts, tx)
        route_map = RouteMap(
            sheet, v, width, MAP_HEIGHT, fonts.text, depot=tx.depot, north=tx.north
        )
        maps.append(route_map)
        story += [route_map, Spacer(1, 4 * mm), _stops_table(v, st, width, layout, tx)]
    canvasmaker = _numbered_canvas(fonts.text, tx.page)
    doc.build(story, canvasmaker=canvasmaker)
    if layout is not None:
        layout.pages = doc.page
        layout.maps = [(*m.origin, m.projection) for m in maps if m.origin]
    data = buf.getvalue()
    if out is None:
        return data
    out.write(data)
    return None
