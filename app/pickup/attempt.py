"""A scan attempt and the one read it starts with: the caller, the nonce's earlier answer, the
point and the claim in one statement, and the rules that decide from what it read.

Shared by both ways a scan is redeemed (app/pickup/redeem.py): `redeem` in a worker thread
with a session, and `try_hand_over` on the event loop for the winning scan on PostgreSQL.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, String, and_, bindparam, exists, literal_column, select, text
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.audit import trail as audit
from app.core import security
from app.core.db import ONE_ROW, Prepared
from app.core.errors import N_, Invalid
from app.pickup.handover import (
    CLOCK_SKEW,
    OFFLINE_AFTER,
    Target,
    answer,
    claim_summary,
    code_hash,
    handed_over_body,
)
from models.base import utcnow
from models.campaigns import Campaign
from models.claims import Claim
from models.inventory import Location, LocationKind
from models.pickup import Scan, VolunteerPoint
from models.schools import RosterEntry, School
from models.users import Role, User, UserToken


@dataclass(frozen=True)
class Caller:
    """Who scans: all the redeem needs of a user (no ORM object on the hot path)."""

    id: int
    role: str


@dataclass
class Attempt:
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
    confirm: bool = False  # the volunteer checked the ID and tapped "Confirm hand-over"


def new_attempt(
    code: str,
    nonce: str,
    scanned_at: datetime,
    location_id: int | None,
    run_stop_id: int | None,
    queued: bool,
    confirm: bool = False,
) -> Attempt:
    """The attempt as the scan log will record it (Invalid for a request that cannot be one)."""
    if (location_id is None) == (run_stop_id is None):
        raise Invalid(N_("Give either a pickup point or a run stop."))
    if not nonce or len(nonce) > 64:
        raise Invalid(N_("The nonce must be 1 to 64 characters."))
    if scanned_at.tzinfo is None:
        raise Invalid(N_("scanned_at needs a time zone (UTC ISO 8601, e.g. 2026-05-01T09:30:00Z)."))
    now = utcnow()
    scanned_at = min(scanned_at, now + CLOCK_SKEW)
    return Attempt(
        digest=code_hash(code),
        nonce=nonce,
        scanned_at=scanned_at,
        now=now,
        user=None,
        location_id=location_id,
        run_stop_id=run_stop_id,
        delayed=queued or now - scanned_at > OFFLINE_AFTER,
        confirm=confirm,
    )


def hand_over_params(c, attempt: Attempt, ok: dict) -> dict:  # noqa: ANN001
    """The values of one HAND_OVER call: claim `c` (as read) handed over, answered `ok`."""
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


HAND_OVER = Prepared(
    text(
        "SELECT kitrun_hand_over(:claim_id, :location_id, :user_id, :at, :now, :code_hash, "
        ":nonce, :scanned_at, CAST(:response AS json), CAST(:after AS json))"
    )
)


# What a refusal tells the volunteer, read in the same statement: where the kit waits (wrong
# point), and when, where and by whom it was handed over (already handed over).
KitAt = aliased(Location, name="kit_at")
HandedAt = aliased(Location, name="handed_at")
HandedBy = aliased(User, name="handed_by")

CLAIM_COLUMNS = (
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
    Claim.handed_over_at,
    HandedAt.id.label("handed_location_id"),
    HandedAt.name_zh.label("handed_location_zh"),
    HandedAt.name_en.label("handed_location_en"),
    HandedBy.display_name.label("handed_by_name"),
    HandedBy.username.label("handed_by_username"),
    KitAt.name_zh.label("kit_location_zh"),
    KitAt.name_en.label("kit_location_en"),
    KitAt.address.label("kit_location_address"),
    # For the ID check at the table: shown in the live answer only, never stored in the log.
    Campaign.confirm_after_id_check,
    Claim.birth_date,
    RosterEntry.name.label("roster_name"),
    RosterEntry.birth_date.label("roster_birth_date"),
)


def lookup(session: Session, attempt: Attempt, code: str | None):  # noqa: ANN202
    """One read: the caller (when known by a bearer token), the nonce's earlier answer, the
    point and whether the caller may scan there, and the claim the code names with its
    campaign and school (each part None when absent)."""
    parsed = security.parse_scanned_code(code) if code is not None else None
    by_token, by_short, params = lookup_params(attempt, parsed)
    return prepared_lookup(by_token, by_short).one(session, params)


def lookup_params(attempt: Attempt, parsed: tuple[str, str] | None) -> tuple[bool, bool, dict]:
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
def prepared_lookup(by_token: bool, by_short_code: bool) -> Prepared:
    """The lookup, built once per shape (the scan endpoint's hot path)."""
    return Prepared(_lookup_select(by_token, by_short_code))


def _lookup_select(by_token: bool, by_short_code: bool):  # noqa: ANN202
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
        *CLAIM_COLUMNS,
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
        .outerjoin(HandedAt, HandedAt.id == Claim.handed_over_location_id)
        .outerjoin(HandedBy, HandedBy.id == Claim.handed_over_by)
        .outerjoin(KitAt, KitAt.id == Claim.reserved_location_id)
        .outerjoin(
            RosterEntry,
            and_(
                RosterEntry.school_id == Claim.school_id,
                RosterEntry.student_number == Claim.student_number,
                Claim.student_number != literal_column("''"),
            ),
        )
    )


def point_rules(look, user: Caller, location_id: int | None) -> Target | str:  # noqa: ANN001
    """The pickup point's Target for this caller, from the read; or why not."""
    if look.point_kind != LocationKind.pickup_point or not look.point_active:
        return "unknown_point"
    if user.role != Role.diplomat and not look.assigned:
        return "not_your_point"
    return Target(location_id=location_id)


def refusal(c, target: Target) -> dict | None:  # noqa: ANN001
    """The answer refusing claim `c` (as read by the lookup) here, or None when its kit can be
    handed over. Pure: both paths give the same answer from the same read."""
    result = refused(c, target)
    if result is None:
        return None
    summary = claim_summary(c)
    if result == "already_handed_over":
        by = c.handed_by_name, c.handed_by_username
        return handed_over_body(summary, c.handed_over_at, c, *by)
    if result == "not_ready":
        return answer("not_ready", summary, status=c.status)
    if result == "wrong_point":
        known = c.reserved_location_id is not None and c.kit_location_en is not None
        body = answer("wrong_point", summary, location=c.kit_location_en if known else "?")
        if known:
            body["kit_location"] = {
                "id": c.reserved_location_id,
                "name_zh": c.kit_location_zh,
                "name_en": c.kit_location_en,
                "address": c.kit_location_address,
            }
        return body
    return answer(result, summary)


def refused(c, target: Target) -> str | None:  # noqa: ANN001
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


@dataclass
class Decision:
    """What a scan's one read decided: the answer to record (with its claim and point), the
    nonce's stored first answer (`stored`: nothing is written), or a hand-over (`target`)."""

    response: dict | None
    claim_id: int | None = None
    location_id: int | None = None
    stored: bool = False
    target: Target | None = None
    check: bool = False  # "check ID": answered, nothing written (the confirm hands over)


def decide(look, attempt: Attempt, where: Callable[[], Target | str]) -> Decision:  # noqa: ANN001
    """Every answer but the hand-over's own, from the one read: both paths decide here.
    `where` gives the Target (or why not), asked only when the nonce is new."""
    if look.stored_hash is not None:
        if look.stored_hash == attempt.digest:
            return Decision(look.stored_response, stored=True)
        return Decision(answer("nonce_reused"))
    target = where()
    if isinstance(target, str):
        known = target != "unknown_point" and attempt.run_stop_id is None
        return Decision(answer(target), None, attempt.location_id if known else None)
    loc = target.location_id
    if look.id is None or (target.claim_id is not None and look.id != target.claim_id):
        return Decision(answer("invalid"), None, loc)
    refused_with = refusal(look, target)
    if refused_with is not None:
        return Decision(refused_with, look.id, loc)
    if look.confirm_after_id_check and attempt.run_stop_id is None and not attempt.confirm:
        # Nothing changes and nothing is recorded: the confirm (same code and nonce) is the
        # attempt the log keeps, and its retries get its stored answer.
        check = answer("check_id", claim_summary(look), kits=look.kits)
        return Decision(check, look.id, loc, check=True)
    return Decision(None, look.id, loc, target=target)


def with_identity(response: dict, look) -> dict:  # noqa: ANN001
    """The live answer of a valid scan with the student's full name and birth year, for the
    volunteer to check an ID card; the stored answer (the scan log) keeps the masked name."""
    if response.get("result") not in ("ok", "check_id") or look.id is None:
        return response
    born = look.birth_date or look.roster_birth_date
    roster = (look.roster_name or "").strip()
    return {
        **response,
        "identity": {
            "name_zh": look.name_zh or "",
            "name_latin": look.name_latin or "",
            "roster_name": roster if roster not in (look.name_zh, look.name_latin) else "",
            "birth_year": born.year if born else None,
        },
    }


def scan_row(
    attempt: Attempt, response: dict, claim_id: int | None, location_id: int | None
) -> dict:
    """The scan log's row for an attempt answered `response` (a delayed scan finding the kit
    already handed over is a conflict, flagged in the row and the answer)."""
    conflict = response["result"] == "already_handed_over" and attempt.delayed
    if conflict:
        response["conflict"] = True
    return {
        "claim_id": claim_id,
        "code_hash": attempt.digest,
        "user_id": attempt.user.id,
        "location_id": location_id,
        "run_stop_id": attempt.run_stop_id,
        "nonce": attempt.nonce,
        "scanned_at": attempt.scanned_at,
        "received_at": attempt.now,
        "result": response["result"],
        "response": response,
        "conflict": conflict,
    }


# One refused attempt, appended to the scan log by the event-loop path (the same row as `_write`
# in app/pickup/redeem.py appends through the session).
WRITE_SCAN = Prepared(
    text(
        "INSERT INTO scan (claim_id, code_hash, user_id, location_id, run_stop_id, nonce, "
        "scanned_at, received_at, result, response, conflict) VALUES (:claim_id, :code_hash, "
        ":user_id, :location_id, :run_stop_id, :nonce, :scanned_at, :received_at, :result, "
        "CAST(:response AS json), :conflict) RETURNING id"
    )
)
