"""Redeeming a scanned code: one read, then one write (the hand-over, or the refused attempt).

The rules and the hand-over itself are in app/services/pickup.py; this module is the scan
endpoint's hot path around them. On PostgreSQL a scan at a pickup point runs in autocommit: one
statement reads the caller (a bearer token is verified there), the nonce's earlier answer, the
point and the claim; then one statement writes: the refused attempt, or for the winning scan
the SQL function `kitrun_hand_over` (migration b7e1c2d3f405). SQLite and delivery-run stops
take the same steps in one transaction.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    exists,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app import security
from app.db import ONE_ROW, Prepared, autocommit_reads
from app.errors import N_, Invalid
from app.services import audit
from app.services.ledger import OutOfStock
from app.services.pickup import (
    CLOCK_SKEW,
    OFFLINE_AFTER,
    Target,
    answer,
    cached_kit_contents,
    claim_summary,
    code_hash,
    hand_over,
    handed_over_answer,
    kit_contents,
    run_stop_resolvers,
)
from models.base import utcnow
from models.campaigns import Campaign
from models.claims import Claim, Scan, VolunteerPoint
from models.inventory import Location, LocationKind
from models.schools import School
from models.users import Role, User, UserToken

log = logging.getLogger("kitrun.pickup")


class TokenRefused(Exception):
    """The bearer token given to redeem is unknown, expired or revoked (the caller says 401)."""


@dataclass(frozen=True)
class Caller:
    """Who scans: all the redeem needs of a user (no ORM object on the hot path)."""

    id: int
    role: str


@dataclass
class _Scan:
    """One attempt being redeemed: what the scan row records besides the answer."""

    digest: str
    nonce: str
    scanned_at: datetime
    now: datetime
    user: Caller | None
    location_id: int | None
    run_stop_id: int | None
    delayed: bool
    token_hash: str | None = None  # the caller is this token's owner, not yet known
    token_kind: str = "api"  # "api" (a bearer token) or "session" (the page's cookie)


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
    if (user is None) == (bearer is None):
        raise ValueError("redeem needs a user or a bearer token")
    attempt = _attempt(code, nonce, scanned_at, location_id, run_stop_id, queued)
    if user is not None:
        attempt.user = Caller(user.id, user.role)
    else:
        attempt.token_hash = security.token_hash(bearer)
    fast = run_stop_id is None and session.get_bind().dialect.name == "postgresql"
    if fast:
        autocommit_reads(session)
    try:
        return _redeem(session, code, attempt, fast)
    except (IntegrityError, psycopg.IntegrityError):
        # The same (user, nonce) raced in from a retry: its transaction won; answer with it.
        session.rollback()
        look = _lookup(session, attempt, None, fast)
        session.rollback()
        if look.stored_hash is None:
            raise
        if look.stored_hash != attempt.digest:
            return _write(session, attempt, answer("nonce_reused"), None, None)
        return look.stored_response


def _attempt(
    code: str,
    nonce: str,
    scanned_at: datetime,
    location_id: int | None,
    run_stop_id: int | None,
    queued: bool,
) -> _Scan:
    """The attempt as the scan log will record it (Invalid for a request that cannot be one)."""
    if (location_id is None) == (run_stop_id is None):
        raise Invalid(N_("Give either a pickup point or a run stop."))
    if not nonce or len(nonce) > 64:
        raise Invalid(N_("The nonce must be 1 to 64 characters."))
    if scanned_at.tzinfo is None:
        raise Invalid(N_("scanned_at needs a time zone (UTC ISO 8601, e.g. 2026-05-01T09:30:00Z)."))
    now = utcnow()
    scanned_at = min(scanned_at, now + CLOCK_SKEW)
    return _Scan(
        digest=code_hash(code),
        nonce=nonce,
        scanned_at=scanned_at,
        now=now,
        user=None,
        location_id=location_id,
        run_stop_id=run_stop_id,
        delayed=queued or now - scanned_at > OFFLINE_AFTER,
    )


def _redeem(session: Session, code: str, attempt: _Scan, fast: bool) -> dict:
    look = _lookup(session, attempt, code, fast)
    if attempt.user is None:
        if look.caller_id is None:
            session.rollback()
            raise TokenRefused()
        attempt.user = Caller(look.caller_id, look.caller_role)
        session.info["actor_id"] = look.caller_id  # ORM changes (SQLite path) are theirs
    if look.stored_hash is not None:
        if look.stored_hash == attempt.digest:
            session.rollback()
            return look.stored_response
        log.warning("nonce reused with another code by user %s", attempt.user.id)
        return _write(session, attempt, answer("nonce_reused"), None, None)
    target = _target(session, attempt, look)
    if isinstance(target, str):
        known = target != "unknown_point" and attempt.run_stop_id is None
        loc = attempt.location_id if known else None
        return _write(session, attempt, answer(target), None, loc)
    loc = target.location_id
    if look.id is None or (target.claim_id is not None and look.id != target.claim_id):
        return _write(session, attempt, answer("invalid"), None, loc)
    refused = _refusal(session, look, target)
    if refused is not None:
        return _write(session, attempt, refused, look.id, loc)
    at = min(attempt.scanned_at, attempt.now)
    summary = claim_summary(look)
    summary["kit"] = kit_contents(
        session, item_id=look.reserved_item_id or look.kit_item_id, kits=look.kits
    )
    ok = answer("ok", summary, kits=look.kits)
    try:
        if fast:
            won = _hand_over_pg(session, look, attempt, ok)
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
        return _write(session, attempt, answer("not_ready", status="out_of_stock"), None, loc)
    if won:
        return ok
    # Another scan won between our read and our update.
    summary.pop("kit", None)
    return _write(session, attempt, handed_over_answer(session, look.id, summary), look.id, loc)


def _hand_over_pg(session: Session, c, attempt: _Scan, ok: dict) -> bool:  # noqa: ANN001
    """The whole hand-over as one statement (function kitrun_hand_over, see its migration)."""
    try:
        result = _HAND_OVER.execute(session, _hand_over_params(c, attempt, ok)).fetchone()[0]
    except psycopg.Error as exc:
        if exc.sqlstate == "KR001":
            raise OutOfStock(N_("The reserved kit is missing from stock.")) from exc
        raise
    session.commit()
    return result == "ok"


def _hand_over_params(c, attempt: _Scan, ok: dict) -> dict:  # noqa: ANN001
    at = min(attempt.scanned_at, attempt.now)
    after = {
        "status": "handed_over",
        "handed_over_location_id": attempt.location_id,
        "handed_over_at": at,
        "run_stop_id": None,
    }
    return {
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
    }


_HAND_OVER = Prepared(
    text(
        "SELECT kitrun_hand_over(:claim_id, :location_id, :user_id, :at, :now, :code_hash, "
        ":nonce, :scanned_at, CAST(:response AS json), CAST(:after AS json))"
    )
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


def _lookup(session: Session, attempt: _Scan, code: str | None, fast: bool = False):  # noqa: ANN202
    """One read: the caller (when known by a bearer token), the nonce's earlier answer, the
    point and whether the caller may scan there, and the claim the code names with its
    campaign and school (each part None when absent)."""
    parsed = security.parse_scanned_code(code) if code is not None else None
    by_token, by_short, params = _lookup_params(attempt, parsed)
    if fast:
        return _prepared_lookup(by_token, by_short).execute(session, params).fetchone()
    return session.execute(_lookup_statement(by_token, by_short), params).one()


def _lookup_params(attempt: _Scan, parsed: tuple[str, str] | None) -> tuple[bool, bool, dict]:
    """Which lookup (caller by token or known; code a short code or a token) and its values."""
    by_token = attempt.token_hash is not None
    params = {
        "nonce": attempt.nonce,
        "location_id": attempt.location_id or -1,
        "code": parsed[1] if parsed else "",
    }
    if by_token:
        params.update(token_hash=attempt.token_hash, token_kind=attempt.token_kind, now=attempt.now)
    else:
        params.update(caller_id=attempt.user.id, caller_role=str(attempt.user.role))
    return by_token, parsed is not None and parsed[0] == "short", params


@functools.cache
def _prepared_lookup(by_token: bool, by_short_code: bool) -> Prepared:
    return Prepared(_lookup_statement(by_token, by_short_code))


@functools.cache
def _lookup_statement(by_token: bool, by_short_code: bool):  # noqa: ANN202
    """The lookup, built once per shape (the scan endpoint's hot path)."""
    code_col = Claim.short_code if by_short_code else Claim.token
    if by_token:
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
    ).select_from(ONE_ROW)
    if by_token:
        stmt = stmt.outerjoin(
            UserToken,
            and_(
                UserToken.token_hash == bindparam("token_hash"),
                UserToken.kind == bindparam("token_kind"),
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
                # a literal, as in the partial unique index, so the prepared plan can use it
                Scan.result != literal_column("'nonce_reused'"),
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
            return resolver(session, attempt.run_stop_id, attempt.user.id)
        return "unknown_point"
    return _point_target(look, attempt.user, attempt.location_id)


def _point_target(look, user: Caller, location_id: int | None) -> Target | str:  # noqa: ANN001
    if look.point_kind != LocationKind.pickup_point or not look.point_active:
        return "unknown_point"
    if user.role != Role.diplomat and not look.assigned:
        return "not_your_point"
    return Target(location_id=location_id)


def point_target(session: Session, user: User, location_id: int) -> Target | str:
    """Whether a user may scan at a pickup point: its Target, or why not."""
    probe = _Scan("", "", utcnow(), utcnow(), Caller(user.id, user.role), location_id, None, False)
    return _point_target(_lookup(session, probe, None), user, location_id)


def _refused(c, target: Target) -> str | None:  # noqa: ANN001
    """Why this claim's kit cannot be handed over here (the answer's result), or None."""
    if c.status == "handed_over":
        return "already_handed_over"
    if c.status in ("cancelled", "expired"):
        return "cancelled"
    if c.campaign_status == "closed":
        return "campaign_closed"
    if c.status not in target.statuses:
        return "not_ready"
    if target.claim_id is None and c.reserved_location_id != target.location_id:
        return "wrong_point"
    return None


def _refusal(session: Session, c, target: Target) -> dict | None:  # noqa: ANN001
    """The answer refusing this claim's kit here, or None when it can be handed over."""
    result = _refused(c, target)
    if result is None:
        return None
    summary = claim_summary(c)
    if result == "already_handed_over":
        return handed_over_answer(session, c.id, summary)
    if result == "not_ready":
        return answer("not_ready", summary, status=c.status)
    if result == "wrong_point":
        where = session.get(Location, c.reserved_location_id) if c.reserved_location_id else None
        body = answer("wrong_point", summary, location=where.name_en if where else "?")
        if where is not None:
            body["kit_location"] = {
                "id": where.id,
                "name_zh": where.name_zh,
                "name_en": where.name_en,
                "address": where.address,
            }
        return body
    return answer(result, summary)


# ---------------------------------------------------------------- on the event loop


async def try_hand_over(
    pool: AsyncConnectionPool,
    *,
    code: str,
    nonce: str,
    scanned_at: datetime,
    token: str,
    token_kind: str,
    location_id: int,
    queued: bool = False,
) -> dict | None:
    """The scan endpoint's fast path (PostgreSQL, a pickup point): the winning scan, on the
    event loop with a connection of `pool`, without a worker thread or a session.

    The caller is the owner of `token` (an API token, or the page's session cookie), verified
    in the same read as the rest. Returns the `ok` answer when this scan handed the kit over.
    Every other case returns None having written nothing (an unknown caller, an earlier answer
    for the nonce, a refusal, a scan lost to another, a database error, a kit recipe not yet
    read): the caller then runs `redeem`, the one place where every other answer is decided
    and recorded. The same read, rules and SQL function as `redeem`.
    """
    attempt = _attempt(code, nonce, scanned_at, location_id, None, queued)
    attempt.token_hash, attempt.token_kind = security.token_hash(token), token_kind
    parsed = security.parse_scanned_code(code)
    if parsed is None:
        return None
    by_token, by_short, params = _lookup_params(attempt, parsed)
    try:
        async with pool.connection() as conn:
            look = await _prepared_lookup(by_token, by_short).first(conn, params)
            ok = _winning_answer(look, attempt)
            if ok is None:
                return None
            result = await _HAND_OVER.first(conn, _hand_over_params(look, attempt, ok))
    except psycopg.Error as exc:
        # A broken connection (its outcome unknown: the nonce makes redeem's retry safe), the
        # nonce raced in twice, a kit missing from stock: redeem decides and records.
        log.info("scan fast path gave way to redeem: %s", type(exc).__name__)
        return None
    return ok if result[0] == "ok" else None


def _winning_answer(look, attempt: _Scan) -> dict | None:  # noqa: ANN001
    """The `ok` answer when everything read says this scan hands the kit over, else None."""
    if look.caller_id is None or look.stored_hash is not None or look.id is None:
        return None
    attempt.user = Caller(look.caller_id, look.caller_role)
    target = _point_target(look, attempt.user, attempt.location_id)
    if isinstance(target, str) or _refused(look, target) is not None:
        return None
    kit = cached_kit_contents(item_id=look.reserved_item_id or look.kit_item_id, kits=look.kits)
    if kit is None:
        return None
    summary = claim_summary(look)
    summary["kit"] = kit
    return answer("ok", summary, kits=look.kits)
