"""Chart geometry: names never reach the axis; the daily report charts its own period only."""

from datetime import date, timedelta

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Group, String, mmult
from reportlab.graphics.widgetbase import Widget

from app.dashboard import charts
from app.dashboard.daily_pdf import chart_days

LONG = [
    "Beijing University of Chinese Medicine and Pharmacology, International Campus",
    "École Supérieure de Commerce et de Management de Paris-Saclay",
    "北京外国语大学附属外国语学校国际部高中分校",
    "Lycée",
]


def _strings(node, ctm=(1, 0, 0, 1, 0, 0)):  # noqa: ANN001, ANN202
    """(text, x0, y0, x1, y1) of every String under `node`, in drawing coordinates."""
    if isinstance(node, Widget):  # axes and labels draw themselves as groups
        yield from _strings(node.draw(), ctm)
    elif isinstance(node, Group):
        ctm = mmult(ctm, node.transform)
        for child in node.contents:
            yield from _strings(child, ctm)
    elif isinstance(node, String):
        x0, y0, x1, y1 = node.getBounds()
        xs = [ctm[0] * x + ctm[2] * y + ctm[4] for x, y in ((x0, y0), (x1, y1))]
        ys = [ctm[1] * x + ctm[3] * y + ctm[5] for x, y in ((x0, y0), (x1, y1))]
        yield node.text, min(xs), min(ys), max(xs), max(ys)


def _chart(drawing, kind):  # noqa: ANN001, ANN202
    return next(c for c in drawing.contents if isinstance(c, kind))


def _rows(names: list[str]) -> list[dict]:
    return [
        {"name_en": n, "name_zh": n, "claimed_share": 0.5, "progress": 0.25, "on_hand": 9,
         "reserved": 3}
        for n in names
    ]  # fmt: skip


def test_long_school_names_stay_clear_of_the_axis() -> None:
    _ = str
    for build in (charts.school_chart, charts.stock_chart):
        d = build(_rows(LONG), _, "name_en")
        chart = _chart(d, HorizontalBarChart)
        names = set(chart.categoryAxis.categoryNames)
        labels = [s for s in _strings(chart.draw()) if s[0] in names]
        assert len(labels) == len(LONG)
        for text, x0, _y0, x1, _y1 in labels:
            assert x1 <= chart.x - 2, (text, x1, chart.x)  # a gap before the axis
            assert x0 >= 0, (text, x0)  # and inside the drawing
        assert chart.x <= charts.WIDTH * charts.LABEL_MAX  # the bars keep most of the width
        # short names are whole; long ones are cut with "…" (the tables carry them in full)
        assert "Lycée" in names and any(n.endswith("…") for n in names)


def test_short_names_get_a_narrow_column() -> None:
    d = charts.school_chart(_rows(["A", "B"]), str, "name_en")
    assert _chart(d, HorizontalBarChart).x < 60


def _summary(since: date, until: date, before: int = 10) -> dict:
    days = [since - timedelta(days=before) + timedelta(days=i) for i in range(before)]
    days += [since + timedelta(days=i) for i in range((until - since).days + 1)]
    per_day = [{"day": d, "claims": 3, "handed_over": 1} for d in days]
    return {"since": since, "until": until, "per_day": per_day}


def test_daily_report_chart_covers_its_period_only() -> None:
    day = date(2026, 12, 2)
    one = chart_days(_summary(day, day))
    assert [r["day"] for r in one] == [day]
    week = chart_days(_summary(day, day + timedelta(days=6)))
    assert [r["day"] for r in week] == [day + timedelta(days=i) for i in range(7)]
    chart = _chart(charts.daily_chart(week, str), VerticalBarChart)
    assert len(chart.data[0]) == 7 and chart.categoryAxis.categoryNames[0] == "12-02"
