"""Redeeming a scanned code: one read, then one write (the hand-over, or the refused attempt).

The rules and the hand-over itself are in app/pickup/handover.py, the attempt and its one read
in app/pickup/attempt.py; this module is the scan endpoint's hot path around them. On
PostgreSQL a scan at a pickup point runs in autocommit: one statement reads the caller (a
token is verified there), the nonce's earlier answer, the point and the claim; then one
statement writes: the refused attempt, or for the winning scan the SQL function
`kitrun_hand_over` (migration b7e1c2d3f405), which `try_hand_over` calls on the event loop.
SQLite and delivery-run stops take the same steps in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import (
    insert,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.core import security
from app.core.db import autocommit_reads
from app.core.errors import N_
from app.inventory.ledger import OutOfStock
from app.pickup.attempt import (
    HAND_OVER,
    Attempt,
    Caller,
    hand_over_params,
    lookup,
    lookup_params,
    new_attempt,
    point_rules,
    prepared_lookup,
    refused,
)
from app.pickup.handover import (
    Target,
    answer,
    cached_kit_contents,
    claim_summary,
    hand_over,
    handed_over_answer,
    kit_contents,
    run_stop_resolvers,
)
from models.base import utcnow
from models.inventory import Location
from models.pickup import Scan
from models.users import User

log = logging.getLogger("kitrun.pickup")


class TokenRefused(Exception):
    """The bearer token given to redeem is unknown, expired or revoked (the caller says 401)."""


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
    attempt = new_attempt(code, nonce, scanned_at, location_id, run_stop_id, queued)
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
        look = lookup(session, attempt, None)
        session.rollback()
        if look.stored_hash is None:
            raise
        if look.stored_hash != attempt.digest:
            return _write(session, attempt, answer("nonce_reused"), None, None)
        return look.stored_response


def _redeem(session: Session, code: str, attempt: Attempt, fast: bool) -> dict:
    look = lookup(session, attempt, code)
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


def _hand_over_pg(session: Session, c, attempt: Attempt, ok: dict) -> bool:  # noqa: ANN001
    """The whole hand-over as one statement (function kitrun_hand_over, see its migration)."""
    try:
        result = HAND_OVER.execute(session, hand_over_params(c, attempt, ok)).fetchone()[0]
    except psycopg.Error as exc:
        if exc.sqlstate == "KR001":
            raise OutOfStock(N_("The reserved kit is missing from stock.")) from exc
        raise
    session.commit()
    return result == "ok"


def _write(
    session: Session,
    attempt: Attempt,
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


def _target(session: Session, attempt: Attempt, look) -> Target | str:  # noqa: ANN001
    if attempt.run_stop_id is not None:
        for resolver in run_stop_resolvers:
            return resolver(session, attempt.run_stop_id, attempt.user.id)
        return "unknown_point"
    return point_rules(look, attempt.user, attempt.location_id)


def point_target(session: Session, user: User, location_id: int) -> Target | str:
    """Whether a user may scan at a pickup point: its Target, or why not."""
    probe = Attempt(
        "", "", utcnow(), utcnow(), Caller(user.id, user.role), location_id, None, False
    )
    return point_rules(lookup(session, probe, None), user, location_id)


def _refusal(session: Session, c, target: Target) -> dict | None:  # noqa: ANN001
    """The answer refusing this claim's kit here, or None when it can be handed over."""
    result = refused(c, target)
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
    attempt = new_attempt(code, nonce, scanned_at, location_id, None, queued)
    attempt.token_hash, attempt.token_kind = security.token_hash(token), token_kind
    parsed = security.parse_scanned_code(code)
    if parsed is None:
        return None
    by_token, by_short, params = lookup_params(attempt, parsed)
    try:
        async with pool.connection() as conn:
            look = await prepared_lookup(by_token, by_short).first(conn, params)
            ok = _winning_answer(look, attempt)
            if ok is None:
                return None
            result = await HAND_OVER.first(conn, hand_over_params(look, attempt, ok))
    except psycopg.Error as exc:
        # A broken connection (its outcome unknown: the nonce makes redeem's retry safe), the
        # nonce raced in twice, a kit missing from stock: redeem decides and records.
        log.info("scan fast path gave way to redeem: %s", type(exc).__name__)
        return None
    return ok if result[0] == "ok" else None


def _winning_answer(look, attempt: Attempt) -> dict | None:  # noqa: ANN001
    """The `ok` answer when everything read says this scan hands the kit over, else None."""
    if look.caller_id is None or look.stored_hash is not None or look.id is None:
        return None
    attempt.user = Caller(look.caller_id, look.caller_role)
    target = point_rules(look, attempt.user, attempt.location_id)
    if isinstance(target, str) or refused(look, target) is not None:
        return None
    kit = cached_kit_contents(item_id=look.reserved_item_id or look.kit_item_id, kits=look.kits)
    if kit is None:
        return None
    summary = claim_summary(look)
    summary["kit"] = kit
    return answer("ok", summary, kits=look.kits)
