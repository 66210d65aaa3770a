"""A student's data (from access.student_record) as a readable A4 PDF, in one language."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.core.errors import N_
from app.core.i18n import reason_text
from app.core.localtime import to_local
from labels.fonts import cjk_fonts

MARGIN = 16 * mm

FIELD_NAMES = {
    "name_zh": N_("Chinese name"),
    "name_latin": N_("Name in Latin letters"),
    "student_number": N_("Student number"),
    "email": N_("E-mail"),
    "birth_date": N_("Birth date"),
    "phone": N_("Phone"),
    "wechat": N_("WeChat"),
    "address": N_("Address"),
    "lat": N_("Latitude"),
    "lon": N_("Longitude"),
}


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    """Plain text (names may hold markup characters: escaped, never interpreted)."""
    return Paragraph(escape(str(text)), style)


def _t(iso: str | None, tz: str) -> str:
    """An ISO time of the record as the district's local time, to the minute."""
    if not iso:
        return ""
    return f"{to_local(datetime.fromisoformat(iso), tz):%Y-%m-%d %H:%M}"


def render(record: dict, _: Callable[[str], str], locale: str, tz: str = "UTC") -> bytes:
    """The record as PDF bytes: every personal field, then what happened, in `locale`, times
    in the district's zone `tz`."""
    font = cjk_fonts().text
    name = "name_zh" if locale == "zh_CN" else "name_en"
    h1 = ParagraphStyle("h1", fontName=font, fontSize=15, leading=20, wordWrap="CJK")
    h2 = ParagraphStyle("h2", fontName=font, fontSize=11.5, leading=15, wordWrap="CJK")
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=12.5, wordWrap="CJK")
    full = A4[0] - 2 * MARGIN

    def table(rows: list[list], widths: list[float]) -> Table:
        t = Table(
            [[_para(c if c not in (None, "") else "—", body) for c in r] for r in rows],
            colWidths=widths,
        )
        t.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d9dde3")),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return t

    story = [
        _para(_("What kitrun holds about you"), h1),
        _para(
            _(
                "Produced on {at} at your request. It lists every piece of personal data kept "
                "about you, and what was done with it."
            ).format(at=_t(record["generated_at"], tz)),
            body,
        ),
        Spacer(1, 8),
    ]
    for c in record["claims"]:
        story.append(
            _para(
                _("Claim {code}: {campaign}, {school}").format(
                    code=c["short_code"], campaign=c["campaign"][name], school=c["school"][name]
                ),
                h2,
            )
        )
        if c["erased_at"]:
            story.append(
                _para(
                    _("Personal data erased on {date}.").format(date=_t(c["erased_at"], tz)[:10]),
                    body,
                )
            )
        rows = [[_(FIELD_NAMES[k]), v] for k, v in c["personal"].items()]
        rows += [
            [_("Minor"), _("yes") if c["is_minor"] else _("no")],
            [_("In quarantine"), _("yes") if c["quarantine"] else _("no")],
            [_("Status"), _(c["status"])],
            [_("How you get the kit"), _(c["fulfilment"])],
            [_("Submitted"), _t(c["submitted_at"], tz)],
            [_("Handed over"), _t(c["handed_over_at"], tz)],
        ]
        if c["notice"]:
            rows.append(
                [
                    _("Privacy notice accepted"),
                    _("version {version} on {at}").format(
                        version=c["notice"]["version"], at=_t(c["notice"]["accepted_at"], tz)
                    ),
                ]
            )
        story.append(table(rows, [full * 0.3, full * 0.7]))
        story.append(Spacer(1, 4))
        if c["history"]:
            story.append(_para(_("History"), body))
            story.append(
                table(
                    [
                        [
                            _t(h["at"], tz),
                            _(h["to"]),
                            "; ".join(reason_text(_, r) for r in h["reasons"]),
                        ]
                        for h in c["history"]
                    ],
                    [full * 0.25, full * 0.25, full * 0.5],
                )
            )
        if c["scans"]:
            story.append(_para(_("Scans of your code"), body))
            story.append(
                table(
                    [
                        [
                            _t(s["at"], tz),
                            _(s["result"]),
                            s["point_zh" if name == "name_zh" else "point_en"],
                        ]
                        for s in c["scans"]
                    ],
                    [full * 0.25, full * 0.35, full * 0.4],
                )
            )
        if c["delivery_stops"]:
            story.append(_para(_("Delivery runs"), body))
            story.append(
                table(
                    [
                        [s["run_date"], _(s["status"]), _t(s["closed_at"], tz)]
                        for s in c["delivery_stops"]
                    ],
                    [full * 0.3, full * 0.3, full * 0.4],
                )
            )
        if c["contact_details_shown"]:
            story.append(_para(_("Who was shown your address or phone"), body))
            story.append(
                table(
                    [
                        [_t(v["at"], tz), _(v["to"] or "-"), _(v["where"]), v["fields"]]
                        for v in c["contact_details_shown"]
                    ],
                    [full * 0.25, full * 0.2, full * 0.25, full * 0.3],
                )
            )
        story.append(Spacer(1, 8))
    if record["roster_entries"]:
        story.append(_para(_("Your school's roster"), h2))
        story.append(
            table(
                [
                    [r["school"][name], r["student_number"], r["name"], r["birth_date"], r["email"]]
                    for r in record["roster_entries"]
                ],
                [full * 0.28, full * 0.14, full * 0.2, full * 0.14, full * 0.24],
            )
        )
    if record["mail"]:
        story.append(_para(_("Mail to you waiting to be sent or kept in the outbox"), h2))
        story.append(
            table([[m["to"], m["subject"]] for m in record["mail"]], [full * 0.4, full * 0.6])
        )
    if not record["claims"] and not record["roster_entries"]:
        story.append(_para(_("kitrun holds no personal data about you."), body))
    buf = io.BytesIO()
    SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=_("What kitrun holds about you"),
        author="kitrun",
    ).build(story)
    return buf.getvalue()
