"""The diplomats' dashboard: where a campaign stands, in a few aggregate queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from app.core.errors import N_, Invalid, NotFound
from app.inventory import queries as stock_views
from app.pickup.log import day_bounds, zone
from models.base import utcnow
from models.campaigns import Campaign, CampaignSchool
from models.claims import DEAD_STATUSES, HOLDS_KIT, Claim
from models.inventory import Location, StockEntry, StockLevel, StockMovement
from models.pickup import Scan
from models.runs import Run, RunStop
from models.schools import RosterEntry, School

MAX_RANGE_DAYS = 366
DEFAULT_CHART_DAYS = 31
RATE_DAYS = 7  # kits issued per day over this many days: "the current rate"

LIVE = Claim.status.not_in(DEAD_STATUSES)
HANDED = Claim.status == "handed_over"


@dataclass(frozen=True)
class DayRange:
    """Local days `since` … `until`, both included, and their UTC bounds."""

    since: date
    until: date
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return day_bounds(self.since, self.tz)[0]

    @property
    def end(self) -> datetime:
        return day_bounds(self.until, self.tz)[1]

    def days(self) -> list[date]:
        return [self.since + timedelta(days=i) for i in range((self.until - self.since).days + 1)]


def campaign(*, session: Session, campaign_id: int) -> Campaign:
    """The campaign, or a 404 naming the id."""
    c = session.get(Campaign, campaign_id)
    if c is None:
        raise NotFound(N_("No campaign with id {id}."), params={"id": campaign_id})
    return c


def campaigns(*, session: Session) -> list[Campaign]:
    """All campaigns, open ones first, newest first (for the chooser)."""
    order = case((Campaign.status == "open", 0), (Campaign.status == "draft", 1), else_=2)
    return list(session.execute(select(Campaign).order_by(order, Campaign.id.desc())).scalars())


def day_range(
    c: Campaign,
    *,
    tz: str | None,
    since: date | None,
    until: date | None,
    today: date | None = None,
) -> DayRange:
    """The days to chart: given, else the campaign's days so far (422 when the wrong way round)."""
    zi = zone(tz)
    today = today or datetime.now(zi).date()
    if since and until and until < since:
        raise Invalid(
            N_("The date range is the wrong way round: {since} is after {until}."),
            params={"since": since.isoformat(), "until": until.isoformat()},
        )
    if until is None:
        until = min(today, c.closes_at.astimezone(zi).date())
        if since is not None and until < since:
            until = since
    if since is None:
        since = max(c.opens_at.astimezone(zi).date(), until - timedelta(DEFAULT_CHART_DAYS - 1))
        since = min(since, until)
    if (until - since).days >= MAX_RANGE_DAYS:
        raise Invalid(N_("The date range is at most {n} days."), params={"n": MAX_RANGE_DAYS})
    return DayRange(since, until, zi)


def local_day(session: Session, column: ColumnElement, tz: ZoneInfo) -> ColumnElement:
    """The local calendar day of a UTC timestamp column, computed in the database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(tz.key, column), Date)
    # SQLite stores UTC text and has no zone database: shift by the zone's offset now.
    minutes = int(datetime.now(tz).utcoffset().total_seconds() // 60)
    return func.date(column, f"{minutes:+d} minutes")


# ---------------------------------------------------------------- figures


COUNTS = {
    "claims": LIVE,
    "allocated": Claim.status.in_(HOLDS_KIT),
    "handed_over": HANDED,
    "waitlisted": Claim.status == "waitlisted",
    "delivered": and_(HANDED, Claim.fulfilment == "delivery"),
    "awaiting_review": Claim.status == "submitted",
    "rejected": Claim.status == "rejected",
    "cancelled": Claim.status == "cancelled",
}


def _claim_counts(session: Session, campaign_id: int) -> dict[int, dict]:
    """Per school: the claims of the campaign counted by status (one pass over the claims)."""
    rows = session.execute(
        select(Claim.school_id, *(func.count().filter(cond) for cond in COUNTS.values()))
        .where(Claim.campaign_id == campaign_id)
        .group_by(Claim.school_id)
    ).all()
    return {r[0]: dict(zip(COUNTS, map(int, r[1:]), strict=True)) for r in rows}


def _eligible(session: Session, campaign_id: int) -> list:
    """Per school of the campaign: names, verification mode and roster size."""
    roster = (
        select(RosterEntry.school_id.label("school_id"), func.count().label("n"))
        .where(
            RosterEntry.school_id.in_(
                select(CampaignSchool.school_id).where(CampaignSchool.campaign_id == campaign_id)
            )
        )
        .group_by(RosterEntry.school_id)
        .subquery()
    )
    return session.execute(
        select(
            School.id,
            School.name_zh,
            School.name_en,
            CampaignSchool.verification,
            func.coalesce(roster.c.n, 0),
        )
        .select_from(CampaignSchool)
        .join(School, School.id == CampaignSchool.school_id)
        .outerjoin(roster, roster.c.school_id == CampaignSchool.school_id)
        .where(CampaignSchool.campaign_id == campaign_id)
    ).all()


def figures(*, session: Session, campaign_id: int) -> tuple[dict, list[dict]]:
    """The headline figures and the progress per school, from two grouped queries."""
    counts = _claim_counts(session, campaign_id)
    zero = dict.fromkeys(COUNTS, 0)
    schools = []
    for sid, name_zh, name_en, mode, eligible in _eligible(session, campaign_id):  # ≤ 1 per school
        c = counts.get(sid, zero)
        # Schools without a roster (e-mail, manual) are measured against their claims.
        base = eligible or c["claims"]
        schools.append(
            {
                "school_id": sid,
                "name_zh": name_zh,
                "name_en": name_en,
                "verification": mode,
                "eligible": int(eligible),
                "claims": c["claims"],
                "handed_over": c["handed_over"],
                "progress": c["handed_over"] / base if base else 0.0,
                "claimed_share": c["claims"] / base if base else 0.0,
            }
        )
    schools.sort(key=lambda s: (s["progress"], s["claimed_share"], s["name_en"], s["school_id"]))
    head = {"eligible": sum(s["eligible"] for s in schools)}
    head.update({k: sum(c[k] for c in counts.values()) for k in COUNTS})
    head["failed_deliveries"] = int(
        session.execute(
            select(func.count())
            .select_from(RunStop)
            .join(Claim, Claim.id == RunStop.claim_id)
            .where(Claim.campaign_id == campaign_id, RunStop.status == "failed")
        ).scalar_one()
    )
    return head, schools


def headline(*, session: Session, campaign_id: int) -> dict:
    """Eligible students, claims, allocated, handed over, waitlisted, delivered, failed."""
    return figures(session=session, campaign_id=campaign_id)[0]


def scans_today(*, session: Session, tz: ZoneInfo) -> dict:
    """Scan attempts received today (all points): total and refused."""
    start, end = day_bounds(datetime.now(tz).date(), tz)
    total, refused = session.execute(
        select(func.count(), func.count().filter(Scan.result != "ok")).where(
            Scan.received_at >= start, Scan.received_at < end
        )
    ).one()
    return {"total": int(total), "refused": int(refused)}


def _by_day(rows) -> dict[str, int]:  # noqa: ANN001
    # PostgreSQL gives dates, SQLite ISO strings.
    return {str(day): int(n) for day, n in rows}


def per_day(*, session: Session, campaign_id: int, days: DayRange) -> list[dict]:
    """Claims submitted and kits handed over per local day of the range."""
    sub_day = local_day(session, Claim.submitted_at, days.tz)
    claims = _by_day(
        session.execute(
            select(sub_day, func.count())
            .where(
                Claim.campaign_id == campaign_id,
                Claim.submitted_at >= days.start,
                Claim.submitted_at < days.end,
            )
            .group_by(sub_day)
        ).all()
    )
    ho_day = local_day(session, Claim.handed_over_at, days.tz)
    handed = _by_day(
        session.execute(
            select(ho_day, func.count())
            .where(
                Claim.campaign_id == campaign_id,
                HANDED,
                Claim.handed_over_at >= days.start,
                Claim.handed_over_at < days.end,
            )
            .group_by(ho_day)
        ).all()
    )
    return [
        {
            "day": d,
            "claims": int(claims.get(d.isoformat(), 0)),
            "handed_over": int(handed.get(d.isoformat(), 0)),
        }
        for d in days.days()
    ]


def school_progress(*, session: Session, campaign_id: int) -> list[dict]:
    """Per eligible school: eligible, claimed and handed over; lagging schools first."""
    return figures(session=session, campaign_id=campaign_id)[1]


def stock(*, session: Session, item_id: int, now: datetime | None = None) -> list[dict]:
    """The campaign's kit per location: on hand, reserved, issued lately, days of stock left."""
    now = now or utcnow()
    lv = (
        select(
            StockLevel.location_id.label("location_id"),
            func.sum(StockLevel.on_hand).label("on_hand"),
            func.sum(StockLevel.reserved).label("reserved"),
        )
        .where(StockLevel.item_id == item_id)
        .group_by(StockLevel.location_id)
        .subquery()
    )
    issued = (
        select(
            StockEntry.location_id.label("location_id"),
            (-func.sum(StockEntry.on_hand_delta)).label("issued"),
        )
        .join(StockMovement, StockMovement.id == StockEntry.movement_id)
        .where(
            StockEntry.item_id == item_id,
            StockMovement.kind == "issue",
            StockMovement.created_at >= now - timedelta(days=RATE_DAYS),
        )
        .group_by(StockEntry.location_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Location,
            func.coalesce(lv.c.on_hand, 0),
            func.coalesce(lv.c.reserved, 0),
            func.coalesce(issued.c.issued, 0),
        )
        .outerjoin(lv, lv.c.location_id == Location.id)
        .outerjoin(issued, issued.c.location_id == Location.id)
        .where((lv.c.location_id.is_not(None)) | (issued.c.location_id.is_not(None)))
        .order_by(Location.kind, Location.name_en, Location.id)
    ).all()
    out = []
    for loc, on_hand, reserved, n_issued in rows:  # one row per location, already aggregated
        rate = int(n_issued) / RATE_DAYS
        out.append(
            {
                "location_id": loc.id,
                "name_zh": loc.name_zh,
                "name_en": loc.name_en,
                "kind": loc.kind,
                "on_hand": int(on_hand),
                "reserved": int(reserved),
                "available": int(on_hand) - int(reserved),
                "issued_7d": int(n_issued),
                "per_day": round(rate, 1),
                "days_left": round(int(on_hand) / rate, 1) if rate > 0 else None,
            }
        )
    return out


def runs_in_progress(*, session: Session, campaign_id: int) -> list[dict]:
    """Dispatched runs of the campaign with their stops counted by status."""
    rows = session.execute(
        select(
            Run.id,
            Run.name,
            Run.date,
            func.count(RunStop.id),
            func.count(RunStop.id).filter(RunStop.status == "planned"),
            func.count(RunStop.id).filter(RunStop.status == "delivered"),
            func.count(RunStop.id).filter(RunStop.status == "failed"),
            func.count(RunStop.id).filter(RunStop.status == "unassigned"),
        )
        .outerjoin(RunStop, RunStop.run_id == Run.id)
        .where(Run.campaign_id == campaign_id, Run.status == "dispatched")
        .group_by(Run.id, Run.name, Run.date)
        .order_by(Run.date, Run.id)
    ).all()
    keys = ("id", "name", "date", "stops", "planned", "delivered", "failed", "unassigned")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def dashboard(
    *,
    session: Session,
    campaign_id: int,
    tz: str | None = None,
    since: date | None = None,
    until: date | None = None,
    expiry_days: int = 30,
) -> dict:
    """Every figure of the dashboard page (and of GET /api/v1/dashboard)."""
    c = campaign(session=session, campaign_id=campaign_id)
    days = day_range(c, tz=tz, since=since, until=until)
    head, schools = figures(session=session, campaign_id=c.id)
    daily = per_day(session=session, campaign_id=c.id, days=days)
    return {
        "campaign": {
            "id": c.id,
            "name_zh": c.name_zh,
            "name_en": c.name_en,
            "status": c.status,
            "opens_at": c.opens_at,
            "closes_at": c.closes_at,
        },
        "since": days.since,
        "until": days.until,
        "timezone": days.tz.key,
        "headline": head,
        "empty": head["claims"] == 0 and head["handed_over"] == 0 and head["rejected"] == 0,
        "scans_today": scans_today(session=session, tz=days.tz),
        "per_day": daily,
        "schools": schools,
        "stock": stock(session=session, item_id=c.kit_item_id),
        "expiring": stock_views.alerts(session=session, days=expiry_days)["expiring"],
        "expiry_days": expiry_days,
        "runs": runs_in_progress(session=session, campaign_id=c.id),
    }
