"""The daily report as a one-page A4 PDF: figures, the dashboard's charts, points and schools."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepInFrame, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.core.errors import N_
from app.dashboard import charts

MARGIN = 12 * mm
CHART_SCALE = 1.0
POINT_ROWS = 8
SCHOOL_ROWS = 8


def _scaled(drawing, scale: float):  # noqa: ANN001, ANN202
    drawing.scale(scale, scale)
    drawing.width *= scale
    drawing.height *= scale
    return drawing


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: reportlab reads a Paragraph's text as markup, so names from
    the data (`<b>`, `&`, `<img src=…>`, which it would fetch) are escaped, never interpreted."""
    return Paragraph(escape(text), style)


def _table(header: list[str], rows: list[list], font: str, widths: list[float]) -> Table:
    t = Table([header, *rows], colWidths=widths, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 7.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef0f4")),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d9dde3")),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return t


def render(summary: dict, chart_days: list[dict], _: Callable[[str], str], locale: str) -> bytes:
    """The summary (from reports.daily) as PDF bytes: one A4 page, the CJK font embedded."""
    font = charts.font()
    name_key = "name_zh" if locale == "zh_CN" else "name_en"
    title = ParagraphStyle("t", fontName=font, fontSize=15, leading=19, wordWrap="CJK")
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    c = summary["campaign"]
    campaign = (c.name_zh if locale == "zh_CN" else c.name_en) or c.name_zh or c.name_en
    span = summary["since"].isoformat()
    if summary["until"] != summary["since"]:
        span += " – " + summary["until"].isoformat()
    h, t = summary["headline"], summary["totals"]
    story: list = [
        _para(f"{_('Daily report')} · {campaign}", title),
        _para(
            f"{span} ({summary['timezone']}) · {_('Generated')} "
            f"{datetime.now().astimezone():%Y-%m-%d %H:%M}",
            body,
        ),
        Spacer(1, 4),
    ]
    figures = [
        (_("Claims in the period"), t["claims"]),
        (_("Handovers in the period"), t["handovers"]),
        (_("Deliveries in the period"), t["deliveries"]),
        (_("Stock movements"), t["movements"]),
        (_("Eligible students"), h["eligible"]),
        (_("Claims"), h["claims"]),
        (_("Handed over"), h["handed_over"]),
        (_("Waitlisted"), h["waitlisted"]),
        (_("Delivered"), h["delivered"]),
        (_("Failed deliveries"), h["failed_deliveries"]),
    ]
    grid = [
        [f"{label}\n{value:,}" for label, value in figures[:5]],
        [f"{label}\n{value:,}" for label, value in figures[5:]],
    ]
    head = Table(grid, colWidths=[(A4[0] - 2 * MARGIN) / 5] * 5)
    head.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 9),
                ("LEADING", (0, 0), (-1, -1), 12),
                ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#d9dde3")),
                ("INNERGRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#d9dde3")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f5f8ff")),
            ]
        )
    )
    story += [head, Spacer(1, 6)]
    daily = _scaled(charts.daily_chart(chart_days, _), CHART_SCALE)
    lagging = _scaled(charts.school_chart(summary["progress"], _, name_key, limit=7), CHART_SCALE)
    story += [daily, Spacer(1, 4), lagging, Spacer(1, 6)]
    points = [
        [p[name_key][:60], p["handovers"], p["deliveries"], p["scans"], p["kits_in"], p["kits_out"]]
        for p in summary["points"][:POINT_ROWS]
    ]
    active = sorted(
        (s for s in summary["schools"] if s["claims"] or s["handovers"] or s["deliveries"]),
        key=lambda s: (-s["claims"] - s["handovers"] - s["deliveries"], s["name_en"]),
    )  # schools are already aggregated rows: at most one per school
    schools = [
        [s[name_key][:60], s["claims"], s["handovers"], s["deliveries"]]
        for s in active[:SCHOOL_ROWS]
    ]
    full = A4[0] - 2 * MARGIN
    story.append(
        _table(
            [_("Point"), _("Handovers"), _("Deliveries"), _("Scans"), _("In"), _("Out")],
            points or [[_("No data yet"), "", "", "", "", ""]],
            font,
            [full - 5 * 62, 62, 62, 62, 62, 62],
        )
    )
    story.append(Spacer(1, 6))
    story.append(
        _table(
            [_("School"), _("Claims"), _("Handovers"), _("Deliveries")],
            schools or [[_("No data yet"), "", "", ""]],
            font,
            [full - 3 * 62, 62, 62, 62],
        )
    )
    more = len(summary["points"]) - POINT_ROWS, len(active) - SCHOOL_ROWS
    if max(more) > 0:
        story.append(_para(_("All rows are in the CSV report."), body))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{_('Daily report')} {campaign} {span}",
        author="kitrun",
    )
    frame_h = A4[1] - 2 * MARGIN - 12
    doc.build([KeepInFrame(A4[0] - 2 * MARGIN, frame_h, story, mode="shrink")])
    return buf.getvalue()


def chart_days(summary: dict) -> list[dict]:
    """The days to chart: those of the report's period, no others (one day: that day)."""
    return [r for r in summary["per_day"] if summary["since"] <= r["day"] <= summary["until"]]


# Strings that reach the PDF and the pages as data, marked for extraction.
STRINGS = [
    N_("Daily report"),
    N_("Generated"),
    N_("draft"),
    N_("open"),
    N_("closed"),
    N_("Dashboard"),
    N_("Where the campaign stands: figures, charts, daily reports"),
    N_("Audit trail"),
    N_("Who changed what and when, before and after"),
]
