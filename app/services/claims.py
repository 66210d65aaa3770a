"""Claims: submit, verify, allocate a kit (or waitlist), change slot, cancel, review."""

from __future__ import annotations

import json
import secrets
from datetime import date, timedelta

import psycopg
from sqlalchemy import func, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from app import mail, security
from app.config import Settings
from app.db import Prepared, autocommit_reads, in_autocommit
from app.errors import N_, Conflict, Invalid, NotFound, TooManyRequests
from app.services import audit, campaigns, eligibility, ledger, ratelimit
from app.services.eligibility import AlreadyClaimed, reason
from app.services.ledger import Delta, OutOfStock
from models.base import utcnow
from models.campaigns import Campaign
from models.claims import Claim, ClaimEvent, ClaimIn
from models.inventory import StockLevel

CODE_TTL = timedelta(minutes=30)
MAX_CODE_ATTEMPTS = 5
CANCELLABLE = ("submitted", "verified", "waitlisted", "allocated", "ready")


def _event(
    session: Session,
    claim: Claim,
    to_status: str,
    reasons: list[dict],
    *,
    from_status: str | None = None,
    user_id: int | None = None,
    note: str = "",
) -> None:
    session.add(
        ClaimEvent(
            claim_id=claim.id,
            from_status=from_status,
            to_status=to_status,
            reasons=reasons,
            user_id=user_id,
            note=note,
        )
    )


def submit(
    *,
    session: Session,
    settings: Settings,
    campaign: Campaign,
    data: ClaimIn,
    locale: str,
    address: str,
    today: date | None = None,
) -> Claim:
    """Check and store a student's claim, then reserve a kit or waitlist it (one transaction).

    A caller that runs the session in autocommit (`app.db.autocommit_reads`, as the routes do)
    keeps it so on PostgreSQL: its connection stays with the session for the caller's next read.
    """
    keep = in_autocommit(session)
    # Rate limits count every attempt, failed ones too (a roster match must not be guessable by
    # trying birth dates), in their own short transaction: a campus behind one address shares a
    # counter row, which must not stay locked while a claim is checked.
    raw_key = eligibility.student_key(data.school_id, data.student_number, data.email)
    _limit(
        session,
        settings,
        {
            f"claim:ip:{address}": settings.claim_rate_per_ip,
            f"claim:student:{campaign.id}:{raw_key}": settings.claim_rate_per_student,
        },
    )
    try:
        return _submit(session, settings, campaign, data, locale, today, True, keep)
    except _LotTaken:
        # The kit we aimed at went to a concurrent claim: start again, to the waitlist.
        session.rollback()
        return _submit(session, settings, campaign, data, locale, today, False, keep)


class _LotTaken(Exception):
    """The last, conditional stock update of a claim found the lot already taken."""


def _submit(
    session: Session,
    settings: Settings,
    campaign: Campaign,
    data: ClaimIn,
    locale: str,
    today: date | None,
    reserve: bool,
    keep: bool,
) -> Claim:
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        autocommit_reads(session)  # the rules' one read, then (below) one write
    decision = eligibility.decide(
        session=session, campaign=campaign, data=data, today=today or date.today()
    )
    claim = Claim(
        campaign_id=campaign.id,
        school_id=data.school_id,
        student_key=decision.student_key,
        status="submitted",
        token=security.new_claim_token(),
        short_code=security.new_short_code(),
        name_zh=data.name_zh.strip(),
        name_latin=data.name_latin.strip(),
        student_number=data.student_number.strip(),
        email=data.email.strip().lower() or None,
        birth_date=data.birth_date,
        phone=data.phone.strip(),
        wechat=data.wechat.strip(),
        is_minor=decision.is_minor,
        quarantine=data.quarantine,
        priority=0 if decision.is_minor else 1,
        fulfilment=data.fulfilment.value,
        pickup_location_id=data.pickup_location_id if data.fulfilment == "pickup" else None,
        address=data.address.strip(),
        lat=data.lat,
        lon=data.lon,
        delivery_reason=decision.delivery_reason,
        locale=locale,
        reasons=decision.reasons,
        reserved_item_id=campaign.kit_item_id,
        reserved_location_id=decision.location_id,
        kits=campaign.kits_per_student,
    )
    if postgres and decision.verification != "email":
        return _submit_in_one_statement(session, settings, claim, decision, data, reserve, keep)
    if postgres:
        session.commit()  # end the autocommit read: what follows is one transaction
    try:
        session.add(claim)
        session.flush()  # the partial unique index refuses a second live claim here
    except IntegrityError as exc:
        session.rollback()
        raise AlreadyClaimed(N_("You have already claimed a kit in this campaign.")) from exc
    if data.fulfilment == "pickup" and data.slot_id is not None:
        campaigns.book_slot(session, slot_id=data.slot_id, location_id=data.pickup_location_id)
        claim.slot_id = data.slot_id
    _event(session, claim, "submitted", decision.reasons)
    if decision.verification == "email":
        _send_code(session, settings, claim)
    elif decision.verified:
        claim.status = "verified"
        claim.decided_at = utcnow()
        _event(session, claim, "verified", [])
        if not reserve or _waitlist_ahead(session, claim):
            _waitlist(session, claim)
        else:
            _reserve_last(session, claim)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent twin won the unique index at commit time
        session.rollback()
        raise AlreadyClaimed(N_("You have already claimed a kit in this campaign.")) from exc
    if claim.email and claim.status != "submitted":
        _notify(session, settings, claim)
    return claim


_SUBMIT = Prepared(
    text(
        "SELECT kitrun_submit_claim(CAST(:claim AS json), CAST(:events AS json), :reserve, "
        "CAST(:allocated AS json), CAST(:waitlisted AS json), :now)"
    )
)
_ALLOCATED = [reason("allocated", N_("A kit is reserved."))]
_NO_STOCK = [reason("no_stock", N_("No kit available at this place yet: on the waitlist."))]


def _submit_in_one_statement(
    session: Session,
    settings: Settings,
    claim: Claim,
    decision: eligibility.Decision,
    data: ClaimIn,
    reserve: bool,
    keep: bool,
) -> Claim:
    """PostgreSQL: the claim written by one call of `kitrun_submit_claim` (see its migration),
    in autocommit: slot place, claim row, events, and the FEFO reservation or the waitlist.

    The same steps as the transaction below it in `_submit` (SQLite, e-mail verification); a
    change to one must be made to the other.
    """
    if data.fulfilment == "pickup" and data.slot_id is not None:
        campaigns.check_slot(session, slot_id=data.slot_id, location_id=data.pickup_location_id)
        claim.slot_id = data.slot_id
    now = utcnow()
    events = [{"from_status": None, "to_status": "submitted", "reasons": decision.reasons}]
    if decision.verified:
        claim.status, claim.decided_at = "verified", now
        events.append({"from_status": None, "to_status": "verified", "reasons": []})
    row = {c.name: getattr(claim, c.name) for c in Claim.__table__.columns if c.name != "id"}
    try:
        out = _SUBMIT.execute(
            session,
            {
                "claim": json.dumps(audit.plain(row)),
                "events": json.dumps(events),
                "reserve": decision.verified and reserve,
                "allocated": json.dumps(_ALLOCATED),
                "waitlisted": json.dumps(_NO_STOCK),
                "now": now,
            },
        ).fetchone()[0]
    except psycopg.IntegrityError as exc:  # a concurrent twin holds the live claim
        session.rollback()
        raise AlreadyClaimed(N_("You have already claimed a kit in this campaign.")) from exc
    except psycopg.Error as exc:
        session.rollback()
        if exc.sqlstate == "KR002":
            raise campaigns.SlotFull(N_("That time slot is full; choose another.")) from exc
        raise
    claim.id, claim.status = out["id"], out["status"]
    if claim.status == "allocated":
        claim.reserved_lot_id, claim.allocated_at = out["lot_id"], now
        claim.reasons = [*claim.reasons, *_ALLOCATED]
    elif claim.status == "waitlisted":
        claim.reasons = [*claim.reasons, *_NO_STOCK]
    # The row as stored, in the session without reading it back.
    make_transient_to_detached(claim)
    session.add(claim)
    if claim.email and claim.status != "submitted":
        _notify(session, settings, claim)
    elif keep:
        # Nothing waits for a commit: the connection stays for the caller's answer read (a
        # commit would give it back to the pool and that read check out another, a round trip).
        return claim
    session.commit()  # sends the queued mail (app/mail.py); the claim is already stored
    return claim


def _limit(session: Session, settings: Settings, limits: dict[str, int]) -> None:
    """Count one attempt per key in the database (holds across worker processes)."""
    counts = ratelimit.hit_many(
        session, list(limits), window_seconds=settings.claim_rate_window_seconds
    )
    if not in_autocommit(session):  # (in autocommit it is stored; keep the connection)
        session.commit()
    if any(counts[k] > limit for k, limit in limits.items()):
        raise TooManyRequests(N_("Too many attempts. Wait a minute and try again."))


def _reserve_last(session: Session, claim: Claim) -> None:
    """Reserve a kit for a new claim with the stock update as the transaction's last statement.

    Every kit at a point sits in one level row; taking its row lock last and committing right
    after keeps the time other claims wait for it to one round trip.
    """
    lots = [
        (lot_id, avail)
        for lot_id, avail in ledger.available_lots(
            session, item_id=claim.reserved_item_id, location_id=claim.reserved_location_id
        )
        if avail >= claim.kits
    ]
    if not lots:
        _waitlist(session, claim)
        return
    lot_id = lots[0][0]
    claim.status, claim.reserved_lot_id, claim.allocated_at = "allocated", lot_id, utcnow()
    r = [reason("allocated", N_("A kit is reserved."))]
    claim.reasons = [*claim.reasons, *r]
    session.add(claim)
    _event(session, claim, "allocated", r, from_status="verified")
    movement = ledger.new_movement(session, kind="reserve", reference=f"claim:{claim.id}")
    delta = Delta(claim.reserved_item_id, lot_id, claim.reserved_location_id, reserved=claim.kits)
    if not ledger.apply_last(session, movement, delta):
        raise _LotTaken()


def _waitlist(session: Session, claim: Claim) -> None:
    claim.status = "waitlisted"
    r = [reason("no_stock", N_("No kit available at this place yet: on the waitlist."))]
    claim.reasons = [*claim.reasons, *r]
    session.add(claim)
    _event(session, claim, "waitlisted", r, from_status="verified")


def _verified_then_allocate(
    session: Session, claim: Claim, reasons: list[dict], user_id: int | None = None
) -> None:
    prev = claim.status
    claim.status = "verified"
    claim.decided_at = utcnow()
    _event(session, claim, "verified", reasons, from_status=prev, user_id=user_id)
    allocate(session, claim)


def _waitlist_ahead(session: Session, claim: Claim) -> bool:
    return (
        session.exec(
            select(Claim.id)
            .where(
                Claim.status == "waitlisted",
                Claim.reserved_location_id == claim.reserved_location_id,
                Claim.reserved_item_id == claim.reserved_item_id,
                Claim.id != claim.id,
            )
            .limit(1)
        ).first()
        is not None
    )


def _reserve(session: Session, claim: Claim) -> int | None:
    """Reserve claim.kits kits of one lot at the claim's location, FEFO; the lot id or None."""
    movement = None
    for lot_id, available in ledger.available_lots(
        session, item_id=claim.reserved_item_id, location_id=claim.reserved_location_id
    ):
        if available < claim.kits:
            continue
        movement = movement or ledger.new_movement(
            session, kind="reserve", reference=f"claim:{claim.id}"
        )
        try:
            ledger.apply(
                session,
                movement,
                Delta(
                    claim.reserved_item_id, lot_id, claim.reserved_location_id, reserved=claim.kits
                ),
            )
        except OutOfStock:
            continue  # another claim took it first; try the next lot
        return lot_id
    return None


def allocate(session: Session, claim: Claim) -> None:
    """Reserve a kit for a verified claim, or put it on the waitlist (minors first)."""
    lot_id = None if _waitlist_ahead(session, claim) else _reserve(session, claim)
    if lot_id is None:
        claim.status = "waitlisted"
        r = [reason("no_stock", N_("No kit available at this place yet: on the waitlist."))]
    else:
        claim.status = "allocated"
        claim.reserved_lot_id = lot_id
        claim.allocated_at = utcnow()
        r = [reason("allocated", N_("A kit is reserved."))]
    claim.reasons = [*claim.reasons, *r]
    claim.updated_at = utcnow()
    session.add(claim)
    _event(session, claim, claim.status, r, from_status="verified")


def allocate_waitlist(session: Session, item_id: int, location_id: int) -> int:
    """Kits arrived at a location: allocate waitlisted claims, minors first, then by time."""
    allocated = 0
    queue = session.exec(
        select(Claim)
        .where(
            Claim.status == "waitlisted",
            Claim.reserved_location_id == location_id,
            Claim.reserved_item_id == item_id,
        )
        .order_by(Claim.priority, Claim.submitted_at, Claim.id)
    ).all()
    t = Claim.__table__.c
    for claim in queue:
        with session.begin_nested() as sp:
            taken = session.execute(
                update(Claim)
                .where(t.id == claim.id, t.status == "waitlisted")
                .values(status="verified")
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                sp.rollback()
                continue
            claim.status = "verified"
            lot_id = _reserve(session, claim)
            if lot_id is None:
                sp.rollback()
                break
            claim.status, claim.reserved_lot_id = "allocated", lot_id
            claim.allocated_at = claim.updated_at = utcnow()
            r = [reason("allocated_from_waitlist", N_("Kits arrived: a kit is now reserved."))]
            claim.reasons = [*claim.reasons, *r]
            session.add(claim)
            _event(session, claim, "allocated", r, from_status="waitlisted")
        allocated += 1
        settings = session.info.get("kitrun_settings")
        if claim.email and settings is not None:
            _notify(session, settings, claim)
    return allocated


ledger.stock_added_hooks.append(allocate_waitlist)


def _notify(session: Session, settings: Settings, claim: Claim) -> None:
    from app.services.claim_mail import status_mail

    mail.queue(session, settings, status_mail(settings, claim))


# ---------------------------------------------------------------- e-mail codes


def _send_code(session: Session, settings: Settings, claim: Claim) -> None:
    from app.services.claim_mail import code_mail

    code = f"{secrets.randbelow(10**6):06d}"
    claim.email_code_hash = security.keyed_hash(settings.secret, f"{claim.token}:{code}")
    claim.email_code_expires_at = utcnow() + CODE_TTL
    claim.email_code_attempts = 0
    session.add(claim)
    mail.queue(session, settings, code_mail(settings, claim, code))


def verify_code(*, session: Session, settings: Settings, token: str, code: str) -> Claim:
    """Check the six-digit e-mail code of a claim; then allocate."""
    claim = by_token(session=session, token=token)
    if claim.status != "submitted" or claim.email_code_hash is None:
        raise Conflict(N_("This claim is not waiting for an e-mail code."))
    if claim.email_code_attempts >= MAX_CODE_ATTEMPTS:
        raise TooManyRequests(N_("Too many wrong codes. Ask for a new code."))
    expired = claim.email_code_expires_at is None or claim.email_code_expires_at < utcnow()
    good = security.keyed_hash(settings.secret, f"{claim.token}:{code.strip()}")
    if expired or good != claim.email_code_hash:
        claim.email_code_attempts += 1
        session.add(claim)
        session.commit()
        if expired:
            raise Invalid(N_("The code has expired. Ask for a new code."), code="code_expired")
        raise Invalid(N_("Wrong code. Check the e-mail we sent you."), code="code_wrong")
    claim.email_code_hash = None
    _verified_then_allocate(
        session, claim, [reason("email_verified", N_("School e-mail address confirmed."))]
    )
    session.commit()
    session.refresh(claim)
    _notify(session, settings, claim)
    session.commit()
    return claim


def resend_code(*, session: Session, settings: Settings, token: str) -> Claim:
    claim = by_token(session=session, token=token)
    if claim.status != "submitted" or not claim.email:
        raise Conflict(N_("This claim is not waiting for an e-mail code."))
    _limit(session, settings, {f"code:{claim.id}": 3})
    _send_code(session, settings, claim)
    session.commit()
    return claim


# ---------------------------------------------------------------- the holder's actions


def by_token(*, session: Session, token: str) -> Claim:
    claim = session.exec(select(Claim).where(Claim.token == token)).first()
    if claim is None:
        raise NotFound(N_("No claim at this address. Check the link."))
    return claim


def waitlist_position(session: Session, claim: Claim) -> int | None:
    if claim.status != "waitlisted":
        return None
    ahead = session.exec(
        select(func.count())
        .select_from(Claim)
        .where(
            Claim.status == "waitlisted",
            Claim.reserved_location_id == claim.reserved_location_id,
            Claim.reserved_item_id == claim.reserved_item_id,
            (Claim.priority < claim.priority)
            | ((Claim.priority == claim.priority) & (Claim.submitted_at < claim.submitted_at))
            | (
                (Claim.priority == claim.priority)
                & (Claim.submitted_at == claim.submitted_at)
                & (Claim.id < claim.id)
            ),
        )
    ).one()
    return int(ahead) + 1


def cancel(*, session: Session, token: str, user_id: int | None = None, note: str = "") -> Claim:
    """Cancel a claim; its reserved kit and slot are released."""
    claim = by_token(session=session, token=token)
    t = Claim.__table__.c
    prev = claim.status
    done = session.execute(
        update(Claim)
        .where(t.id == claim.id, t.status.in_(CANCELLABLE))
        .values(status="cancelled", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        raise Conflict(N_("This claim can no longer be cancelled."), code="not_cancellable")
    if prev in ("allocated", "ready") and claim.reserved_lot_id:
        mv = ledger.new_movement(
            session, kind="release", reference=f"claim:{claim.id}", user_id=user_id
        )
        ledger.apply(
            session,
            mv,
            Delta(
                claim.reserved_item_id,
                claim.reserved_lot_id,
                claim.reserved_location_id,
                reserved=-claim.kits,
            ),
        )
        ledger.notify_stock_added(session, claim.reserved_item_id, claim.reserved_location_id)
    if claim.slot_id:
        campaigns.release_slot(session, slot_id=claim.slot_id)
    r = [reason("cancelled", N_("Cancelled."))]
    _event(session, claim, "cancelled", r, from_status=prev, user_id=user_id, note=note)
    session.commit()
    session.refresh(claim)
    return claim


def change_slot(*, session: Session, token: str, slot_id: int) -> Claim:
    """Move a pickup claim to another slot of its pickup point."""
    claim = by_token(session=session, token=token)
    if claim.fulfilment != "pickup" or claim.status not in CANCELLABLE:
        raise Conflict(N_("The time slot of this claim cannot be changed."))
    if claim.slot_id == slot_id:
        return claim
    campaigns.book_slot(session, slot_id=slot_id, location_id=claim.pickup_location_id)
    if claim.slot_id:
        campaigns.release_slot(session, slot_id=claim.slot_id)
    claim.slot_id = slot_id
    claim.updated_at = utcnow()
    session.add(claim)
    session.commit()
    session.refresh(claim)
    return claim


# ---------------------------------------------------------------- diplomats' decisions


def decide_many(
    *,
    session: Session,
    settings: Settings,
    claim_ids: list[int],
    approve: bool,
    user_id: int,
    note: str = "",
) -> dict:
    """Approve (then allocate) or reject claims waiting for manual review, all in one go."""
    done, skipped = [], []
    for cid in claim_ids:
        claim = session.get(Claim, cid)
        if claim is None:
            raise NotFound(N_("No claim with id {id}."), params={"id": cid})
        if claim.status != "submitted":
            skipped.append(cid)
            continue
        before = audit.snapshot(claim, audit.CLAIM_FIELDS)
        if approve:
            _verified_then_allocate(
                session,
                claim,
                [reason("approved", N_("Approved by consular staff. {note}"), note=note)],
                user_id=user_id,
            )
        else:
            r = [reason("rejected", N_("Refused by consular staff: {note}"), note=note or "-")]
            claim.status, claim.decided_at = "rejected", utcnow()
            claim.reasons = [*claim.reasons, *r]
            if claim.slot_id:
                campaigns.release_slot(session, slot_id=claim.slot_id)
            session.add(claim)
            _event(
                session, claim, "rejected", r, from_status="submitted", user_id=user_id, note=note
            )
        after = {**audit.snapshot(claim, audit.CLAIM_FIELDS), "note": note}
        action = "claim.approve" if approve else "claim.reject"
        audit.record(
            session,
            user_id=user_id,
            action=action,
            object_type="claim",
            object_id=cid,
            before=before,
            after=after,
        )
        done.append(cid)
    session.commit()
    for cid in done:
        claim = session.get(Claim, cid)
        if claim.email:
            _notify(session, settings, claim)
    session.commit()
    return {"decided": done, "skipped": skipped}


def reserved_total(session: Session, item_id: int) -> int:
    return int(
        session.exec(
            select(func.coalesce(func.sum(StockLevel.reserved), 0)).where(
                StockLevel.item_id == item_id
            )
        ).one()
    )
