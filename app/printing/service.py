"""Kit labels for a selection of claims: the label data, the PDF, and marking the claims ready."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

import labels
from app.audit import looks
from app.claims import queries as claim_views
from app.claims.eligibility import reason
from app.core.config import Settings
from app.core.errors import N_, Invalid, NotFound
from app.core.i18n import gettext_for
from app.core.security import format_short_code
from app.pickup.handover import kit_contents
from models.base import utcnow
from models.campaigns import Campaign, PickupSlot
from models.claims import Claim, ClaimEvent, ClaimStatus
from models.inventory import Location
from models.printing import LabelSelection, LabelsIn
from models.runs import Run, RunStop
from models.schools import School

BATCH = 500  # claims per query / UPDATE / INSERT batch

Progress = Callable[[int, int], None]

# The sheet formats a page offers, with the paper they need (msgids, translated on show).
FORMAT_INFO: dict[str, dict[str, str]] = {
    "L7160": {"paper": N_("A4"), "text": N_("Avery L7160: A4, 3 × 7 labels of 63.5 × 38.1 mm")},
    "L7163": {"paper": N_("A4"), "text": N_("Avery L7163: A4, 2 × 7 labels of 99.1 × 38.1 mm")},
    "5160": {
        "paper": N_("Letter"),
        "text": N_("Avery 5160: US Letter, 3 × 10 labels of 2⅝ × 1 in"),
    },
    "thermal-4x6": {
        "paper": N_("4 × 6 in"),
        "text": N_("Thermal printer: one 4 × 6 in label a page"),
    },
}
N_("allocated")
N_("ready")
N_("Labels")  # ADMIN_NAV / ADMIN_TILES entries (routes/http/web.py)
N_("Print kit labels on A4, Letter or thermal label sheets")


def in_background(settings: Settings, total: int) -> bool:
    """Whether a print of `total` labels goes to a background job (KITRUN_LABELS_SYNC_LIMIT)."""
    return total > settings.labels_sync_limit


def sheet_format(format_id: str, start_position: int = 1) -> labels.SheetFormat:
    """The sheet format, checking the id and that the start position is on the sheet (422)."""
    fmt = labels.FORMATS.get(format_id)
    if fmt is None:
        raise Invalid(
            N_("Unknown label format {format}; choose one of {known}."),
            params={"format": format_id, "known": ", ".join(labels.FORMATS)},
        )
    if not 1 <= start_position <= fmt.cells:
        raise Invalid(
            N_("Start position {start} is off the sheet: a {format} sheet has positions 1 to {n}."),
            params={"start": start_position, "format": fmt.id, "n": fmt.cells},
        )
    return fmt


def _check_refs(session: Session, sel: LabelSelection) -> None:
    for model, value, message in (
        (Campaign, sel.campaign_id, N_("No campaign with id {id}.")),
        (School, sel.school_id, N_("No school with id {id}.")),
        (Location, sel.location_id, N_("No pickup point with id {id}.")),
        (Run, sel.run_id, N_("No delivery run with id {id}.")),
    ):
        if value is not None and session.get(model, value) is None:
            raise NotFound(message, params={"id": value})
    for status in (sel.status or "").split(","):
        if status and status not in ClaimStatus.__members__:
            raise Invalid(N_("Unknown claim status {status}."), params={"status": status})


def selection(*, session: Session, sel: LabelSelection):  # noqa: ANN201
    """The claims query for a label selection (staff filters, plus claims on a run), ordered."""
    _check_refs(session, sel)
    stmt = claim_views.filtered(
        session=session,
        campaign_id=sel.campaign_id,
        school_id=sel.school_id,
        status=sel.status or None,
        location_id=sel.location_id,
    )
    if sel.run_id is not None:
        stmt = stmt.join(RunStop, RunStop.claim_id == Claim.id).where(RunStop.run_id == sel.run_id)
        return stmt.order_by(RunStop.vehicle_id, RunStop.seq, Claim.id)
    return stmt.order_by(Claim.school_id, Claim.reserved_location_id, Claim.name_latin, Claim.id)


def count(*, session: Session, sel: LabelSelection) -> int:
    """How many claims (labels) a selection holds."""
    stmt = selection(session=session, sel=sel).order_by(None)
    return int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())


def sheets(total: int, format_id: str, start_position: int = 1) -> int:
    """How many sheets `total` labels need from `start_position` on."""
    fmt = sheet_format(format_id, start_position)
    return math.ceil((total + start_position - 1) / fmt.cells) if total else 0


def _named(zh: str | None, en: str | None, locale: str) -> str:
    """The name in the reader's language (Chinese for zh_CN), else the other one."""
    first, second = (zh, en) if locale == "zh_CN" else (en, zh)
    return first or second or ""


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class _Lookups:
    """Names for ids, loaded once per job (schools, points, slots) or per batch (run stops)."""

    def __init__(self, session: Session, settings: Settings, locale: str) -> None:
        self.session = session
        self.locale = locale
        self.gettext = gettext_for(locale)
        self.tz = _zone(settings.timezone)
        schools = session.execute(select(School)).scalars()
        self.schools = {s.id: _named(s.name_zh, s.name_en, locale) for s in schools}
        self.points = {
            loc.id: _named(loc.name_zh, loc.name_en, locale)
            for loc in session.execute(select(Location)).scalars()
        }
        self.slots: dict[int, str] = {}

    def slot(self, slot_id: int) -> str:
        if slot_id not in self.slots:
            slot = self.session.get(PickupSlot, slot_id)
            if slot is None:
                self.slots[slot_id] = ""
            else:
                start, end = _local(slot.starts_at, self.tz), _local(slot.ends_at, self.tz)
                self.slots[slot_id] = f"{start:%m-%d %H:%M}–{end:%H:%M}"
        return self.slots[slot_id]

    def stops(self, claims: list) -> dict[int, str]:
        rows = self.session.execute(
            select(RunStop.claim_id, RunStop.run_id, RunStop.seq, Run.name)
            .join(Run, Run.id == RunStop.run_id)
            .where(RunStop.claim_id.in_([c.id for c in claims]), RunStop.seq.is_not(None))
            .order_by(RunStop.run_id)
        ).all()
        run_of = {c.id: c.run_id for c in claims}
        found: dict[int, str] = {}
        for claim_id, run_id, seq, name in rows:  # the claim's own run wins, else the latest
            if claim_id not in found or run_of.get(claim_id) in (None, run_id):
                found[claim_id] = self.gettext(N_("Run {run} · stop {seq}")).format(
                    run=name, seq=seq
                )
        return found


def _local(at: datetime, tz: ZoneInfo) -> datetime:
    return at.astimezone(tz) if at.tzinfo else at.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz)


def _contents(session: Session, item_id: int | None, kits: int, locale: str) -> str:
    kit = kit_contents(session, item_id=item_id, kits=kits)
    parts = [
        f"{_named(p['name_zh'], p['name_en'], locale)} ×{p['quantity']}" for p in kit["contents"]
    ]
    name = _named(kit["name_zh"], kit["name_en"], locale)
    head = f"{name} ×{kits}" if name else ""
    return " · ".join([head, *parts] if head else parts)


_COLUMNS = (
    Claim.id,
    Claim.token,
    Claim.short_code,
    Claim.name_zh,
    Claim.name_latin,
    Claim.school_id,
    Claim.fulfilment,
    Claim.address,
    Claim.pickup_location_id,
    Claim.reserved_location_id,
    Claim.slot_id,
    Claim.run_id,
    Claim.reserved_item_id,
    Claim.kits,
    Claim.is_minor,
)


def label_data(
    *,
    session: Session,
    settings: Settings,
    sel: LabelSelection,
    shown: list[looks.Shown] | None = None,
    locale: str = "zh_CN",
) -> Iterator[tuple[int, labels.LabelData]]:
    """(claim id, label) for every claim of the selection, loaded in batches, worded in
    `locale`; what each label shows of the student's contact details (a delivery's address) is
    added to `shown`."""
    look = _Lookups(session, settings, locale)
    # Plain rows, not ORM objects: memory stays flat and the caller's session is left alone.
    stmt = selection(session=session, sel=sel).with_only_columns(*_COLUMNS)
    offset = 0
    while True:
        claims = session.execute(stmt.limit(BATCH).offset(offset)).all()
        if not claims:
            return
        offset += len(claims)
        stops = look.stops(claims)
        for c in claims:
            if c.id in stops:
                dest = stops[c.id]
            elif c.fulfilment == "delivery":
                dest = look.gettext(N_("Delivery · {address}")).format(address=c.address)
                if shown is not None:
                    shown.append((c.id, c.is_minor, bool(c.address), False))
            else:
                point = look.points.get(c.pickup_location_id or c.reserved_location_id, "")
                slot = look.slot(c.slot_id) if c.slot_id else ""
                dest = " · ".join(p for p in (point, slot) if p)
            yield (
                c.id,
                labels.LabelData(
                    token=c.token,
                    short_code=format_short_code(c.short_code),
                    name_zh=c.name_zh,
                    name_latin=c.name_latin,
                    school=look.schools.get(c.school_id, ""),
                    destination=dest,
                    contents=_contents(session, c.reserved_item_id, c.kits, locale),
                ),
            )


def collect(
    *,
    session: Session,
    settings: Settings,
    sel: LabelSelection,
    shown: list[looks.Shown] | None = None,
    locale: str = "zh_CN",
) -> tuple[list[int], list[labels.LabelData]]:
    """The claim ids and labels of a selection in `locale` (contact details shown: into
    `shown`); an empty selection is a 422."""
    ids: list[int] = []
    data: list[labels.LabelData] = []
    rows = label_data(session=session, settings=settings, sel=sel, shown=shown, locale=locale)
    for claim_id, label in rows:
        ids.append(claim_id)
        data.append(label)
    if not data:
        raise Invalid(N_("No claims match this selection: there is nothing to print."))
    return ids, data


def render(
    data: list[labels.LabelData],
    *,
    settings: Settings,
    format_id: str,
    start_position: int,
    out: BinaryIO | None = None,
    progress: Progress | None = None,
) -> bytes | None:
    """Render labels to PDF bytes (or into `out`); a renderer's complaint becomes a 422."""
    sheet_format(format_id, start_position)
    try:
        return labels.render_labels(
            data,
            format_id,
            start=start_position,
            out=out,
            progress=progress,
            font_path=settings.cjk_font,
        )
    except labels.LabelError as exc:
        raise Invalid(
            N_("Cannot print these labels: {reason}"), params={"reason": str(exc)}
        ) from exc


def mark_ready(*, session: Session, claim_ids: Iterable[int], user_id: int | None) -> int:
    """Printed: allocated claims become ready (conditional update, one event each); commits."""
    ids = list(claim_ids)
    changed = 0
    for i in range(0, len(ids), BATCH):
        now = utcnow()
        rows = session.execute(
            update(Claim)
            .where(Claim.id.in_(ids[i : i + BATCH]), Claim.status == ClaimStatus.allocated)
            .values(status=ClaimStatus.ready, ready_at=now, updated_at=now)
            .returning(Claim.id)
        ).all()
        if rows:
            events = [
                {
                    "claim_id": claim_id,
                    "at": now,
                    "user_id": user_id,
                    "from_status": "allocated",
                    "to_status": "ready",
                    "reasons": [reason("label_printed", N_("The kit's label was printed."))],
                    "note": "",
                }
                for (claim_id,) in rows
            ]
            session.execute(insert(ClaimEvent), events)
            changed += len(rows)
    session.commit()
    return changed


def print_labels(
    *,
    session: Session,
    settings: Settings,
    data: LabelsIn,
    user_id: int | None,
    out: BinaryIO | None = None,
    progress: Progress | None = None,
    locale: str = "zh_CN",
) -> tuple[bytes | None, int]:
    """Render a selection's labels now in `locale` (bytes, or into `out`), then mark allocated
    ones ready; minors whose address a label shows are logged as printed by `user_id`."""
    sheet_format(data.format, data.start_position)
    shown: list[looks.Shown] = []
    ids, items = collect(session=session, settings=settings, sel=data, shown=shown, locale=locale)
    pdf = render(
        items,
        settings=settings,
        format_id=data.format,
        start_position=data.start_position,
        out=out,
        progress=progress,
    )
    # in mark_ready's transaction, which commits
    looks.record(session, user_id=user_id, context="print", shown=shown, commit=False)
    mark_ready(session=session, claim_ids=ids, user_id=user_id)
    return pdf, len(items)


def calibration(*, settings: Settings, format_id: str, locale: str = "zh_CN") -> bytes:
    """The calibration page of a sheet format (outlines and numbers every cell), in `locale`."""
    sheet_format(format_id)
    _ = gettext_for(locale)
    texts = labels.CalibrationTexts(
        title=_("Calibration page: {format}"),
        advice=_(
            "Print at 100 % (actual size, no scaling): every outline must lie on a label edge. "
            "Bar: 50 mm."
        ),
        description=_(FORMAT_INFO[format_id]["text"]) if format_id in FORMAT_INFO else "",
    )
    return labels.render_calibration(format_id, font_path=settings.cjk_font, texts=texts)
