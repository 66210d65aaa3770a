"""What happens to a claim after its submission: the e-mail code, the holder's actions (status,
slot, cancellation) and the diplomats' decisions. Submission and allocation: claims.py.
"""

from __future__ import annotations

import functools

import psycopg
from sqlalchemy import bindparam, func, literal_column, tuple_, update
from sqlmodel import Session, select

from app.audit import trail as audit
from app.campaigns import service as campaigns
from app.claims import submit as claims
from app.claims.eligibility import reason
from app.core import security
from app.core.config import Settings
from app.core.db import Prepared
from app.core.errors import N_, Conflict, Invalid, NotFound, TooManyRequests
from app.inventory import ledger
from app.inventory.ledger import Delta
from models.base import utcnow
from models.claims import CANCELLABLE, Claim

MAX_CODE_ATTEMPTS = 5


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
    claims.verify_and_allocate(
        session, claim, [reason("email_verified", N_("School e-mail address confirmed."))]
    )
    session.commit()
    session.refresh(claim)
    claims.notify(session, settings, claim)
    session.commit()
    return claim


def resend_code(*, session: Session, settings: Settings, token: str) -> Claim:
    claim = by_token(session=session, token=token)
    if claim.status != "submitted" or not claim.email:
        raise Conflict(N_("This claim is not waiting for an e-mail code."))
    claims.limit_attempts(session, settings, {f"code:{claim.id}": 3})
    claims.send_code(session, settings, claim)
    session.commit()
    return claim


# ---------------------------------------------------------------- the holder's actions


def by_token(*, session: Session, token: str) -> Claim:
    claim = session.exec(select(Claim).where(Claim.token == token)).first()
    if claim is None:
        raise NotFound(N_("No claim at this address. Check the link."))
    return claim


@functools.cache
def _ahead() -> Prepared:
    """How many waitlisted claims come before one (minors first, then by time, then by id)."""
    c = Claim.__table__.c
    key = [bindparam(name, type_=c[name].type) for name in ("priority", "submitted_at", "id")]
    return Prepared(
        select(func.count())
        .select_from(Claim)
        .where(
            Claim.status == literal_column("'waitlisted'"),
            Claim.reserved_location_id == bindparam("location_id"),
            Claim.reserved_item_id == bindparam("item_id"),
            tuple_(Claim.priority, Claim.submitted_at, Claim.id) < tuple_(*key),
        )
    )


def _ahead_params(claim) -> dict:  # noqa: ANN001
    return {
        "location_id": claim.reserved_location_id,
        "item_id": claim.reserved_item_id,
        "priority": claim.priority,
        "submitted_at": claim.submitted_at,
        "id": claim.id,
    }


def waitlist_position(session: Session, claim: Claim) -> int | None:
    if claim.status != "waitlisted":
        return None
    return int(_ahead().one(session, _ahead_params(claim))[0]) + 1


async def waitlist_position_on(conn: psycopg.AsyncConnection, claim) -> int | None:  # noqa: ANN001
    """`waitlist_position` on a connection of the event-loop pool (PostgreSQL)."""
    if claim.status != "waitlisted":
        return None
    return int((await _ahead().first(conn, _ahead_params(claim)))[0]) + 1


def cancel(*, session: Session, token: str, user_id: int | None = None, note: str = "") -> Claim:
    """Cancel a claim; its reserved kit and slot are released."""
    claim = by_token(session=session, token=token)
    cancel_in(session, claim, user_id=user_id, note=note)
    session.commit()
    session.refresh(claim)
    return claim


def cancel_in(session: Session, claim: Claim, *, user_id: int | None, note: str = "") -> None:
    """Cancel `claim` in the caller's transaction: its reserved kit goes back to stock (a
    `release` movement) and its slot is freed. Conflict when it is past cancelling."""
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
    claims.event(session, claim, "cancelled", r, from_status=prev, user_id=user_id, note=note)


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
            claims.verify_and_allocate(
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
            claims.event(
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
            claims.notify(session, settings, claim)
    session.commit()
    return {"decided": done, "skipped": skipped}
