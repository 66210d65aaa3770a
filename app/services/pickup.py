"""QR pickup: volunteers at points, redeeming a claim's code exactly once, undoing a hand-over.

The hand-over is one transaction: a conditional UPDATE of the claim (the database decides who
wins when several phones scan the same code), the ledger's `issue` of the reserved kit, a claim
event and the scan row. Every attempt appends a scan row; a retry with the same (user, nonce)
returns the stored answer and records nothing new.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    exists,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from app import security
from app.db import autocommit_reads
from app.errors import N_, Forbidden, Invalid, NotFound
from app.services import audit, ledger
from app.services.ledger import Delta, OutOfStock
from models.base import utcnow
from models.campaigns import Campaign
from models.claims import Claim, ClaimEvent, Scan, VolunteerPoint
from models.inventory import Item, Location, LocationKind, RecipeLine
from models.schools import School
from models.users import Role, User, UserToken

log = logging.getLogger("kitrun.pickup")

RESULTS = (
    "ok",
    "invalid",
    "not_ready",
    "cancelled",
    "already_handed_over",
    "wrong_point",
    "campaign_closed",
    "not_your_point",
    "unknown_point",
    "nonce_reused",
)
# Short labels for lists (scan log, filters).
RESULT_LABELS = {
    "ok": N_("handed over"),
    "invalid": N_("invalid code"),
    "not_ready": N_("not ready"),
    "cancelled": N_("cancelled"),
    "already_handed_over": N_("already handed over"),
    "wrong_point": N_("wrong point"),
    "campaign_closed": N_("campaign closed"),
    "not_your_point": N_("not your point"),
    "unknown_point": N_("unknown point"),
    "nonce_reused": N_("nonce reused"),
}
# What each result tells the volunteer; {params} come from the response's "params".
MESSAGES = {
    "ok": N_("Kits to hand over: {kits}."),
    "invalid": N_("Not a code of ours. Check it and scan again."),
    "not_ready": N_("Not ready for pickup: the claim is {status}."),
    "cancelled": N_("This claim was cancelled."),
    "already_handed_over": N_("Already handed over."),
    "wrong_point": N_("This kit waits at another pickup point: {location}."),
    "campaign_closed": N_("This campaign is closed."),
    "not_your_point": N_("You are not assigned to this pickup point."),
    "unknown_point": N_("No such pickup point."),
    "nonce_reused": N_(
        "This scan id (nonce) was already used for another code; nothing was handed over. "
        "Send each scan with a new nonce."
    ),
}
HANDOVER_FROM = ("allocated", "ready")
# A scan received this long after it was made was queued offline: its volunteer could not
# have been told at the time, so finding the kit already handed over is a conflict.
OFFLINE_AFTER = timedelta(seconds=60)
_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Target:
    """Where a kit may be handed over: a pickup point, or (delivery runs) a run stop."""

    location_id: int | None
    run_stop_id: int | None = None
    statuses: tuple[str, ...] = HANDOVER_FROM
    claim_id: int | None = None  # a run stop closes exactly its own claim
    # Runs: called inside the hand-over transaction once the claim is handed over (closes the stop).
    on_handover: Callable[[Session, datetime, int], None] | None = field(
        default=None, compare=False
    )


class TokenRefused(Exception):
    """The bearer token given to redeem is unknown, expired or revoked (the caller says 401)."""


# The delivery-runs service registers a resolver: (session, run_stop_id, user) -> Target, or a
# result code ("unknown_point", "not_your_point") when the stop cannot be scanned by this user.
run_stop_resolvers: list[Callable[[Session, int, User], Target | str]] = []


def code_hash(code: str) -> str:
    """SHA-256 of the normalised code: what the scan log keeps instead of the code."""
    parsed = security.parse_scanned_code(code)
    return hashlib.sha256((parsed[1] if parsed else code.strip()).encode()).hexdigest()


def mask_name(name_zh: str, name_latin: str) -> dict[str, str]:
    """'张三' → '张*', 'Zhang San' → 'Z*** San': enough to match a student card, no more."""
    zh = name_zh.strip()
    masked_zh = zh[:1] + "*" * max(len(zh) - 1, 1) if zh else ""
    words = name_latin.split()
    if len(words) > 1:
        masked_latin = " ".join([w[:1] + "***" for w in words[:-1]] + [words[-1]])
    else:
        masked_latin = words[0][:1] + "***" if words else ""
    return {"name_zh": masked_zh, "name_latin": masked_latin}


# ---------------------------------------------------------------- redeem


@dataclass
class _Scan:
    """One attempt being redeemed: what the scan row records besides the answer."""

    digest: str
    nonce: str
    scanned_at: datetime
    now: datetime
    user: User | None
    location_id: int | None
    run_stop_id: int | None
    delayed: bool
    bearer_hash: str | None = None  # the caller is this API token's owner, not yet known


def redeem(
    *,
    session: Session,
    code: str,
    nonce: str,
    scanned_at: datetime,
    user: User | None = None,
    bearer: str | None = None,
    location_id: int | None = None,
    run_stop_id: int | None = None,
    queued: bool = False,
) -> dict:
    """Redeem a scanned code at a point (or run stop): hand the kit over at most once.

    The caller is `user`, or the owner of the API token `bearer`, which is then verified in the
    same read as the rest (TokenRefused when it is not valid).

    Returns the answer dict (`result`, `params`, `claim`, ...). A retry with the same nonce
    returns the first answer and records nothing; the same nonce with another code answers
    `nonce_reused`, which is recorded like every other attempt.

    On PostgreSQL a scan at a pickup point runs in autocommit: one read (earlier answer for the
    nonce, the point, the claim), then one statement that writes the attempt, or for the
    winning scan the `kitrun_hand_over` function that does the whole hand-over. No lock is
    held between round trips. SQLite and run stops take the same decisions in one transaction.
    """
    if (location_id is None) == (run_stop_id is None):
        raise Invalid(N_("Give either a pickup point or a run stop."))
    if not nonce or len(nonce) > 64:
        raise Invalid(N_("The nonce must be 1 to 64 characters."))
    if scanned_at.tzinfo is None:
        raise Invalid(N_("scanned_at needs a time zone (UTC ISO 8601, e.g. 2026-05-01T09:30:00Z)."))
    if (user is None) == (bearer is None):
        raise ValueError("redeem needs a user or a bearer token")
    now = utcnow()
    scanned_at = min(scanned_at, now + _CLOCK_SKEW)
    attempt = _Scan(
        digest=code_hash(code),
        nonce=nonce,
        scanned_at=scanned_at,
        now=now,
        user=user,
        location_id=location_id,
        run_stop_id=run_stop_id,
        delayed=queued or now - scanned_at > OFFLINE_AFTER,
        bearer_hash=security.token_hash(bearer) if bearer is not None else None,
    )
    fast = run_stop_id is None and session.get_bind().dialect.name == "postgresql"
    if fast:
        autocommit_reads(session)
    try:
        return _redeem(session, code, attempt, fast)
    except IntegrityError:
        # The same (user, nonce) raced in from a retry: its transaction won; answer with it.
        session.rollback()
        look = _lookup(session, attempt, None)
        session.rollback()
        if look.stored_hash is None:
            raise
        if look.stored_hash != attempt.digest:
            return _write(session, attempt, _answer("nonce_reused"), None, None)
        return look.stored_response


def _redeem(session: Session, code: str, attempt: _Scan, fast: bool) -> dict:
    look = _lookup(session, attempt, code)
    if attempt.user is None:
        if look.caller_id is None:
            session.rollback()
            raise TokenRefused()
        attempt.user = User(id=look.caller_id, role=look.caller_role, username="")
        session.info["actor_id"] = look.caller_id  # ORM changes (SQLite path) are theirs
    if look.stored_hash is not None:
        if look.stored_hash == attempt.digest:
            session.rollback()
            return look.stored_response
        log.warning("nonce reused with another code by user %s", attempt.user.id)
        return _write(session, attempt, _answer("nonce_reused"), None, None)
    target = _target(session, attempt, look)
    if isinstance(target, str):
        known = target != "unknown_point" and attempt.run_stop_id is None
        loc = attempt.location_id if known else None
        return _write(session, attempt, _answer(target), None, loc)
    loc = target.location_id
    if look.id is None or (target.claim_id is not None and look.id != target.claim_id):
        return _write(session, attempt, _answer("invalid"), None, loc)
    answer = _refusal(session, look, target)
    if answer is not None:
        return _write(session, attempt, answer, look.id, loc)
    at = min(attempt.scanned_at, attempt.now)
    summary = _claim_summary(look)
    summary["kit"] = kit_contents(
        session, item_id=look.reserved_item_id or look.kit_item_id, kits=look.kits
    )
    ok = _answer("ok", summary, kits=look.kits)
    try:
        if fast:
            won = _hand_over_pg(session, look, attempt, at, ok)
        else:
            issue = hand_over(
                session, claim=look, target=target, user_id=attempt.user.id, at=at, issue_now=False
            )
            won = issue is not None
            if won:
                return _write(session, attempt, ok, look.id, loc, issue=issue)
    except OutOfStock:
        # The reserved kit is missing from its level (a stock error): nothing is handed over.
        session.rollback()
        log.error("reserved kit missing for a scan at location %s", loc)
        return _write(session, attempt, _answer("not_ready", status="out_of_stock"), None, loc)
    if won:
        return ok
    # Another scan won between our read and our update.
    summary.pop("kit", None)
    return _write(session, attempt, _handed_over_answer(session, look.id, summary), look.id, loc)


def _hand_over_pg(session: Session, c, attempt: _Scan, at: datetime, ok: dict) -> bool:  # noqa: ANN001
    """The whole hand-over as one statement (function kitrun_hand_over, see its migration)."""
    after = {
        "status": "handed_over",
        "handed_over_location_id": attempt.location_id,
        "handed_over_at": at,
        "run_stop_id": None,
    }
    try:
        result = session.execute(
            _HAND_OVER,
            {
                "claim_id": c.id,
                "location_id": attempt.location_id,
                "user_id": attempt.user.id,
                "at": at,
                "now": attempt.now,
                "code_hash": attempt.digest,
                "nonce": attempt.nonce,
                "scanned_at": attempt.scanned_at,
                "response": json.dumps(ok),
                "after": json.dumps(audit.plain(after)),
            },
        ).scalar_one()
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "KR001":
            raise OutOfStock(N_("The reserved kit is missing from stock.")) from exc
        raise
    session.commit()
    return result == "ok"


_HAND_OVER = text(
    "SELECT kitrun_hand_over(:claim_id, :location_id, :user_id, :at, :now, :code_hash, :nonce, "
    ":scanned_at, CAST(:response AS json), CAST(:after AS json))"
)


def _write(
    session: Session,
    attempt: _Scan,
    response: dict,
    claim_id: int | None,
    location_id: int | None,
    issue: Callable[[], None] | None = None,
) -> dict:
    """Append the attempt to the scan log (and apply the kit's issue last), commit."""
    conflict = response["result"] == "already_handed_over" and attempt.delayed
    if conflict:
        response["conflict"] = True
    session.execute(
        insert(Scan).values(
            claim_id=claim_id,
            code_hash=attempt.digest,
            user_id=attempt.user.id,
            location_id=location_id,
            run_stop_id=attempt.run_stop_id,
            nonce=attempt.nonce,
            scanned_at=attempt.scanned_at,
            received_at=attempt.now,
            result=response["result"],
            response=response,
            conflict=conflict,
        )
    )
    if issue is not None:
        # Last before commit: every kit at a point shares one level row, so its row lock is
        # held for as short a time as possible.
        issue()
    session.commit()
    return response


def _answer(result: str, claim: dict | None = None, **params: object) -> dict:
    body: dict = {
        "result": result,
        "ok": result == "ok",
        "message": MESSAGES[result].format(**params) if params else MESSAGES[result],
        "params": params,
    }
    if claim is not None:
        body["claim"] = claim
    return body


_CLAIM_COLUMNS = (
    Claim.id,
    Claim.status,
    Claim.name_zh,
    Claim.name_latin,
    Claim.kits,
    Claim.reserved_item_id,
    Claim.reserved_lot_id,
    Claim.reserved_location_id,
    Campaign.status.label("campaign_status"),
    Campaign.kit_item_id,
    School.name_zh.label("school_zh"),
    School.name_en.label("school_en"),
)
_ONE = select(literal(1).label("one")).subquery("one")


def _lookup(session: Session, attempt: _Scan, code: str | None):  # noqa: ANN202
    """One read: the caller (when known by a bearer token), the nonce's earlier answer, the
    point and whether the caller may scan there, and the claim the code names with its
    campaign and school (each part None when absent)."""
    parsed = security.parse_scanned_code(code) if code is not None else None
    by_bearer = attempt.bearer_hash is not None
    params = {
        "nonce": attempt.nonce,
        "location_id": attempt.location_id or -1,
        "code": parsed[1] if parsed else "",
    }
    if by_bearer:
        params.update(bearer_hash=attempt.bearer_hash, now=attempt.now)
    else:
        params.update(caller_id=attempt.user.id, caller_role=str(attempt.user.role))
    stmt = _lookup_statement(by_bearer, parsed is not None and parsed[0] == "short")
    return session.execute(stmt, params).one()


@functools.cache
def _lookup_statement(by_bearer: bool, by_short_code: bool):  # noqa: ANN202
    """The lookup, built once per shape (the scan endpoint's hot path)."""
    code_col = Claim.short_code if by_short_code else Claim.token
    if by_bearer:
        caller_id, caller_role = User.id, User.role
    else:
        caller_id = bindparam("caller_id", type_=Integer)
        caller_role = bindparam("caller_role", type_=String)
    stmt = select(
        caller_id.label("caller_id"),
        caller_role.label("caller_role"),
        Scan.code_hash.label("stored_hash"),
        Scan.response.label("stored_response"),
        Location.kind.label("point_kind"),
        Location.active.label("point_active"),
        exists()
        .where(VolunteerPoint.user_id == caller_id, VolunteerPoint.location_id == Location.id)
        .label("assigned"),
        *_CLAIM_COLUMNS,
    ).select_from(_ONE)
    if by_bearer:
        stmt = stmt.outerjoin(
            UserToken,
            and_(
                UserToken.token_hash == bindparam("bearer_hash"),
                UserToken.kind == "api",
                UserToken.revoked_at.is_(None),
                UserToken.expires_at > bindparam("now", type_=UserToken.expires_at.type),
            ),
        ).outerjoin(User, and_(User.id == UserToken.user_id, User.active))
    return (
        stmt.outerjoin(
            Scan,
            and_(
                Scan.user_id == caller_id,
                Scan.nonce == bindparam("nonce"),
                Scan.result != "nonce_reused",
            ),
        )
        .outerjoin(Location, Location.id == bindparam("location_id"))
        .outerjoin(Claim, code_col == bindparam("code"))
        .outerjoin(Campaign, Campaign.id == Claim.campaign_id)
        .outerjoin(School, School.id == Claim.school_id)
    )


def _target(session: Session, attempt: _Scan, look) -> Target | str:  # noqa: ANN001
    if attempt.run_stop_id is not None:
        for resolver in run_stop_resolvers:
            return resolver(session, attempt.run_stop_id, attempt.user)
        return "unknown_point"
    return _point_target(look, attempt.user, attempt.location_id)


def _point_target(look, user: User, location_id: int | None) -> Target | str:  # noqa: ANN001
    if look.point_kind != LocationKind.pickup_point or not look.point_active:
        return "unknown_point"
    if user.role != Role.diplomat and not look.assigned:
        return "not_your_point"
    return Target(location_id=location_id)


def point_target(session: Session, user: User, location_id: int) -> Target | str:
    """Whether a user may scan at a pickup point: its Target, or why not."""
    probe = _Scan("", "", utcnow(), utcnow(), user, location_id, None, False)
    return _point_target(_lookup(session, probe, None), user, location_id)


def _claim_summary(c) -> dict:  # noqa: ANN001
    return {
        **mask_name(c.name_zh, c.name_latin),
        "school": {"name_zh": c.school_zh, "name_en": c.school_en},
        "kits": c.kits,
    }


def _refusal(session: Session, c, target: Target) -> dict | None:  # noqa: ANN001
    """Why this claim's kit cannot be handed over here, or None when it can."""
    summary = _claim_summary(c)
    if c.status == "handed_over":
        return _handed_over_answer(session, c.id, summary)
    if c.status in ("cancelled", "expired"):
        return _answer("cancelled", summary)
    if c.campaign_status == "closed":
        return _answer("campaign_closed", summary)
    if c.status not in target.statuses:
        return _answer("not_ready", summary, status=c.status)
    if target.claim_id is None and c.reserved_location_id != target.location_id:
        where = session.get(Location, c.reserved_location_id) if c.reserved_location_id else None
        body = _answer("wrong_point", summary, location=where.name_en if where else "?")
        if where is not None:
            body["kit_location"] = {
                "id": where.id,
                "name_zh": where.name_zh,
                "name_en": where.name_en,
                "address": where.address,
            }
        return body
    return None


def hand_over(
    session: Session,
    *,
    claim,  # noqa: ANN001
    target: Target,
    user_id: int,
    at: datetime,
    issue_now: bool = True,
) -> Callable[[], None] | None:
    """Conditionally mark a claim handed over; None when another scan won.

    Part of the caller's transaction; a run stop closes its claim through the same function.
    On PostgreSQL a scan at a pickup point runs the same steps in SQL (`kitrun_hand_over`,
    migration b7e1c2d3f405): a change here must be made there too.
    Returns the ledger issue of the reserved kit, already applied with issue_now, else for the
    caller to apply just before committing.
    """
    guard = [Claim.id == claim.id, Claim.status.in_(target.statuses)]
    if target.claim_id is None:
        guard.append(Claim.reserved_location_id == target.location_id)
    result = session.execute(
        update(Claim)
        .where(and_(*guard))
        .values(
            status="handed_over",
            handed_over_at=at,
            handed_over_by=user_id,
            handed_over_location_id=claim.reserved_location_id,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    session.execute(
        insert(ClaimEvent).values(
            claim_id=claim.id,
            at=utcnow(),
            user_id=user_id,
            from_status=claim.status,
            to_status="handed_over",
            reasons=["scanned"] if target.run_stop_id is None else ["delivered"],
            note="",
        )
    )
    if target.on_handover is not None:
        target.on_handover(session, at, user_id)
    audit.record(
        session,
        user_id=user_id,
        action="claim.handover" if target.run_stop_id is None else "claim.delivered",
        object_type="claim",
        object_id=claim.id,
        before={"status": claim.status},
        after={
            "status": "handed_over",
            "handed_over_location_id": claim.reserved_location_id,
            "handed_over_at": at,
            "run_stop_id": target.run_stop_id,
        },
    )
    mv = ledger.new_movement(session, kind="issue", user_id=user_id, reference=f"claim:{claim.id}")
    delta = Delta(
        claim.reserved_item_id,
        claim.reserved_lot_id,
        claim.reserved_location_id,
        on_hand=-claim.kits,
        reserved=-claim.kits,
    )

    def issue() -> None:
        ledger.apply(session, mv, delta)

    if issue_now:
        issue()
    return issue


def _handed_over_answer(session: Session, claim_id: int, summary: dict) -> dict:
    row = session.execute(
        select(
            Claim.handed_over_at,
            Location.id,
            Location.name_zh,
            Location.name_en,
            User.display_name,
            User.username,
        )
        .outerjoin(Location, Location.id == Claim.handed_over_location_id)
        .outerjoin(User, User.id == Claim.handed_over_by)
        .where(Claim.id == claim_id)
    ).one()
    body = _answer("already_handed_over", summary)
    body["handed_over"] = {
        "at": row.handed_over_at.isoformat() if row.handed_over_at else None,
        "location": {"id": row.id, "name_zh": row.name_zh or "", "name_en": row.name_en or ""},
        "by": row.display_name or row.username or "",
    }
    return body


# A kit's recipe, per process for a minute: it is display data on the hot path and changes rarely.
_RECIPE_TTL = 60.0
_recipes: dict[int, tuple[float, dict]] = {}


def kit_contents(session: Session, *, item_id: int | None, kits: int) -> dict:
    """The kit's name and its components (quantities for `kits` kits)."""
    if item_id is None:
        return {"name_zh": "", "name_en": "", "contents": []}
    cached = _recipes.get(item_id)
    if cached is None or cached[0] < time.monotonic():
        kit = session.execute(select(Item.name_zh, Item.name_en).where(Item.id == item_id)).first()
        parts = session.execute(
            select(RecipeLine.quantity, Item.name_zh, Item.name_en)
            .join(Item, Item.id == RecipeLine.component_item_id)
            .where(RecipeLine.kit_item_id == item_id)
            .order_by(RecipeLine.id)
        ).all()
        recipe = {
            "name_zh": kit.name_zh if kit else "",
            "name_en": kit.name_en if kit else "",
            "parts": [(p.quantity, p.name_zh, p.name_en) for p in parts],
        }
        _recipes[item_id] = (time.monotonic() + _RECIPE_TTL, recipe)
    else:
        recipe = cached[1]
    return {
        "name_zh": recipe["name_zh"],
        "name_en": recipe["name_en"],
        "contents": [
            {"name_zh": zh, "name_en": en, "quantity": q * kits} for q, zh, en in recipe["parts"]
        ],
    }


# ---------------------------------------------------------------- undo


def undo_handover(*, session: Session, claim_id: int, reason: str, user: User) -> Claim:
    """Reverse a hand-over (diplomats): the claim is ready again and its kit re-reserved."""
    if user.role != Role.diplomat:
        raise Forbidden(N_("Only a diplomat can undo a hand-over."))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(N_("Say why the hand-over is undone."))
    if len(reason) > 500:
        raise Invalid(N_("The reason is at most 500 characters."))
    try:
        claim = session.get(Claim, claim_id)
        if claim is None:
            raise NotFound(N_("No claim with id {id}."), params={"id": claim_id})
        loc = claim.handed_over_location_id or claim.reserved_location_id
        result = session.execute(
            update(Claim)
            .where(Claim.id == claim_id, Claim.status == "handed_over")
            .values(
                status="ready",
                handed_over_at=None,
                handed_over_by=None,
                handed_over_location_id=None,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise Invalid(
                N_("Claim {id} is not handed over; there is nothing to undo."),
                params={"id": claim_id},
            )
        if claim.reserved_item_id is None or claim.reserved_lot_id is None or loc is None:
            raise Invalid(N_("Claim {id} has no reserved kit to return."), params={"id": claim_id})
        mv = ledger.new_movement(
            session, kind="return", user_id=user.id, reference=f"claim:{claim_id}", note=reason
        )
        k = claim.kits
        ledger.apply(
            session,
            mv,
            Delta(claim.reserved_item_id, claim.reserved_lot_id, loc, on_hand=k, reserved=k),
        )
        session.add(
            ClaimEvent(
                claim_id=claim_id,
                user_id=user.id,
                from_status="handed_over",
                to_status="ready",
                reasons=["handover_undone"],
                note=reason,
            )
        )
        audit.record(
            session,
            user_id=user.id,
            action="claim.handover_undone",
            object_type="claim",
            object_id=claim_id,
            before={"status": "handed_over", "handed_over_location_id": loc},
            after={"status": "ready", "reason": reason},
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    session.refresh(claim)
    return claim


# ---------------------------------------------------------------- for routers and pages


def localize(response: dict, gettext: Callable[[str], str], locale: str = "en") -> dict:
    """The answer with its message in the reader's language (stored answers are English)."""
    params = dict(response.get("params") or {})
    if "status" in params:
        params["status"] = gettext(str(params["status"]))
    if response.get("result") == "wrong_point" and response.get("kit_location"):
        loc = response["kit_location"]
        params["location"] = loc["name_zh"] if locale == "zh_CN" else loc["name_en"]
    template = MESSAGES.get(response.get("result", ""), "")
    out = dict(response)
    out["message"] = gettext(template).format(**params) if template else response.get("message")
    return out


STATUSES_FOR_MESSAGES = (
    N_("submitted"),
    N_("verified"),
    N_("waitlisted"),
    N_("allocated"),
    N_("ready"),
    N_("out_for_delivery"),
    N_("handed_over"),
    N_("rejected"),
    N_("cancelled"),
    N_("expired"),
    N_("out_of_stock"),
)
