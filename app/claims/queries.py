"""Read side of claims: staff lists with filters, detail with history, CSV, the holder's view."""

from __future__ import annotations

import functools
from collections.abc import Callable

from sqlalchemy import bindparam, exists, func, or_
from sqlmodel import Session, select

from app.audit import looks
from app.claims import actions as claim_actions
from app.core import csv_out
from app.core.db import Prepared
from app.core.errors import N_, NotFound
from app.core.localtime import span
from app.core.security import format_short_code
from models.base import utcnow
from models.campaigns import Campaign, PickupSlot
from models.claims import Claim, ClaimEvent
from models.inventory import Location
from models.schools import RosterEntry, School
from models.users import User


def filtered(
    *,
    session: Session,
    campaign_id: int | None = None,
    school_id: int | None = None,
    status: str | None = None,
    fulfilment: str | None = None,
    minors: bool | None = None,
    location_id: int | None = None,
    q: str | None = None,
):  # noqa: ANN201
    """The claims query with the staff filters applied (for lists, CSV and label printing)."""
    stmt = select(Claim)
    if campaign_id is not None:
        stmt = stmt.where(Claim.campaign_id == campaign_id)
    if school_id is not None:
        stmt = stmt.where(Claim.school_id == school_id)
    if status:
        stmt = stmt.where(Claim.status.in_(status.split(",")))
    if fulfilment:
        stmt = stmt.where(Claim.fulfilment == fulfilment)
    if minors is not None:
        stmt = stmt.where(Claim.is_minor == minors)
    if location_id is not None:
        stmt = stmt.where(Claim.reserved_location_id == location_id)
    if q:
        like = f"%{q.strip()}%"
        code = q.strip().upper().replace("-", "")
        stmt = stmt.where(
            or_(
                Claim.name_latin.ilike(like),
                Claim.name_zh.like(like),
                Claim.student_number.ilike(like),
                Claim.email.ilike(like),
                Claim.short_code == code,
            )
        )
    return stmt


def page(*, session: Session, limit: int = 50, offset: int = 0, **filters) -> tuple[list, int]:
    stmt = filtered(session=session, **filters)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(
        stmt.order_by(Claim.submitted_at.desc(), Claim.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def lookups(session: Session) -> dict:
    """Names for ids shown in lists: schools, locations, slots, campaigns."""
    return {
        "schools": {s.id: s for s in session.exec(select(School)).all()},
        "locations": {loc.id: loc for loc in session.exec(select(Location)).all()},
        "campaigns": {c.id: c for c in session.exec(select(Campaign)).all()},
    }


def get_claim(*, session: Session, claim_id: int) -> Claim:
    """A claim by id, or 404."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(N_("No claim with id {id}."), params={"id": claim_id})
    return claim


def looked_at(*, session: Session, user_id: int | None, claims: list[Claim]) -> None:
    """Log the minors among these claims whose address or phone a staff view shows (a claim's
    page, the claims API)."""
    looks.record(session, user_id=user_id, context="claim", shown=looks.shown(claims))


def history(*, session: Session, claim_id: int) -> list[tuple[ClaimEvent, User | None]]:
    return list(
        session.exec(
            select(ClaimEvent, User)
            .join(User, User.id == ClaimEvent.user_id, isouter=True)
            .where(ClaimEvent.claim_id == claim_id)
            .order_by(ClaimEvent.id)
        ).all()
    )


@functools.cache
def _names() -> Prepared:
    return Prepared(
        select(
            Campaign.name_zh.label("campaign_zh"),
            Campaign.name_en.label("campaign_en"),
            School.name_zh.label("school_zh"),
            School.name_en.label("school_en"),
            Location.name_zh.label("point_zh"),
            Location.name_en.label("point_en"),
            PickupSlot.starts_at,
            PickupSlot.ends_at,
        )
        .select_from(Campaign)
        .join(School, School.id == bindparam("school_id"))
        .outerjoin(Location, Location.id == bindparam("location_id"))
        .outerjoin(PickupSlot, PickupSlot.id == bindparam("slot_id"))
        .where(Campaign.id == bindparam("campaign_id"))
    )


def holder_view(*, session: Session, claim: Claim, locale: str, tz: str = "UTC") -> dict:
    """What the student sees on the status page (and the API gives the token's holder)."""
    # One read for the names around the claim (campaign, school, pickup point, slot).
    names = _names().one(
        session,
        {
            "campaign_id": claim.campaign_id,
            "school_id": claim.school_id,
            "location_id": claim.pickup_location_id or -1,
            "slot_id": claim.slot_id or -1,
        },
    )
    position = claim_actions.waitlist_position(session, claim)
    return holder_answer(claim, names, position, locale=locale, tz=tz)


def holder_answer(claim, names, position: int | None, *, locale: str, tz: str) -> dict:  # noqa: ANN001
    """`holder_view` from what it reads: the claim (any object with its columns), the names
    around it (labelled as `_names` reads them; `eligibility.facts_select` too) and its
    waitlist position."""
    zh = locale == "zh_CN"
    point = (names.point_zh if zh else names.point_en) if names.point_en is not None else None
    return {
        "status": claim.status,
        "short_code": format_short_code(claim.short_code),
        "token": claim.token,
        "campaign": names.campaign_zh if zh else names.campaign_en,
        "school": names.school_zh if zh else names.school_en,
        "name_latin": claim.name_latin,
        "fulfilment": claim.fulfilment,
        "pickup_point": point,
        "slot": span(names.starts_at, names.ends_at, tz) if names.starts_at is not None else None,
        "waitlist_position": position,
        "reasons": localized_reasons(claim.reasons, names, zh),
        "submitted_at": claim.submitted_at,
        "handed_over_at": claim.handed_over_at,
    }


# Reasons whose parameter names a place: recorded with its English name (and, since issue 17,
# its id); shown with the name in the reader's language, taken from the names read with the claim.
_NAMED = {"school_eligible": ("school", "school"), "pickup": ("point", "point")}


def localized_reasons(reasons: list, names, zh: bool) -> list:  # noqa: ANN001
    """A claim's reasons with the school's and the pickup point's names in the reader's
    language (older rows, which hold the English name only, too)."""
    out = []
    for r in reasons or []:
        named = _NAMED.get(r.get("code")) if isinstance(r, dict) else None
        if named is None:
            out.append(r)
            continue
        param, prefix = named
        zh_name, en_name = (
            getattr(names, f"{prefix}_zh", None),
            getattr(names, f"{prefix}_en", None),
        )
        if en_name is None or param not in r.get("params", {}):
            out.append(r)
            continue
        name = zh_name if zh and zh_name else en_name
        out.append({**r, "params": {**r["params"], param: name}})
    return out


# CJK Unified Ideographs (with extension A): a roster name starting with one is a Chinese name.
_CJK_FIRST, _CJK_LAST = "\u3400", "\u9fff"


def schools_listing_chinese_names(*, session: Session, school_ids: list[int]) -> set[int]:
    """The schools among `school_ids` whose roster lists names in Chinese characters: their
    students must give the Chinese name as the list has it (a Latin one will not match)."""
    if not school_ids:
        return set()
    first = func.substr(RosterEntry.name_norm, 1, 1)
    if session.get_bind().dialect.name == "postgresql":
        first = first.collate("C")  # code-point order, whatever the database's collation
    out = set()
    for school_id in school_ids:
        found = session.exec(
            select(
                exists().where(
                    RosterEntry.school_id == school_id, first.between(_CJK_FIRST, _CJK_LAST)
                )
            )
        ).one()
        if found:
            out.add(school_id)
    return out


def export_csv(
    *,
    session: Session,
    user: User,
    reason: str | None,
    gettext: Callable[[str], str] | None = None,
    **filters,
) -> bytes:
    """The claims CSV, personal data and all: a reason is required (422), the export is in the
    audit trail (`export.claims`: reason, rows, filters), the minors whose address or phone it
    holds are logged as seen, and its first line is the notice of what it holds."""
    why = looks.export_reason(reason)
    notice = looks.export_notice(username=user.username, reason=why, at=utcnow(), gettext=gettext)
    seen: list[looks.Shown] = []
    body = to_csv(session=session, notice=notice, seen=seen, **filters)
    looks.record_export(
        session,
        user_id=user.id,
        what="claims",
        reason=why,
        rows=len(seen),
        filters=filters,
        shown=seen,
    )
    return body


def to_csv(
    *,
    session: Session,
    notice: str | None = None,
    seen: list[looks.Shown] | None = None,
    **filters,
) -> bytes:
    """The claims of the staff filters as CSV (`notice` first; each row's contact details
    shown are added to `seen`)."""
    stmt = filtered(session=session, **filters).order_by(Claim.id)
    look = lookups(session)
    w = csv_out.Writer(
        [
            "id",
            "campaign",
            "school",
            "status",
            "short_code",
            "name_zh",
            "name_latin",
            "student_number",
            "email",
            "birth_date",
            "minor",
            "phone",
            "wechat",
            "fulfilment",
            "location",
            "address",
            "submitted_at_utc",
            "handed_over_at_utc",
        ],
        notice=notice,
    )
    for c in session.exec(stmt).all():
        if seen is not None:
            seen += looks.shown([c])
        loc = look["locations"].get(c.reserved_location_id)
        w.writerow(
            [
                c.id,
                look["campaigns"][c.campaign_id].name_en,
                look["schools"][c.school_id].name_en,
                c.status,
                format_short_code(c.short_code),
                c.name_zh,
                c.name_latin,
                c.student_number,
                c.email or "",
                c.birth_date,
                "yes" if c.is_minor else "no",
                c.phone,
                c.wechat,
                c.fulfilment,
                loc.name_en if loc else "",
                c.address,
                c.submitted_at.isoformat(),
                c.handed_over_at.isoformat() if c.handed_over_at else "",
            ]
        )
    return w.to_bytes()
