"""Retention: a campaign's students' personal data is erased once its retention period after
closing has passed (minors' first: their period is shorter, and they are purged first), and
working files (label PDFs and uploads in the file store, outbox mails) and roster import errors
are dropped after `file_retention_days`. Run by `kitrun privacy purge [--dry-run]` and by every
app process's scheduled job (`periodic`); purges are idempotent and skip rows another purge
holds.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import String, cast, delete, func, literal, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.audit import trail as audit
from app.campaigns.notices import as_utc, erase_after
from app.core.config import Settings
from app.core.files import FileStore
from app.privacy import erase as erasure
from models.base import utcnow
from models.campaigns import Campaign, CampaignSchool
from models.claims import Claim, GeocodeCache
from models.printing import PrintJob
from models.privacy import PurgeItem, PurgeReport
from models.schools import RosterEntry, RosterImport
from models.users import LoginThrottle, RateBucket

log = logging.getLogger(__name__)
BATCH = 500  # claims erased per transaction


def _expired_campaigns(session: Session, now: datetime) -> list[tuple[Campaign, bool]]:
    """(campaign, minors only) for every campaign with data past its retention: minors first."""
    out = []
    for c in session.execute(select(Campaign).order_by(Campaign.closes_at)).scalars():
        if erase_after(c, minor=True) <= now:
            out.append((c, erase_after(c, minor=False) > now))
    return sorted(out, key=lambda t: not t[1])


def _due_claims(session: Session, campaign: Campaign, minors_only: bool, *, lock: bool):  # noqa: ANN202
    stmt = (
        select(Claim)
        .where(Claim.campaign_id == campaign.id, Claim.erased_at.is_(None))
        .order_by(Claim.is_minor.desc(), Claim.id)
    )
    if minors_only:
        stmt = stmt.where(Claim.is_minor.is_(True))
    if lock:
        stmt = stmt.limit(BATCH).with_for_update(skip_locked=True)
    return stmt


def _expired_schools(session: Session, now: datetime) -> list[int]:
    """Schools all of whose campaigns are past their retention (their roster has no use left)."""
    rows = session.execute(
        select(CampaignSchool.school_id, Campaign).join(
            Campaign, Campaign.id == CampaignSchool.campaign_id
        )
    ).all()
    alive: dict[int, bool] = {}
    for school_id, campaign in rows:
        alive[school_id] = alive.get(school_id, False) or erase_after(campaign, minor=False) > now
    return sorted(s for s, a in alive.items() if not a)


def purge(
    session: Session, settings: Settings, *, now: datetime | None = None, dry_run: bool = False
) -> PurgeReport:
    """Erase what is past its retention (or, with dry_run, only say what would be erased)."""
    now = now or utcnow()
    items = []
    for campaign, minors_only in _expired_campaigns(session, now):
        due = session.execute(
            select(func.count()).select_from(
                _due_claims(session, campaign, minors_only, lock=False).subquery()
            )
        ).scalar_one()
        if due:
            items.append(
                PurgeItem(
                    campaign_id=campaign.id,
                    campaign=campaign.name_en,
                    closed_at=as_utc(campaign.closes_at),
                    minors=minors_only,
                    claims=due,
                )
            )
    schools = _expired_schools(session, now)
    live_roster = [RosterEntry.school_id.in_(schools), RosterEntry.name != ""]
    roster = (
        session.execute(select(func.count()).where(*live_roster)).scalar_one() if schools else 0
    )
    files = _old_files(session, settings, now, {i.campaign_id for i in items})
    report = PurgeReport(dry_run=dry_run, claims=items, roster_entries=roster, files=len(files))
    session.rollback()
    if dry_run:
        return report
    for item in items:
        campaign = session.get(Campaign, item.campaign_id)
        _purge_campaign(session, settings, campaign, item.minors)
    if schools:
        # anonymous lines, as an erasure leaves them: the old campaigns' counts stay
        session.execute(
            update(RosterEntry)
            .where(*live_roster)
            .values(
                student_number=literal("erased-").concat(cast(RosterEntry.id, String)),
                name="",
                name_norm="",
                birth_date=None,
                email=None,
            )
        )
        session.execute(
            update(RosterImport).where(RosterImport.school_id.in_(schools)).values(errors=[])
        )
    old = now - timedelta(days=settings.file_retention_days)
    for imp in session.execute(select(RosterImport).where(RosterImport.created_at < old)).scalars():
        if imp.errors:  # (JSON has no equality in PostgreSQL: compared here)
            imp.errors = []
            session.add(imp)
    store = FileStore(session)
    for job, path in _old_files(session, settings, now, {i.campaign_id for i in items}):
        if path is not None:
            path.unlink(missing_ok=True)
        if job is not None:
            store.delete(job.file_path)
            job.file_path = None
            job.message = "The file was removed at the end of its retention period."
            session.add(job)
    # what was stored with an expiry, e.g. the upload of a roster import that never ran
    store.delete_expired(now)
    _prune_counters(session, settings, now)
    # the geocoder's cache holds addresses: kept as long as the working files
    session.execute(delete(GeocodeCache).where(GeocodeCache.created_at < old))
    if items or roster or files:
        audit.record(
            session,
            user_id=None,
            action="privacy.purge",
            object_type="privacy",
            object_id="retention",
            after={
                "claims": {str(i.campaign_id): i.claims for i in items},
                "roster_entries": roster,
                "files": len(files),
            },
        )
    session.commit()
    erasure.compact(session)
    return report


def _prune_counters(session: Session, settings: Settings, now: datetime) -> None:
    """Rate-limit windows and log-in throttles that ended a day ago (their keys name addresses
    and accounts)."""
    cutoff = int(now.timestamp()) - 86400
    session.execute(delete(RateBucket).where(RateBucket.window_start < cutoff))
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.since < int(now.timestamp()) - settings.login_window_seconds,
            LoginThrottle.not_before < int(now.timestamp()),
        )
    )


def _purge_campaign(
    session: Session, settings: Settings, campaign: Campaign, minors_only: bool
) -> None:
    while True:
        claims = list(
            session.execute(_due_claims(session, campaign, minors_only, lock=True)).scalars()
        )
        if not claims:
            session.rollback()
            return
        student = erasure.Student(claims=claims, roster=[])
        erasure.erase_claims(session, student, user_id=None, why="retention period over")
        session.commit()
        erasure.remove_mail(settings, student.emails, student.codes)
        log.info("retention: erased %d claim(s) of campaign %d", len(claims), campaign.id)


def _old_files(
    session: Session, settings: Settings, now: datetime, campaign_ids: set[int]
) -> list[tuple[PrintJob | None, Path | None]]:
    """Label PDFs (in the file store) of purged campaigns or older than file_retention_days,
    and outbox mails older than that: (job, None) or (None, the mail's path)."""
    old = now - timedelta(days=settings.file_retention_days)
    found: list[tuple[PrintJob | None, Path | None]] = []
    for job in session.execute(select(PrintJob).where(PrintJob.file_path.is_not(None))).scalars():
        created = as_utc(job.created_at)
        if (job.params or {}).get("campaign_id") in campaign_ids or created < old:
            found.append((job, None))
    outbox = settings.outbox_dir
    if outbox.is_dir():
        for path in outbox.glob("*.eml"):
            if path.stat().st_mtime < old.timestamp():
                found.append((None, path))
    return found


async def periodic(engine: Engine, settings: Settings) -> None:
    """Purge every `purge_interval_seconds` (the first time one interval after start)."""
    interval = settings.purge_interval_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            report = await asyncio.to_thread(_purge_with, engine, settings)
            if report.claims or report.roster_entries or report.files:
                log.info(
                    "retention purge: %d claim(s), %d roster line(s), %d file(s)",
                    sum(i.claims for i in report.claims),
                    report.roster_entries,
                    report.files,
                )
        except Exception:  # a failed run is retried at the next interval
            log.exception("retention purge failed")


def _purge_with(engine: Engine, settings: Settings) -> PurgeReport:
    with Session(engine) as session:
        return purge(session, settings)
