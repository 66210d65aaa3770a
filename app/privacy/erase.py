"""Erasing one student: their claims' personal fields emptied, roster lines deleted, free text
about them redacted from the append-only logs, their mails and label PDFs removed.

Every count stays: a claim keeps its id, status, school, campaign, minor flag and times; a
live claim is cancelled first (its kit goes back to stock by a ledger movement); the scan log,
runs and ledger refer to the claim by id only. The audit trail records the erasure, by whom
and why, without the erased values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlmodel import Session

from app.audit import trail as audit
from app.claims import actions
from app.core import geocode, mail
from app.core.config import Settings
from app.core.errors import N_, Conflict, NotFound
from app.core.files import FileStore
from models.audit import AuditEntry
from models.base import utcnow
from models.claims import CANCELLABLE, PERSONAL_FIELDS, Claim, ClaimEvent, GeocodeCache
from models.pickup import Scan
from models.printing import PrintJob
from models.privacy import ErasureResult, RedactionPermit
from models.schools import RosterEntry, RosterImport

log = logging.getLogger(__name__)

REDACTED = "—"
# free-text values typed by staff that may name the student: redacted in reasons and audits
FREE_TEXT = ("note", "reason")


@dataclass
class Student:
    """One student as kitrun knows them: their claims and roster lines (locked for the erasure)."""

    claims: list[Claim]
    roster: list[RosterEntry]
    values: set[str] = field(default_factory=set)  # their personal values, to find copies

    @property
    def emails(self) -> set[str]:
        return {c.email for c in self.claims if c.email} | {r.email for r in self.roster if r.email}

    @property
    def codes(self) -> set[str]:
        return {c.token for c in self.claims} | {c.short_code for c in self.claims}


def find(
    session: Session,
    *,
    claim_id: int | None = None,
    entry_id: int | None = None,
    lock: bool = True,
) -> Student:
    """The student of a claim or of a roster line: every claim and roster line that is theirs
    (same school and student number, same e-mail, or the same student key)."""
    if claim_id is not None:
        first = session.get(Claim, claim_id)
        if first is None:
            raise NotFound(N_("No claim with id {id}."), params={"id": claim_id})
        keys = [(first.school_id, first.student_number, first.email)]
        student_keys = {first.student_key}
    else:
        entry = session.get(RosterEntry, entry_id)
        if entry is None:
            raise NotFound(N_("No roster line with id {id}."), params={"id": entry_id})
        keys = [(entry.school_id, entry.student_number, entry.email)]
        student_keys = set()
    claims: dict[int, Claim] = {}
    roster: dict[int, RosterEntry] = {}
    for _ in range(3):  # a claim can bring an e-mail that brings another claim; then stable
        conds = [Claim.student_key.in_(student_keys)] if student_keys else []
        rconds = []
        for school_id, number, email in keys:
            if number:
                conds.append(and_(Claim.school_id == school_id, Claim.student_number == number))
                rconds.append(
                    and_(RosterEntry.school_id == school_id, RosterEntry.student_number == number)
                )
            if email:
                conds.append(Claim.email == email)
                rconds.append(and_(RosterEntry.school_id == school_id, RosterEntry.email == email))
        if conds:
            stmt = select(Claim).where(or_(*conds))
            for c in session.execute(stmt.with_for_update() if lock else stmt).scalars():
                claims[c.id] = c
        if rconds:
            for r in session.execute(select(RosterEntry).where(or_(*rconds))).scalars():
                roster[r.id] = r
        more = {(c.school_id, c.student_number, c.email) for c in claims.values()}
        more |= {(r.school_id, r.student_number, r.email) for r in roster.values()}
        new_keys = {c.student_key for c in claims.values() if c.erased_at is None}
        if more <= set(keys) and new_keys <= student_keys:
            break
        keys = list(set(keys) | more)
        student_keys |= new_keys
    student = Student(
        claims=[c for c in claims.values() if c.erased_at is None], roster=list(roster.values())
    )
    for c in student.claims:
        student.values |= {
            str(v) for k in PERSONAL_FIELDS if (v := getattr(c, k)) not in (None, "")
        }
    for r in student.roster:
        if r.name:  # (an anonymous line has nothing left)
            birth = r.birth_date.isoformat() if r.birth_date else ""
            student.values |= {r.name, r.student_number, birth, r.email or ""}
    student.values.discard("")
    return student


def erase(
    session: Session,
    settings: Settings,
    *,
    claim_id: int | None = None,
    entry_id: int | None = None,
    user_id: int | None,
    reason: str,
    _: Callable[[str], str] = lambda s: s,
) -> ErasureResult:
    """Erase one student (named by one of their claims or roster lines) on request; commits.

    Conflict while one of their kits is out on a delivery run (erase once the stop is closed).
    """
    student = find(session, claim_id=claim_id, entry_id=entry_id)
    for c in student.claims:
        if c.status == "out_for_delivery":
            raise Conflict(
                N_(
                    "A kit is on its way to this student on a delivery run: erase once the "
                    "driver has closed the stop."
                ),
                code="out_for_delivery",
            )
    result = erase_claims(session, student, user_id=user_id, why=reason, _=_)
    audit.record(
        session,
        user_id=user_id,
        action="student.erase",
        object_type="student",
        object_id=",".join(str(i) for i in result.claim_ids)[:40] or f"roster:{entry_id}",
        after={
            "reason": reason,
            "claims": result.claim_ids,
            "roster_entries": result.roster_entries,
        },
    )
    session.commit()
    result.files = remove_files(session, settings, student)
    compact(session)
    return result


def erase_claims(
    session: Session,
    student: Student,
    *,
    user_id: int | None,
    why: str,
    _: Callable[[str], str] = lambda s: s,
) -> ErasureResult:
    """Erase `student` in the caller's transaction (no commit, no files): their claims are
    cancelled if still live, emptied of personal data and redacted in the logs; their roster
    lines deleted."""
    now = utcnow()
    kept: list[str] = []
    ids = [c.id for c in student.claims]
    for c in student.claims:
        if c.status in CANCELLABLE:
            actions.cancel_in(session, c, user_id=user_id, note=why)
            kept.append(
                _(
                    "Claim {code} was cancelled and its reserved kit returned to stock: kept as a "
                    "ledger movement and an anonymous cancelled claim."
                ).format(code=c.short_code)
            )
        elif c.status == "handed_over":
            at = c.handed_over_at.date().isoformat() if c.handed_over_at else "?"
            kept.append(
                _(
                    "A kit was handed over on {date} (claim {code}): kept as an anonymous count."
                ).format(date=at, code=c.short_code)
            )
        else:
            kept.append(
                _("Claim {code} ({status}): kept as an anonymous count.").format(
                    code=c.short_code, status=_(c.status)
                )
            )
    for c in student.claims:
        session.execute(
            update(Claim)
            .where(Claim.id == c.id, Claim.erased_at.is_(None))
            .values(
                **PERSONAL_FIELDS,
                student_key=f"erased:{c.id}",
                email_code_hash=None,
                reasons=_redacted_reasons(c.reasons),
                erased_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    _redact_logs(session, ids)
    addresses = {geocode.normalise(c.address) for c in student.claims if c.address}
    if addresses:  # the geocoder's answer for their address is theirs too
        session.execute(delete(GeocodeCache).where(GeocodeCache.query.in_(addresses)))
    for r in student.roster:  # kept as an anonymous line: the school's eligible count stays
        session.execute(
            update(RosterEntry)
            .where(RosterEntry.id == r.id)
            .values(
                student_number=f"erased-{r.id}",
                name="",
                name_norm="",
                birth_date=None,
                email=None,
            )
        )
    _redact_import_errors(
        session,
        {r.school_id for r in student.roster} | {c.school_id for c in student.claims},
        student.values,
    )
    if ids:
        kept.append(
            _(
                "The scan log, delivery runs, stock ledger and audit trail keep their entries, "
                "which name the claim by number only."
            )
        )
    erased = []
    if ids:
        erased.append(
            _(
                "Personal data of {n} claim(s): names, birth date, student number, e-mail, "
                "phone, WeChat, address and position; free-text notes about them."
            ).format(n=len(ids))
        )
    if student.roster:
        erased.append(
            _("The names, birth date, number and e-mail of {n} roster line(s).").format(
                n=len(student.roster)
            )
        )
        kept.append(
            _(
                "The roster line(s) stay as anonymous lines: the school's count of eligible "
                "students does not change."
            )
        )
    if not ids and not student.roster:
        erased.append(_("Nothing: this student's data was already erased."))
    return ErasureResult(
        claim_ids=ids, roster_entries=len(student.roster), files=0, erased=erased, kept=kept
    )


def _redacted_reasons(reasons: list | None) -> list:
    out = []
    for r in reasons or []:
        if isinstance(r, dict) and isinstance(r.get("params"), dict):
            params = {k: (REDACTED if k in FREE_TEXT else v) for k, v in r["params"].items()}
            r = {**r, "params": params}
        out.append(r)
    return out


def _redacted_dict(d: dict | None) -> dict | None:
    if not isinstance(d, dict):
        return d
    return {k: (REDACTED if k in FREE_TEXT and v else v) for k, v in d.items()}


def _permit(session: Session, table: str, row_ids: Iterable[int]) -> list[int]:
    row_ids = list(row_ids)
    if row_ids:
        session.execute(
            insert(RedactionPermit), [{"table_name": table, "row_id": i} for i in row_ids]
        )
    return row_ids


def _redact_logs(session: Session, claim_ids: list[int]) -> None:
    """Free text and masked names about the claims in the append-only logs, under permits
    (the database refuses any other change to those rows)."""
    if not claim_ids:
        return
    events = session.execute(
        select(ClaimEvent.id, ClaimEvent.note, ClaimEvent.reasons).where(
            ClaimEvent.claim_id.in_(claim_ids)
        )
    ).all()
    audits = session.execute(
        select(AuditEntry.id, AuditEntry.before, AuditEntry.after).where(
            AuditEntry.object_type == "claim",
            AuditEntry.object_id.in_([str(i) for i in claim_ids]),
        )
    ).all()
    scans = session.execute(
        select(Scan.id, Scan.response).where(Scan.claim_id.in_(claim_ids))
    ).all()
    _permit(session, "claim_event", [e.id for e in events])
    _permit(session, "audit_entry", [a.id for a in audits])
    _permit(session, "scan", [s.id for s in scans])
    for e in events:
        session.execute(
            update(ClaimEvent)
            .where(ClaimEvent.id == e.id)
            .values(note=REDACTED if e.note else "", reasons=_redacted_reasons(e.reasons))
        )
    for a in audits:
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.id == a.id)
            .values(before=_redacted_dict(a.before), after=_redacted_dict(a.after))
        )
    for s in scans:
        if isinstance(s.response, dict) and "claim" in s.response:
            response = {k: v for k, v in s.response.items() if k != "claim"}
            session.execute(update(Scan).where(Scan.id == s.id).values(response=response))
    session.execute(delete(RedactionPermit))


def _redact_import_errors(session: Session, school_ids: set[int], values: set[str]) -> None:
    """Roster import errors quoting one of the student's values lose the quote."""
    if not values or not school_ids:
        return
    low = {v.lower() for v in values}
    for imp in session.execute(
        select(RosterImport).where(RosterImport.school_id.in_(school_ids))
    ).scalars():
        errors = imp.errors or []
        changed = False
        kept = []
        for e in errors:
            blob = " ".join(str(v) for v in (e.get("params") or {}).values()).lower()
            blob += " " + str(e.get("reason", "")).lower()
            if any(v in blob for v in low):
                e = {**e, "params": {}, "reason": REDACTED, "msg": REDACTED}
                changed = True
            kept.append(e)
        if changed:
            imp.errors = kept
            session.add(imp)


def remove_files(session: Session, settings: Settings, student: Student) -> int:
    """Delete the student's mails in the outbox and the label PDFs that may show them (the job
    stays, with a note to print again). Runs after the erasure committed."""
    removed = remove_mail(settings, student.emails, student.codes)
    if not student.claims:
        return removed
    campaigns = {c.campaign_id for c in student.claims}
    schools = {c.school_id for c in student.claims}
    for job in session.execute(select(PrintJob).where(PrintJob.file_path.is_not(None))).scalars():
        params = job.params or {}
        if params.get("campaign_id") not in (None, *campaigns):
            continue
        if params.get("school_id") not in (None, *schools):
            continue
        removed += FileStore(session).delete(job.file_path)
        job.file_path = None
        job.message = "The file was removed: a student on it had their data erased. Print again."
        session.add(job)
    session.commit()
    return removed


def remove_mail(settings: Settings, emails: set[str], codes: set[str]) -> int:
    """Delete outbox mails addressed to one of `emails` or quoting one of `codes`."""
    found = mail.in_outbox(settings, emails, codes)
    for path, _msg in found:
        path.unlink(missing_ok=True)
    return len(found)


def compact(session: Session) -> None:
    """SQLite: move the committed erasure from the write-ahead log into the database file and
    empty the log (secure_delete has zeroed the freed space), so no file keeps the old values."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    raw = bind.raw_connection()  # outside any transaction: a checkpoint cannot run in one
    try:
        cur = raw.cursor()
        busy = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        cur.close()
        if busy:
            log.warning("the write-ahead log could not be emptied now (readers); it will be")
    finally:
        raw.close()


def roster_entry(session: Session, *, school_id: int, entry_id: int) -> RosterEntry:
    """A roster line of a school (404 when it is not that school's)."""
    entry = session.get(RosterEntry, entry_id)
    if entry is None or entry.school_id != school_id:
        raise NotFound(N_("No roster line with id {id}."), params={"id": entry_id})
    return entry
