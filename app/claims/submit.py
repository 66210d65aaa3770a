"""Claims: submit (check, then reserve a kit or waitlist), allocation, the waitlist.

What happens to a claim afterwards (its e-mail code, the holder's and the diplomats' actions) is
in app/claims/actions.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import date, timedelta

import psycopg
from sqlalchemy import func, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from app.audit import trail as audit
from app.campaigns import service as campaigns
from app.claims import eligibility
from app.claims.eligibility import AlreadyClaimed, reason
from app.core import geocode, mail, ratelimit, security
from app.core.config import Settings
from app.core.db import Prepared, autocommit_reads, in_autocommit
from app.core.errors import N_, TooManyRequests
from app.inventory import ledger
from app.inventory.ledger import Delta, OutOfStock
from models.base import utcnow
from models.campaigns import Campaign
from models.claims import Claim, ClaimEvent, ClaimIn
from models.inventory import StockLevel

CODE_TTL = timedelta(minutes=30)
_ALLOCATED = [reason("allocated", N_("A kit is reserved."))]
_NO_STOCK = [reason("no_stock", N_("No kit available at this place yet: on the waitlist."))]
_ALLOCATED_JSON, _NO_STOCK_JSON = json.dumps(_ALLOCATED), json.dumps(_NO_STOCK)


def event(
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
    counted: bool = False,
    token: str | None = None,
) -> Claim:
    """Check and store a student's claim, then reserve a kit or waitlist it (one transaction).

    A caller that runs the session in autocommit (`app.core.db.autocommit_reads`, as the routes do)
    keeps it so on PostgreSQL: its connection stays with the session for the caller's next read.
    When the fast path (app/claims/fast.py) gave way to this one: `counted`, the attempt
    was already counted against the rate limits; `token`, the token of the claim it may have
    stored before its connection broke — that claim is then the answer, not a 409.
    """
    keep = in_autocommit(session)
    if not counted:
        # Rate limits count every attempt, failed ones too (a roster match must not be
        # guessable by trying birth dates), in their own short transaction: a campus behind one
        # address shares a counter row, which must not stay locked while a claim is checked.
        limit_attempts(session, settings, rate_limits(settings, campaign.public_id, data, address))
    data = located(session, settings, data)
    try:
        try:
            return _submit(session, settings, campaign, data, locale, today, True, keep, token)
        except _LotTaken:
            # The kit we aimed at went to a concurrent claim: start again, to the waitlist.
            session.rollback()
            return _submit(session, settings, campaign, data, locale, today, False, keep, token)
    except AlreadyClaimed:
        stored = _stored(session, token) if token else None
        if stored is None:
            raise
        return stored


def located(session: Session, settings: Settings, data: ClaimIn) -> ClaimIn:
    """A delivery claim with an address and no coordinates, with the geocoder's (or without,
    when it has none: the claim is stored and diplomats pin it). Runs between transactions:
    the session holds no lock while the geocoder answers."""
    if data.fulfilment != "delivery" or not data.address.strip():
        return data
    if data.lat is not None and data.lon is not None:
        return data
    if session.in_transaction() and not in_autocommit(session):
        session.commit()
    where = geocode.locate(engine=session.get_bind(), settings=settings, address=data.address)
    lat, lon = where if where is not None else (None, None)
    return data.model_copy(update={"lat": lat, "lon": lon})


def _stored(session: Session, token: str) -> Claim | None:
    """The claim with this token, if the fast path stored it (its answer was lost)."""
    session.rollback()
    return session.exec(select(Claim).where(Claim.token == token)).first()


def rate_limits(settings: Settings, public_id: str, data: ClaimIn, address: str) -> dict[str, int]:
    """The rate-limit keys a claim attempt counts against, with their limits."""
    raw_key = eligibility.student_key(data.school_id, data.student_number, data.email)
    # keyed hash: the counters hold no student number or e-mail (and expire: privacy purge)
    student = hmac.new(settings.secret.encode(), raw_key.encode(), hashlib.sha256).hexdigest()
    return {
        f"claim:ip:{address}": settings.claim_rate_per_ip,
        f"claim:student:{public_id}:{student[:32]}": settings.claim_rate_per_student,
    }


def over_limit(counts: dict[str, int], limits: dict[str, int]) -> None:
    if any(counts[k] > limit for k, limit in limits.items()):
        raise TooManyRequests(N_("Too many attempts. Wait a minute and try again."))


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
    token: str | None = None,
) -> Claim:
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        autocommit_reads(session)  # the rules' one read, then (below) one write
    decision = eligibility.decide(
        session=session,
        campaign=campaign,
        data=data,
        today=today or date.today(),
        phone_region=settings.phone_region,
    )
    claim = Claim(**claim_values(campaign, data, decision, locale, token))
    if postgres and decision.verification != "email":
        return _submit_in_one_statement(session, settings, claim, decision, reserve, keep)
    if postgres:
        session.commit()  # end the autocommit read: what follows is one transaction
    try:
        session.add(claim)
        session.flush()  # the partial unique index refuses a second live claim here
    except IntegrityError as exc:
        session.rollback()
        raise AlreadyClaimed(N_("You have already claimed a kit in this campaign.")) from exc
    if claim.slot_id is not None:
        campaigns.book_slot(session, slot_id=claim.slot_id, location_id=claim.pickup_location_id)
    event(session, claim, "submitted", decision.reasons)
    if decision.verification == "email":
        send_code(session, settings, claim)
    elif decision.verified:
        claim.status = "verified"
        claim.decided_at = utcnow()
        event(session, claim, "verified", [])
        if not reserve or _waitlist_ahead(session, claim):
            _waitlist(session, claim)
        else:
            _reserve_last(session, claim)
    if claim.email and claim.status != "submitted":
        notify(session, settings, claim)  # sent once the commit below succeeds
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent twin won the unique index at commit time
        session.rollback()
        raise AlreadyClaimed(N_("You have already claimed a kit in this campaign.")) from exc
    return claim


_COLUMNS = [c.name for c in Claim.__table__.columns if c.name != "id"]


def new_row(values: dict) -> dict:
    """A new claim's row (without id) as `Claim(**values)` would insert it, without building
    the model: every other column gets its model default."""
    return {name: values[name] if name in values else _default(name) for name in _COLUMNS}


def _default(name: str) -> object:
    return Claim.model_fields[name].get_default(call_default_factory=True)


def claim_values(
    campaign: Campaign,
    data: ClaimIn,
    decision: eligibility.Decision,
    locale: str,
    token: str | None = None,
) -> dict:
    """A new claim's columns as the form gave them and the rules decided (status submitted).

    Only what the claim's fulfilment needs is kept, whatever else was sent: an address and its
    coordinates for a delivery, a phone (in E.164, as the rules read it) for a delivery, a minor
    or when the campaign asks for one, a WeChat ID when it asks for one. The consent is to the
    campaign's current privacy notice.
    """
    pickup = data.fulfilment == "pickup"
    return {
        "campaign_id": campaign.id,
        "school_id": data.school_id,
        "student_key": decision.student_key,
        "status": "submitted",
        "token": token or security.new_claim_token(),
        "short_code": security.new_short_code(),
        "name_zh": data.name_zh.strip(),
        "name_latin": data.name_latin.strip(),
        "student_number": data.student_number.strip(),
        "email": data.email.strip().lower() or None,
        "birth_date": data.birth_date,
        "phone": decision.phone,
        "wechat": data.wechat.strip() if campaign.asks_wechat else "",
        "is_minor": decision.is_minor,
        "quarantine": data.quarantine,
        "priority": 0 if decision.is_minor else 1,
        "fulfilment": data.fulfilment.value,
        "pickup_location_id": data.pickup_location_id if pickup else None,
        "slot_id": data.slot_id if pickup else None,
        "address": "" if pickup else data.address.strip(),
        "lat": None if pickup else data.lat,
        "lon": None if pickup else data.lon,
        "delivery_reason": decision.delivery_reason,
        "locale": locale,
        "reasons": decision.reasons,
        "reserved_item_id": campaign.kit_item_id,
        "reserved_location_id": decision.location_id,
        "kits": campaign.kits_per_student,
        "notice_id": decision.notice_id,
        "consented_at": utcnow(),
    }


SUBMIT = Prepared(
    text(
        "SELECT kitrun_submit_claim(CAST(:claim AS json), CAST(:events AS json), :reserve, "
        "CAST(:allocated AS json), CAST(:waitlisted AS json), :now)"
    )
)


def _submit_in_one_statement(
    session: Session,
    settings: Settings,
    claim: Claim,
    decision: eligibility.Decision,
    reserve: bool,
    keep: bool,
) -> Claim:
    """PostgreSQL: the claim written by one call of `kitrun_submit_claim`
    (app/claims/submit_sql.py), in autocommit: slot place, claim row, events, and the FEFO
    reservation or the waitlist.

    The same steps as the transaction below it in `_submit` (SQLite, e-mail verification); a
    change to one must be made to the other.
    """
    row = {name: getattr(claim, name) for name in _COLUMNS}
    now = utcnow()
    try:
        out = SUBMIT.execute(session, submit_params(row, decision, reserve, now)).fetchone()[0]
    except psycopg.Error as exc:
        session.rollback()
        raise submit_refusal(exc) from exc
    for name, value in submitted(row, out, now).items():
        setattr(claim, name, value)
    # The row as stored, in the session without reading it back.
    make_transient_to_detached(claim)
    session.add(claim)
    if claim.email and claim.status != "submitted":
        notify(session, settings, claim)
    elif keep:
        # Nothing waits for a commit: the connection stays for the caller's answer read (a
        # commit would give it back to the pool and that read check out another, a round trip).
        return claim
    session.commit()  # sends the queued mail (app/core/mail.py); the claim is already stored
    return claim


def submit_params(row: dict, decision: eligibility.Decision, reserve: bool, now) -> dict:  # noqa: ANN001
    """The parameters of `kitrun_submit_claim` for a new claim's columns (`row`, without id)."""
    events = [{"from_status": None, "to_status": "submitted", "reasons": decision.reasons}]
    if decision.verified:
        row = {**row, "status": "verified", "decided_at": now}
        events.append({"from_status": None, "to_status": "verified", "reasons": []})
    return {
        "claim": json.dumps(audit.plain(row)),
        "events": json.dumps(events),
        "reserve": decision.verified and reserve,
        "allocated": _ALLOCATED_JSON,
        "waitlisted": _NO_STOCK_JSON,
        "now": now,
    }


def submitted(row: dict, out: dict, now) -> dict:  # noqa: ANN001
    """What `kitrun_submit_claim` decided (its answer `out`) as changes to the claim's columns."""
    # any status but submitted (a manual check's) says the rules verified it just now
    decided = now if out["status"] != "submitted" else row["decided_at"]
    changes = {"id": out["id"], "status": out["status"], "decided_at": decided}
    if out["status"] == "allocated":
        changes["reserved_lot_id"], changes["allocated_at"] = out["lot_id"], now
        changes["reasons"] = [*row["reasons"], *_ALLOCATED]
    elif out["status"] == "waitlisted":
        changes["reasons"] = [*row["reasons"], *_NO_STOCK]
    return changes


def submit_refusal(exc: psycopg.Error) -> Exception:
    """The error to answer for a failed `kitrun_submit_claim` (the claim was not stored)."""
    if isinstance(exc, psycopg.IntegrityError):  # a concurrent twin holds the live claim
        return AlreadyClaimed(N_("You have already claimed a kit in this campaign."))
    if exc.sqlstate == "KR002":
        return campaigns.SlotFull(N_("That time slot is full; choose another."))
    return exc


def limit_attempts(session: Session, settings: Settings, limits: dict[str, int]) -> None:
    """Count one attempt per key in the database (holds across worker processes)."""
    counts = ratelimit.hit_many(
        session, list(limits), window_seconds=settings.claim_rate_window_seconds
    )
    if not in_autocommit(session):  # (in autocommit it is stored; keep the connection)
        session.commit()
    over_limit(counts, limits)


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
    claim.reasons = [*claim.reasons, *_ALLOCATED]
    session.add(claim)
    event(session, claim, "allocated", _ALLOCATED, from_status="verified")
    movement = ledger.new_movement(session, kind="reserve", reference=f"claim:{claim.id}")
    delta = Delta(claim.reserved_item_id, lot_id, claim.reserved_location_id, reserved=claim.kits)
    if not ledger.apply_last(session, movement, delta):
        raise _LotTaken()


def _waitlist(session: Session, claim: Claim) -> None:
    claim.status = "waitlisted"
    claim.reasons = [*claim.reasons, *_NO_STOCK]
    session.add(claim)
    event(session, claim, "waitlisted", _NO_STOCK, from_status="verified")


def verify_and_allocate(
    session: Session, claim: Claim, reasons: list[dict], user_id: int | None = None
) -> None:
    prev = claim.status
    claim.status = "verified"
    claim.decided_at = utcnow()
    event(session, claim, "verified", reasons, from_status=prev, user_id=user_id)
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
        r = _NO_STOCK
    else:
        claim.status = "allocated"
        claim.reserved_lot_id = lot_id
        claim.allocated_at = utcnow()
        r = _ALLOCATED
    claim.reasons = [*claim.reasons, *r]
    claim.updated_at = utcnow()
    session.add(claim)
    event(session, claim, claim.status, r, from_status="verified")


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
            event(session, claim, "allocated", r, from_status="waitlisted")
        allocated += 1
        settings = session.info.get("kitrun_settings")
        if claim.email and settings is not None:
            notify(session, settings, claim)
    return allocated


ledger.stock_added_hooks.append(allocate_waitlist)


def reserved_total(session: Session, item_id: int) -> int:
    return int(
        session.exec(
            select(func.coalesce(func.sum(StockLevel.reserved), 0)).where(
                StockLevel.item_id == item_id
            )
        ).one()
    )


def notify(session: Session, settings: Settings, claim: Claim) -> None:
    from app.claims.mail import status_mail

    mail.queue(session, settings, status_mail(settings, claim))


# ---------------------------------------------------------------- e-mail codes


def send_code(session: Session, settings: Settings, claim: Claim) -> None:
    from app.claims.mail import code_mail

    code = f"{secrets.randbelow(10**6):06d}"
    claim.email_code_hash = security.keyed_hash(settings.secret, f"{claim.token}:{code}")
    claim.email_code_expires_at = utcnow() + CODE_TTL
    claim.email_code_attempts = 0
    session.add(claim)
    mail.queue(session, settings, code_mail(settings, claim, code))
