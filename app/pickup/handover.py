"""QR pickup: volunteers at points, redeeming a claim's code exactly once, undoing a hand-over.

The hand-over is one transaction: a conditional UPDATE of the claim (the database decides who
wins when several phones scan the same code), the ledger's `issue` of the reserved kit, a claim
event and the scan row. Every attempt appends a scan row; a retry with the same (user, nonce)
returns the stored answer and records nothing new. The scan endpoint's path around these rules
(one read, one write) is app/pickup/redeem.py.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    and_,
    insert,
    select,
    update,
)
from sqlmodel import Session

from app.audit import trail as audit
from app.core import security
from app.core.errors import N_, Forbidden, Invalid, NotFound
from app.inventory import ledger
from app.inventory.ledger import Delta
from models.base import utcnow
from models.claims import Claim, ClaimEvent
from models.inventory import Item, Location, RecipeLine
from models.users import Role, User

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
    "not_your_vehicle",
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
    "not_your_vehicle": N_("not your vehicle"),
    "unknown_point": N_("unknown point"),
    "nonce_reused": N_("nonce reused"),
}
# What each result tells the volunteer; {params} come from the response's "params".
MESSAGES = {
    "ok": N_("Kits to hand over: {kits}."),
    # Not a result of the log: a campaign that asks for an ID check answers this first, and
    # hands over on the confirm.
    "check_id": N_("Check the student's ID card, then confirm. Kits to hand over: {kits}."),
    "invalid": N_("Not a code of ours. Check it and scan again."),
    "not_ready": N_("Not ready for pickup: the claim is {status}."),
    "cancelled": N_("This claim was cancelled."),
    "already_handed_over": N_("Already handed over."),
    "wrong_point": N_("This kit waits at another pickup point: {location}."),
    "campaign_closed": N_("This campaign is closed."),
    "not_your_point": N_("You are not assigned to this pickup point."),
    "not_your_vehicle": N_("This stop is on a vehicle not assigned to you."),
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
CLOCK_SKEW = timedelta(minutes=5)


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


# The delivery-runs service registers a resolver: (session, run_stop_id, user_id, role) -> Target,
# or a result code ("unknown_point", "not_your_vehicle") when this user cannot scan at the stop.
run_stop_resolvers: list[Callable[[Session, int, int, str], Target | str]] = []


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


def answer(result: str, claim: dict | None = None, **params: object) -> dict:
    body: dict = {
        "result": result,
        "ok": result == "ok",
        "message": MESSAGES[result].format(**params) if params else MESSAGES[result],
        "params": params,
    }
    if claim is not None:
        body["claim"] = claim
    return body


def claim_summary(c) -> dict:  # noqa: ANN001
    return {
        **mask_name(c.name_zh, c.name_latin),
        "school": {"name_zh": c.school_zh, "name_en": c.school_en},
        "kits": c.kits,
    }


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
    app/pickup/handover_sql.py): a change here must be made there too.
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


def handed_over_answer(session: Session, claim_id: int, summary: dict) -> dict:
    """`already_handed_over` for a claim another scan has just handed over (read afresh)."""
    row = session.execute(
        select(
            Claim.handed_over_at,
            Location.id.label("handed_location_id"),
            Location.name_zh.label("handed_location_zh"),
            Location.name_en.label("handed_location_en"),
            User.display_name,
            User.username,
        )
        .outerjoin(Location, Location.id == Claim.handed_over_location_id)
        .outerjoin(User, User.id == Claim.handed_over_by)
        .where(Claim.id == claim_id)
    ).one()
    return handed_over_body(summary, row.handed_over_at, row, row.display_name, row.username)


def handed_over_body(summary: dict, at, where, by_name, by_username) -> dict:  # noqa: ANN001
    """The `already_handed_over` answer: when, where (`where.handed_location_*`) and by whom."""
    body = answer("already_handed_over", summary)
    body["handed_over"] = {
        "at": at.isoformat() if at else None,
        "location": {
            "id": where.handed_location_id,
            "name_zh": where.handed_location_zh or "",
            "name_en": where.handed_location_en or "",
        },
        "by": by_name or by_username or "",
    }
    return body


# A kit's recipe, per process for a minute: it is display data on the hot path and changes rarely.
_RECIPE_TTL = 60.0
_recipes: dict[int, tuple[float, dict]] = {}


def cached_kit_contents(*, item_id: int | None, kits: int) -> dict | None:
    """kit_contents from this process's cache of recipes; None when it must be read."""
    if item_id is None:
        return {"name_zh": "", "name_en": "", "contents": []}
    cached = _recipes.get(item_id)
    if cached is None or cached[0] < time.monotonic():
        return None
    return _contents(cached[1], kits)


def kit_contents(session: Session, *, item_id: int | None, kits: int) -> dict:
    """The kit's name and its components (quantities for `kits` kits)."""
    known = cached_kit_contents(item_id=item_id, kits=kits)
    if known is not None:
        return known
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
    return _contents(recipe, kits)


def _contents(recipe: dict, kits: int) -> dict:
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
