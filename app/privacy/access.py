"""Access on request: everything kitrun holds about one student, as data (JSON) for the
diplomat's export and its PDF.

Only the student's own rows: their claims with the personal fields, history, scans, delivery
stops and the record of who was shown their contact details (by role, not by name: the staff's
identities are not the student's data), their roster lines and their mails waiting in the
outbox. Nothing about another student.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app.audit import looks
from app.audit import trail as audit
from app.core import mail
from app.core.config import Settings
from app.privacy.erase import find
from models.base import utcnow
from models.campaigns import Campaign
from models.claims import PERSONAL_FIELDS, Claim, ClaimEvent
from models.inventory import Location
from models.pickup import Scan
from models.privacy import PersonalView, PrivacyNotice
from models.runs import Run, RunStop
from models.schools import School
from models.users import User


def _iso(v):  # noqa: ANN001, ANN202
    return v.isoformat() if hasattr(v, "isoformat") else v


def student_record(
    session: Session,
    settings: Settings,
    *,
    claim_id: int | None = None,
    entry_id: int | None = None,
) -> dict:
    """The student's data as JSON-ready values (see the module's docstring for what is in it)."""
    student = find(session, claim_id=claim_id, entry_id=entry_id)
    erased = []
    if claim_id is not None:  # a claim already erased still answers: it holds no personal data
        c = session.get(Claim, claim_id)
        if c is not None and c.erased_at is not None:
            erased = [c]
    claims = sorted(student.claims + erased, key=lambda c: c.id)
    schools = {s.id: s for s in session.execute(select(School)).scalars()}
    out_claims = [_claim(session, c, schools) for c in claims]
    roster = [
        {
            "school": _school(schools, r.school_id),
            "student_number": r.student_number,
            "name": r.name,
            "birth_date": r.birth_date.isoformat(),
            "email": r.email,
        }
        for r in sorted(student.roster, key=lambda r: r.id)
    ]
    return {
        "generated_at": utcnow().isoformat(),
        "claims": out_claims,
        "roster_entries": roster,
        "mail": _mail(settings, student.emails, student.codes),
    }


def _school(schools: dict, school_id: int) -> dict:
    s = schools.get(school_id)
    return {"id": school_id, "name_zh": s.name_zh if s else "", "name_en": s.name_en if s else ""}


def _claim(session: Session, c: Claim, schools: dict) -> dict:
    campaign = session.get(Campaign, c.campaign_id)
    notice = session.get(PrivacyNotice, c.notice_id) if c.notice_id else None
    events = session.execute(
        select(ClaimEvent).where(ClaimEvent.claim_id == c.id).order_by(ClaimEvent.id)
    ).scalars()
    scans = session.execute(
        select(Scan.scanned_at, Scan.result, Location.name_zh, Location.name_en)
        .outerjoin(Location, Location.id == Scan.location_id)
        .where(Scan.claim_id == c.id)
        .order_by(Scan.id)
    ).all()
    stops = session.execute(
        select(Run.date, RunStop.status, RunStop.closed_at, RunStop.fail_reason)
        .join(Run, Run.id == RunStop.run_id)
        .where(RunStop.claim_id == c.id)
        .order_by(RunStop.id)
    ).all()
    views = session.execute(
        select(PersonalView.at, PersonalView.fields, PersonalView.context, User.role)
        .outerjoin(User, User.id == PersonalView.user_id)
        .where(PersonalView.claim_id == c.id)
        .order_by(PersonalView.id)
    ).all()
    point = session.get(Location, c.pickup_location_id) if c.pickup_location_id else None
    return {
        "id": c.id,
        "short_code": c.short_code,
        "campaign": {
            "id": c.campaign_id,
            "name_zh": campaign.name_zh if campaign else "",
            "name_en": campaign.name_en if campaign else "",
        },
        "school": _school(schools, c.school_id),
        "personal": {k: _iso(getattr(c, k)) for k in PERSONAL_FIELDS},
        "is_minor": c.is_minor,
        "quarantine": c.quarantine,
        "locale": c.locale,
        "status": c.status,
        "fulfilment": c.fulfilment,
        "pickup_point": (
            {"name_zh": point.name_zh, "name_en": point.name_en} if point is not None else None
        ),
        "notice": (
            {"version": notice.version, "accepted_at": _iso(c.consented_at)} if notice else None
        ),
        "submitted_at": _iso(c.submitted_at),
        "handed_over_at": _iso(c.handed_over_at),
        "erased_at": _iso(c.erased_at),
        "history": [
            {
                "at": _iso(e.at),
                "from": e.from_status,
                "to": e.to_status,
                "reasons": list(e.reasons or []),
            }
            for e in events
        ],
        "scans": [
            {"at": _iso(s.scanned_at), "result": s.result, "point_zh": s[2], "point_en": s[3]}
            for s in scans
        ],
        "delivery_stops": [
            {
                "run_date": _iso(s.date),
                "status": s.status,
                "closed_at": _iso(s.closed_at),
                "fail_reason": s.fail_reason,
            }
            for s in stops
        ],
        "contact_details_shown": [
            {"at": _iso(v.at), "fields": v.fields, "where": v.context, "to": v.role} for v in views
        ],
    }


def _mail(settings: Settings, emails: set[str], codes: set[str]) -> list[dict]:
    return [
        {"to": str(msg["To"]), "subject": str(msg["Subject"]), "date": str(msg["Date"] or "")}
        for _path, msg in mail.in_outbox(settings, emails, codes)
    ]


def export(
    session: Session,
    settings: Settings,
    *,
    claim_id: int | None = None,
    entry_id: int | None = None,
    user_id: int | None,
    reason: str,
) -> dict:
    """The student's record for a diplomat's access export: audited with its reason, and the
    minors' contact details it shows recorded as looked at (context "access"); commits."""
    record = student_record(session, settings, claim_id=claim_id, entry_id=entry_id)
    ids = [c["id"] for c in record["claims"]]
    audit.record(
        session,
        user_id=user_id,
        action="student.access",
        object_type="student",
        object_id=",".join(str(i) for i in ids)[:40] or f"roster:{entry_id}",
        after={"reason": reason, "claims": ids, "roster_entries": len(record["roster_entries"])},
    )
    looks.record(
        session,
        user_id=user_id,
        context="access",
        shown=[
            (c["id"], c["is_minor"], bool(c["personal"]["address"]), bool(c["personal"]["phone"]))
            for c in record["claims"]
        ],
    )
    session.commit()
    return record
