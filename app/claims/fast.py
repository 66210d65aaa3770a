"""A student's claim, the one entry of the claim endpoint and the claim form (`submit_claim`):
the fast path on the event loop (PostgreSQL), else `claims.submit` in a worker thread.

Two statements on a connection of the event-loop pool (`app.core.db.open_async_pool`): one counts
the attempt against the rate limits and reads the campaign and everything the rules need; the other
is `kitrun_submit_claim`, the same call as `claims.submit` makes. The rules are
`eligibility.rules`, the claim's columns `claims.claim_values`, the answer
`claim_views.holder_answer`: one set of rules and one write, two ways to reach them.

It takes pickup claims without an e-mail address (those that need no mail); the others go
through `claims.submit` in a worker thread.
"""

from __future__ import annotations

import functools
import logging
from datetime import date
from types import SimpleNamespace
from typing import NamedTuple

import anyio.to_thread
import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import bindparam, func, select

from app.campaigns import service as campaigns
from app.claims import actions as claim_actions
from app.claims import eligibility
from app.claims import queries as claim_views
from app.claims import submit as claims
from app.core import faults, metrics, ratelimit, security
from app.core.config import Settings
from app.core.db import ONE_ROW, Database, Prepared, autocommit_reads
from app.core.errors import DomainError
from models.base import utcnow
from models.campaigns import Campaign
from models.claims import ClaimIn, Fulfilment

log = logging.getLogger(__name__)

_CAMPAIGN = (
    "id",
    "public_id",
    "status",
    "opens_at",
    "closes_at",
    "kit_item_id",
    "kits_per_student",
    "depot_location_id",
    "asks_phone",  # (what the claim keeps: `claims.claim_values`)
    "asks_wechat",
)


@functools.cache
def _front() -> Prepared:
    """The attempt counted (rate limits), the campaign by its public id and the rules' facts."""
    hits = ratelimit.hits_cte()
    base = ONE_ROW.outerjoin(Campaign, Campaign.public_id == bindparam("public_id"))
    return Prepared(
        eligibility.facts_select(Campaign.id, base).add_columns(
            *(getattr(Campaign, name).label(f"campaign_{name}") for name in _CAMPAIGN),
            Campaign.name_zh.label("campaign_zh"),  # (with the facts' names: the answer's)
            Campaign.name_en.label("campaign_en"),
            select(func.json_object_agg(hits.c.key, hits.c.count)).scalar_subquery().label("hits"),
            # This statement's only write is the counters: its commit need not wait for the
            # disk (a crash may forget the last moment's counts). For this statement alone.
            func.set_config("synchronous_commit", "off", True).label("counted_async"),
        )
    )


def applies(data: ClaimIn) -> bool:
    """Whether a claim may take the fast path: a pickup, no e-mail to send."""
    return data.fulfilment == Fulfilment.pickup and not data.email.strip()


class Outcome(NamedTuple):
    """What the fast path did: the holder's answer, or None when `claims.submit` must finish;
    then whether the attempt was counted, and the token of a claim it may have stored."""

    answer: dict | None
    counted: bool
    token: str | None = None


async def try_submit(
    pool: AsyncConnectionPool,
    *,
    settings: Settings,
    public_id: str,
    data: ClaimIn,
    locale: str,
    address: str,
    today: date | None = None,
) -> Outcome:
    """Submit a claim that `applies`, as `claims.submit` would; the holder's answer.

    Refusals raise the same errors as `claims.submit`. When the database fails in a way that
    leaves the outcome to `claims.submit` (a broken connection), no answer: `counted` says
    whether the attempt was counted against the rate limits, `token` is set once the claim's
    write was sent (it may have been stored: `claims.submit` then answers with that claim).
    """
    limits = claims.rate_limits(settings, public_id, data, address)
    params = {
        "public_id": public_id,
        "keys": list(limits),
        "start": ratelimit.window_start(settings.claim_rate_window_seconds),
        **eligibility.facts_params(data),
    }
    counted, sent = False, None
    try:
        async with pool.connection() as conn:
            f = await _front().first(conn, params)
            counted = True
            row, decision = _decide(f, data, locale, limits, today, settings.phone_region)
            now = utcnow()
            try:
                params = claims.submit_params(row, decision, True, now)
                sent = row["token"]
                out = await claims.SUBMIT.first(conn, params)
            except psycopg.Error as exc:
                refusal = claims.submit_refusal(exc)
                if refusal is exc:
                    raise
                raise refusal from exc
            claim = SimpleNamespace(**row)
            claim.__dict__.update(claims.submitted(row, out[0], now))
            position = await _position(conn, claim)
    except psycopg.Error as exc:
        log.info("claim fast path gave way to claims.submit: %s", type(exc).__name__)
        if faults.connection_lost(exc):
            faults.sweep(pool)  # the pool's other idle connections may be dead too
        return Outcome(None, counted, sent)
    answer = claim_views.holder_answer(claim, f, position, locale=locale, tz=settings.timezone)
    return Outcome(answer, True, row["token"])


def _decide(f, data: ClaimIn, locale: str, limits: dict, today: date | None, region: str):  # noqa: ANN001, ANN202
    """The new claim's row and the rules' decision, or the refusal raised."""
    if f.campaign_id is None:
        raise campaigns.unknown_campaign()
    claims.over_limit(f.hits, limits)
    campaign = SimpleNamespace(**{name: getattr(f, f"campaign_{name}") for name in _CAMPAIGN})
    decision = eligibility.rules(
        campaign, data, f, today or date.today(), points=_no_points, phone_region=region
    )
    return claims.new_row(claims.claim_values(campaign, data, decision, locale)), decision


async def _position(conn: psycopg.AsyncConnection, claim: SimpleNamespace) -> int | None:
    """The waitlist position; None if the read fails (the claim is stored: it must not be
    submitted again; the status page shows the position)."""
    try:
        return await claim_actions.waitlist_position_on(conn, claim)
    except psycopg.Error as exc:
        log.warning("waitlist position of a new claim not read: %s", type(exc).__name__)
        return None


def _no_points() -> list:
    raise AssertionError("a pickup claim never asks for the distance to the pickup points")


async def submit_claim(
    db: Database,
    *,
    public_id: str,
    data: ClaimIn,
    locale: str,
    address: str,
    view: bool = True,
) -> dict:
    """A student's claim on campaign `public_id`: the holder's answer (`view`; else only the
    claim's `token`), or the refusal raised (DomainError, as `claims.submit`).

    The one entry of the claim endpoint and the form: a pickup without mail on PostgreSQL runs
    on the event loop (`try_submit`); everything else, and whatever that path leaves (a broken
    connection), runs `claims.submit` in a worker thread with a session of its own, told
    whether the attempt was already counted and the token of a claim that may be stored.
    """
    tried = Outcome(None, False)
    try:
        if db.pool is not None and applies(data):
            tried = await try_submit(
                db.pool,
                settings=db.settings,
                public_id=public_id,
                data=data,
                locale=locale,
                address=address,
            )
            if tried.answer is not None:
                metrics.claimed(tried.answer["status"])
                return tried.answer if view else {"token": tried.answer["token"]}
        call = functools.partial(
            _submit_in_thread, db, public_id, data, locale, address, tried, view
        )
        return await anyio.to_thread.run_sync(call)
    except DomainError as exc:
        metrics.claimed(exc.code)
        raise


def _submit_in_thread(
    db: Database,
    public_id: str,
    data: ClaimIn,
    locale: str,
    address: str,
    tried: Outcome,
    view: bool,
) -> dict:
    """`claims.submit` with a session of its own, run once more on a fresh session when its
    database connection was lost (app/core/faults.py). The claim's token is chosen before the
    first try: a claim stored by a try whose answer was lost is then found by it and answered
    (not refused as a second claim); the retry does not count the attempt again."""
    if tried.token is None:
        tried = tried._replace(token=security.new_claim_token())

    def attempt(again: bool) -> dict:
        counted = tried.counted or again
        return _submit_once(
            db, public_id, data, locale, address, tried._replace(counted=counted), view
        )

    return faults.retry_once(attempt)


def _submit_once(
    db: Database,
    public_id: str,
    data: ClaimIn,
    locale: str,
    address: str,
    tried: Outcome,
    view: bool,
) -> dict:
    """One try of `claims.submit` with a session of its own. The campaign read and the
    rate-limit counters run as single statements; the claim itself is then one transaction."""
    with db.session() as session:
        autocommit_reads(session)
        campaign = campaigns.by_public_id(session=session, public_id=public_id)
        claim = claims.submit(
            session=session,
            settings=db.settings,
            campaign=campaign,
            data=data,
            locale=locale,
            address=address,
            counted=tried.counted,
            token=tried.token,
        )
        metrics.claimed(claim.status)
        if not view:
            return {"token": claim.token}
        autocommit_reads(session)  # the answer's one read
        return claim_views.holder_view(
            session=session, claim=claim, locale=locale, tz=db.settings.timezone
        )
