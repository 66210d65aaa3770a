"""Who looked at a minor's contact details: one append-only row for each minor whose address or
phone a page, an answer, a print or an export showed, with who, when and where; and the reads
that show diplomats that log (a claim's, and the whole mission's).

Contexts: `run` (the run page and API), `driver` (a driver's view of a vehicle), `claim` (a
claim's page, the claims API), `print` (route sheets, delivery labels), `export` (CSV).
The lowest domain, so every domain that shows a minor's address or phone can call it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import Session

from app.audit import trail as audit
from app.core.db import write_intent
from app.core.errors import N_, Invalid
from models.base import utcnow
from models.privacy import PersonalView
from models.users import User

CONTEXTS = ("run", "driver", "claim", "print", "export")
# How the log names a context and a field (msgids, translated where shown).
LABELS = {
    "run": N_("Delivery run (page or API)"),
    "driver": N_("Driver's view"),
    "claim": N_("Claim (page or API)"),
    "print": N_("Print (route sheet or labels)"),
    "export": N_("Export (CSV)"),
    "address": N_("Address"),
    "phone": N_("Phone"),
}
# (claim id, the student is a minor, the address was shown, the phone was shown)
Shown = tuple[int, bool, bool, bool]
REASON_MAX = 300


def shown(
    rows: Iterable[Any], *, id_field: str = "id", address: bool = True, phone: bool = True
) -> list[Shown]:
    """What a view shows of these claims (or run stops: `id_field="claim_id"`), objects or
    dicts with `is_minor`, `address` and `phone`: `address`/`phone` say whether the view shows
    that field at all; an empty field is never shown."""
    out = []
    for r in rows:
        get = r.get if isinstance(r, dict) else lambda k, r=r: getattr(r, k, None)
        out.append(
            (
                int(get(id_field)),
                bool(get("is_minor")),
                address and bool(get("address")),
                phone and bool(get("phone")),
            )
        )
    return out


def _rows(user_id: int | None, context: str, views: Iterable[Shown]) -> list[dict]:
    fields: dict[int, set[str]] = {}
    for claim_id, minor, address, phone in views:
        if minor and (address or phone):
            seen = fields.setdefault(claim_id, set())
            seen.update(f for f, on in (("address", address), ("phone", phone)) if on)
    now = utcnow()
    return [
        {
            "at": now,
            "user_id": user_id,
            "claim_id": claim_id,
            "fields": ",".join(f for f in ("address", "phone") if f in seen),
            "context": context[:20],
        }
        for claim_id, seen in fields.items()
    ]


def record(
    session: Session,
    *,
    user_id: int | None,
    context: str,
    shown: Iterable[Shown],
    commit: bool = True,
) -> int:
    """Log the minors whose address or phone was shown (adults and empty fields are not), in
    one multi-row insert; the number of rows.

    `commit=True` (a view): the caller's transaction, a read, is committed first (on SQLite a
    read that turns into a write could fail; on PostgreSQL it may be in autocommit), then the
    rows go in a write transaction of their own, committed. `commit=False`: the rows join the
    caller's transaction, which commits them with its own writes.
    """
    rows = _rows(user_id, context, shown)
    if not rows:
        return 0
    if commit:
        session.commit()
    token = write_intent.set(True)  # SQLite: the transaction begins with the write lock
    try:
        session.execute(insert(PersonalView), rows)
        if commit:
            session.commit()
    finally:
        write_intent.reset(token)
    return len(rows)


# ---------------------------------------------------------------- exports


REASON_REQUIRED = N_(
    "A reason is required to export personal data: say what the export is for "
    "(at most {max} characters)."
)
EXPORT_NOTICE = N_(
    "Personal data of students: exported by {user} on {date} for: {reason}. "
    "Use it only for the distribution and delete it after use."
)


def export_reason(reason: str | None) -> str:
    """Why personal data is exported: required, one line, at most 300 characters (422)."""
    text = " ".join((reason or "").split())
    if not text or len(text) > REASON_MAX:
        raise Invalid(REASON_REQUIRED, params={"max": REASON_MAX}, code="reason_required")
    return text


def export_notice(
    *, username: str, reason: str, at: datetime, gettext: Callable[[str], str] | None = None
) -> str:
    """The notice an export of personal data carries on its first line."""
    template = gettext(EXPORT_NOTICE) if gettext is not None else EXPORT_NOTICE
    when = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return template.format(user=username, date=when, reason=reason)


def record_export(
    session: Session,
    *,
    user_id: int | None,
    what: str,
    reason: str,
    rows: int,
    filters: dict | None = None,
    shown: Iterable[Shown] = (),
) -> None:
    """An export of personal data was made: its audit entry (`export.<what>` with the reason,
    the row count and the filters; no personal values) and the minors whose address or phone
    it holds, in one write transaction of their own after the caller's read, committed."""
    session.commit()  # the export's read ends here
    token = write_intent.set(True)
    try:
        audit.record(
            session,
            user_id=user_id,
            action=f"export.{what}",
            object_type="export",
            object_id=what,
            after={
                "reason": reason,
                "rows": rows,
                "filters": {k: v for k, v in (filters or {}).items() if v is not None},
            },
        )
        record(session, user_id=user_id, context="export", shown=shown, commit=False)
        session.commit()
    finally:
        write_intent.reset(token)


# ---------------------------------------------------------------- what diplomats see


def _public(view: PersonalView, username: str | None) -> dict:
    return {
        "id": view.id,
        "at": view.at,
        "user_id": view.user_id,
        "username": username,
        "claim_id": view.claim_id,
        "fields": view.fields,
        "context": view.context,
    }


def _aware(t: datetime | None) -> datetime | None:
    # Times without a zone are UTC (the API's convention).
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def of_claim(*, session: Session, claim_id: int, limit: int = 200) -> list[dict]:
    """Who was shown this claim's address or phone, newest first, with their user name."""
    rows, _ = views(session=session, claim_id=claim_id, limit=limit)
    return rows


def views(
    *,
    session: Session,
    claim_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict], int]:
    """The mission's log of views, newest first (by claim, from `since`, before `until`); and
    the total."""
    conds = []
    if claim_id is not None:
        conds.append(PersonalView.claim_id == claim_id)
    if since is not None:
        conds.append(PersonalView.at >= _aware(since))
    if until is not None:
        conds.append(PersonalView.at < _aware(until))
    total = session.execute(
        select(func.count()).select_from(PersonalView).where(*conds)
    ).scalar_one()
    rows = session.execute(
        select(PersonalView, User.username)
        .outerjoin(User, User.id == PersonalView.user_id)
        .where(*conds)
        .order_by(PersonalView.at.desc(), PersonalView.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [_public(v, u) for v, u in rows], int(total)
