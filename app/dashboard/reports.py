"""The daily summary for the capital: per school and per point, as data, CSV and a one-page PDF."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, distinct, func, or_, select
from sqlmodel import Session

from app.core import csv_out
from app.core.errors import N_
from app.core.i18n import gettext_for
from app.dashboard import figures as dashboard
from app.dashboard.figures import HANDED, DayRange
from models.campaigns import CampaignSchool
from models.claims import Claim
from models.inventory import Location, StockEntry, StockMovement
from models.pickup import Scan
from models.schools import School


def _in(column, days: DayRange):  # noqa: ANN001, ANN202
    return and_(column >= days.start, column < days.end)


def per_school(*, session: Session, campaign_id: int, days: DayRange) -> list[dict]:
    """Per eligible school, within the days: claims, pickups handed over, deliveries."""
    counts = (
        select(
            Claim.school_id.label("school_id"),
            func.count().filter(_in(Claim.submitted_at, days)).label("claims"),
            func.count()
            .filter(HANDED, Claim.fulfilment == "pickup", _in(Claim.handed_over_at, days))
            .label("handovers"),
            func.count()
            .filter(HANDED, Claim.fulfilment == "delivery", _in(Claim.handed_over_at, days))
            .label("deliveries"),
        )
        .where(
            Claim.campaign_id == campaign_id,
            or_(_in(Claim.submitted_at, days), _in(Claim.handed_over_at, days)),
        )
        .group_by(Claim.school_id)
        .subquery()
    )
    rows = session.execute(
        select(
            School.id,
            School.name_zh,
            School.name_en,
            func.coalesce(counts.c.claims, 0),
            func.coalesce(counts.c.handovers, 0),
            func.coalesce(counts.c.deliveries, 0),
        )
        .select_from(CampaignSchool)
        .join(School, School.id == CampaignSchool.school_id)
        .outerjoin(counts, counts.c.school_id == School.id)
        .where(CampaignSchool.campaign_id == campaign_id)
        .order_by(School.name_en, School.id)
    ).all()
    keys = ("id", "name_zh", "name_en", "claims", "handovers", "deliveries")
    return [dict(zip(keys, (*r[:3], *map(int, r[3:])), strict=True)) for r in rows]


def per_point(*, session: Session, campaign_id: int, item_id: int, days: DayRange) -> list[dict]:
    """Per location, within the days: handovers, deliveries, scans, kit movements in and out."""
    handed = (
        select(
            Claim.handed_over_location_id.label("location_id"),
            func.count().filter(Claim.fulfilment == "pickup").label("handovers"),
            func.count().filter(Claim.fulfilment == "delivery").label("deliveries"),
        )
        .where(Claim.campaign_id == campaign_id, HANDED, _in(Claim.handed_over_at, days))
        .group_by(Claim.handed_over_location_id)
        .subquery()
    )
    scans = (
        select(
            Scan.location_id.label("location_id"),
            func.count().label("scans"),
            func.count().filter(Scan.result != "ok").label("refused"),
        )
        .where(_in(Scan.received_at, days), Scan.location_id.is_not(None))
        .group_by(Scan.location_id)
        .subquery()
    )
    moves = (
        select(
            StockEntry.location_id.label("location_id"),
            func.count(distinct(StockEntry.movement_id)).label("movements"),
            func.coalesce(
                func.sum(StockEntry.on_hand_delta).filter(
                    StockEntry.on_hand_delta > 0, StockEntry.item_id == item_id
                ),
                0,
            ).label("kits_in"),
            func.coalesce(
                -func.sum(StockEntry.on_hand_delta).filter(
                    StockEntry.on_hand_delta < 0, StockEntry.item_id == item_id
                ),
                0,
            ).label("kits_out"),
        )
        .join(StockMovement, StockMovement.id == StockEntry.movement_id)
        .where(_in(StockMovement.created_at, days))
        .group_by(StockEntry.location_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Location.id,
            Location.name_zh,
            Location.name_en,
            Location.kind,
            func.coalesce(handed.c.handovers, 0),
            func.coalesce(handed.c.deliveries, 0),
            func.coalesce(scans.c.scans, 0),
            func.coalesce(scans.c.refused, 0),
            func.coalesce(moves.c.movements, 0),
            func.coalesce(moves.c.kits_in, 0),
            func.coalesce(moves.c.kits_out, 0),
        )
        .outerjoin(handed, handed.c.location_id == Location.id)
        .outerjoin(scans, scans.c.location_id == Location.id)
        .outerjoin(moves, moves.c.location_id == Location.id)
        .where(
            or_(
                Location.kind == "pickup_point",
                handed.c.location_id.is_not(None),
                scans.c.location_id.is_not(None),
                moves.c.location_id.is_not(None),
            )
        )
        .order_by(Location.kind, Location.name_en, Location.id)
    ).all()
    keys = (
        "id",
        "name_zh",
        "name_en",
        "kind",
        "handovers",
        "deliveries",
        "scans",
        "refused",
        "movements",
        "kits_in",
        "kits_out",
    )
    return [dict(zip(keys, (*r[:4], *map(int, r[4:])), strict=True)) for r in rows]


def daily(
    *,
    session: Session,
    campaign_id: int,
    since: date | None = None,
    until: date | None = None,
    tz: str | None = None,
) -> dict:
    """The summary of a day (since only, or neither: today) or of a range of days."""
    c = dashboard.campaign(session=session, campaign_id=campaign_id)
    zi = dashboard.zone(tz)
    today = datetime.now(zi).date()
    days = dashboard.day_range(
        c, tz=tz, since=since or until or today, until=until or since or today
    )
    schools = per_school(session=session, campaign_id=c.id, days=days)
    points = per_point(session=session, campaign_id=c.id, item_id=c.kit_item_id, days=days)
    totals = {
        k: sum(r[k] for r in schools) for k in ("claims", "handovers", "deliveries")
    }  # sums of aggregated rows (≤ one per school)
    totals["movements"] = session.execute(
        select(func.count()).select_from(StockMovement).where(_in(StockMovement.created_at, days))
    ).scalar_one()
    return {
        "campaign": c,
        "since": days.since,
        "until": days.until,
        "timezone": zi.key,
        "schools": schools,
        "points": points,
        "totals": totals,
        "per_day": dashboard.per_day(session=session, campaign_id=c.id, days=days),
        "progress": dashboard.school_progress(session=session, campaign_id=c.id),
        "headline": dashboard.headline(session=session, campaign_id=c.id),
    }


CSV_COLUMNS = (
    "section",
    "id",
    "name_zh",
    "name_en",
    "claims",
    "handovers",
    "deliveries",
    "scans",
    "refused_scans",
    "stock_movements",
    "kits_in",
    "kits_out",
)


# The header and sections of a Chinese CSV; English keeps the column names scripts read.
CSV_HEADINGS = {
    "section": N_("Section"),
    "id": N_("ID"),
    "name_zh": N_("Name in Chinese"),
    "name_en": N_("Name in English"),
    "claims": N_("Claims"),
    "handovers": N_("Handovers"),
    "deliveries": N_("Deliveries"),
    "scans": N_("Scans"),
    "refused_scans": N_("Refused scans"),
    "stock_movements": N_("Stock movements"),
    "kits_in": N_("Kits in"),
    "kits_out": N_("Kits out"),
    "school": N_("School"),
    "point": N_("Point"),
    "total": N_("Total"),
}


def daily_csv(summary: dict, locale: str = "en") -> bytes:
    """The summary as one CSV (UTF-8 with BOM): a row per school, then a row per point; the
    header and section names in Chinese for zh_CN, else the English column names."""
    tr = gettext_for(locale)
    words = {k: tr(v) if locale == "zh_CN" else k for k, v in CSV_HEADINGS.items()}
    word = words.__getitem__
    w = csv_out.Writer([word(c) for c in CSV_COLUMNS])
    for s in summary["schools"]:
        w.writerow(
            [word("school"), s["id"], s["name_zh"], s["name_en"], s["claims"], s["handovers"]]
            + [s["deliveries"], "", "", "", "", ""]
        )
    for p in summary["points"]:
        w.writerow(
            [word("point"), p["id"], p["name_zh"], p["name_en"], ""]
            + [
                p["handovers"],
                p["deliveries"],
                p["scans"],
                p["refused"],
                p["movements"],
                p["kits_in"],
                p["kits_out"],
            ]
        )
    t = summary["totals"]
    w.writerow(
        [word("total"), "", "", "", t["claims"], t["handovers"], t["deliveries"]]
        + ["", "", t["movements"], "", ""]
    )
    return w.to_bytes()


def filename(summary: dict, ext: str) -> str:
    """kitrun-report-<campaign>-<day>[_<day>].<ext>"""
    span = summary["since"].isoformat()
    if summary["until"] != summary["since"]:
        span += "_" + summary["until"].isoformat()
    return f"kitrun-report-{summary['campaign'].id}-{span}.{ext}"


def daily_pdf(summary: dict, *, gettext, locale: str) -> bytes:  # noqa: ANN001
    """The summary as a one-page A4 PDF with the dashboard's charts (CJK font embedded)."""
    from app.dashboard import daily_pdf as report_pdf

    return report_pdf.render(summary, report_pdf.chart_days(summary), gettext, locale)
