"""Eligibility: decide whether a student may claim, and record every reason of the decision."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

import phonenumbers
from sqlalchemy import and_, bindparam, exists, literal_column
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.campaigns import notices
from app.campaigns import service as campaigns
from app.core.db import ONE_ROW, Prepared
from app.core.errors import N_, Conflict, Invalid
from app.schools import parse as roster_parse
from app.schools import rosters
from models.campaigns import Campaign, CampaignSchool, PickupSlot
from models.claims import DEAD_STATUSES, Claim, ClaimIn
from models.inventory import Location, LocationKind
from models.privacy import PrivacyNotice
from models.schools import RosterEntry, School

EMAIL_RE = re.compile(r"^[^@\s]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")


class NotEligible(Invalid):
    code = "not_eligible"


class AlreadyClaimed(Conflict):
    code = "already_claimed"


class NoticeChanged(Conflict):
    code = "notice_changed"


def fields(*names: str) -> dict:
    """An error's details naming the form fields to fix (the form marks them; the API says)."""
    return {"fields": list(names)}


def e164(raw: str, region: str) -> str | None:
    """A phone number in E.164 (`+33612345678`), a national one read in `region`; None if it is
    not a valid number."""
    try:
        number = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def reason(code: str, text: str, **params: object) -> dict:
    """A decision reason: a stable code and an English message template (translated on show)."""
    return {"code": code, "text": text, "params": params}


@dataclass
class Decision:
    """What eligibility found: the student key, the verification state and the reasons."""

    student_key: str
    verification: str
    verified: bool
    is_minor: bool
    delivery_reason: str | None
    location_id: int
    reasons: list[dict] = field(default_factory=list)
    notice_id: int | None = None  # the privacy notice the student accepted (the current one)
    phone: str = ""  # E.164, kept only where needed (delivery, a minor, or the campaign asks)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def student_key(school_id: int, student_number: str, email: str) -> str:
    """The normalised identity of a student within a campaign (the unique constraint's key)."""
    number = re.sub(r"[\s\-]", "", student_number).upper()
    if number:
        return f"{school_id}:{number}"
    return f"email:{email.strip().lower()}"


def _live(campaign_id, key: str):  # noqa: ANN001, ANN202
    return exists().where(
        Claim.campaign_id == campaign_id,
        Claim.student_key == bindparam(key),
        # literals, as in the partial unique index, so a prepared plan can use that index
        Claim.status.not_in([literal_column(f"'{s}'") for s in DEAD_STATUSES]),
    )


def facts_select(campaign_id, base):  # noqa: ANN001, ANN201
    """The rules' one read for the campaign `campaign_id` (a bind or a column of `base`): the
    school's mode in the campaign, the school, the roster entry with the student number,
    whether a live claim exists under either possible student key, the chosen pickup point and
    slot (each None when absent), the campaign's current privacy notice. The names are labelled
    as `claim_views.holder_answer` reads them."""
    notice = aliased(PrivacyNotice, name="notice")  # (the subquery reads privacy_notice itself)
    return (
        select(
            CampaignSchool.verification.label("mode"),
            School.id.label("school_id"),
            School.name_zh.label("school_zh"),
            School.name_en.label("school_en"),
            School.in_district,
            School.email_domains,
            RosterEntry.birth_date.label("roster_birth_date"),
            RosterEntry.name_norm.label("roster_name_norm"),
            _live(campaign_id, "key_by_number").label("live_by_number"),
            _live(campaign_id, "key_by_email").label("live_by_email"),
            Location.kind.label("point_kind"),
            Location.active.label("point_active"),
            Location.name_zh.label("point_zh"),
            Location.name_en.label("point_en"),
            PickupSlot.location_id.label("slot_location_id"),
            PickupSlot.starts_at,
            PickupSlot.ends_at,
            notice.id.label("notice_id"),
            notice.version.label("notice_version"),
        )
        .select_from(base)
        .outerjoin(
            CampaignSchool,
            and_(
                CampaignSchool.campaign_id == campaign_id,
                CampaignSchool.school_id == bindparam("school_id"),
            ),
        )
        .outerjoin(School, School.id == bindparam("school_id"))
        .outerjoin(
            RosterEntry,
            and_(
                RosterEntry.school_id == bindparam("school_id"),
                RosterEntry.student_number == bindparam("number"),
            ),
        )
        .outerjoin(Location, Location.id == bindparam("location_id"))
        .outerjoin(PickupSlot, PickupSlot.id == bindparam("slot_id"))
        .outerjoin(notice, notice.id == notices.current_id_select(campaign_id))
    )


@functools.cache
def _facts() -> Prepared:
    """The rules' one read, built once."""
    return Prepared(facts_select(bindparam("campaign_id"), ONE_ROW))


def facts_params(data: ClaimIn) -> dict:
    """The parameters of the rules' read for a claim (all but the campaign)."""
    return {
        "school_id": data.school_id,
        "number": roster_parse.normalize_student_number(data.student_number.strip()),
        "key_by_number": student_key(data.school_id, data.student_number, ""),
        "key_by_email": student_key(data.school_id, "", data.email.strip().lower()),
        "location_id": data.pickup_location_id or -1,
        "slot_id": data.slot_id or -1,
    }


def facts(session: Session, campaign: Campaign, data: ClaimIn):  # noqa: ANN201
    """Everything the rules read about a claim, in one statement (see `facts_select`)."""
    return _facts().one(session, {"campaign_id": campaign.id, **facts_params(data)})


def decide(
    *, session: Session, campaign: Campaign, data: ClaimIn, today: date, phone_region: str = "FR"
) -> Decision:
    """Check a claim against the campaign's rules; raise a 4xx naming the first failed rule."""
    return rules(
        campaign,
        data,
        facts(session, campaign, data),
        today,
        points=lambda: campaigns.pickup_points(session=session),
        phone_region=phone_region,
    )


def rules(
    campaign: Campaign,
    data: ClaimIn,
    f,  # noqa: ANN001
    today: date,
    *,
    points: Callable[[], list[Location]],
    phone_region: str = "FR",
) -> Decision:
    """The rules themselves, on what `facts` read (no database; `points` lists the pickup
    points, asked for only when a delivery depends on the distance to them; `phone_region`
    reads national phone numbers).

    Reasons keep the school's and the pickup point's ids beside their English names: pages
    show the names in their own language (`claim_views.holder_answer`)."""
    campaigns.ensure_open(campaign)
    reasons = [reason("campaign_open", N_("The campaign is open."))]
    if not data.consent:
        raise Invalid(
            N_("Please agree to the use of your data for the distribution."),
            details=fields("consent"),
        )
    if data.notice_version is not None and data.notice_version != f.notice_version:
        raise NoticeChanged(
            N_(
                "The privacy notice has changed since you opened the form: read it again, "
                "then agree."
            )
        )
    if f.school_id is None or f.mode is None or not f.in_district:
        raise NotEligible(
            N_("This school is not part of this campaign."), details=fields("school_id")
        )
    mode = f.mode
    reasons.append(
        reason(
            "school_eligible",
            N_("{school} takes part ({mode} check)."),
            school=f.school_en,
            school_id=f.school_id,
            mode=mode,
        )
    )
    if data.birth_date > today or data.birth_date.year < today.year - 100:
        raise Invalid(N_("Check your birth date."), details=fields("birth_date"))
    email = data.email.strip().lower()
    if email and not EMAIL_RE.match(email):
        raise Invalid(N_("Check your e-mail address."), details=fields("email"))
    is_minor = age_on(data.birth_date, today) < 18
    phone = _phone(campaign, data, is_minor, phone_region)
    number = data.student_number.strip()
    verified = False
    if mode == "roster":
        if not number:
            raise Invalid(N_("Give your student number."), details=fields("student_number"))
        names = [n for n in (data.name_zh, data.name_latin) if n.strip()]
        entry = SimpleNamespace(birth_date=f.roster_birth_date, name_norm=f.roster_name_norm)
        if f.roster_name_norm is None:
            raise NotEligible(
                N_(
                    "This student number is not on your school's list: check it, exactly as "
                    "your school gives it."
                ),
                code="roster_unknown_number",
                details=fields("student_number"),
            )
        if f.roster_birth_date is None or not rosters.entry_matches(entry, data.birth_date, names):
            raise NotEligible(
                N_(
                    "Your student number is on your school's list, but the rest does not match: "
                    "check your birth date and your name as on the school's list (the Chinese "
                    "name if the school lists it in Chinese)."
                ),
                code="roster_mismatch",
                details=fields("birth_date", "name_zh", "name_latin"),
            )
        verified = True
        reasons.append(reason("roster_match", N_("Found on the school's roster.")))
    elif mode == "email":
        if not email:
            raise Invalid(N_("Give your school e-mail address."), details=fields("email"))
        if not _domain_of(f.email_domains, email):
            raise NotEligible(
                N_("Use your e-mail address at your school ({domains})."),
                params={"domains": f.email_domains or "-"},
                code="email_domain",
                details=fields("email"),
            )
        reasons.append(
            reason("email_pending", N_("An e-mail code was sent to the school address."))
        )
    else:
        if not number and not email:
            raise Invalid(
                N_("Give your student number or your school e-mail address."),
                details=fields("student_number", "email"),
            )
        reasons.append(reason("manual_pending", N_("Waiting for review by consular staff.")))
    key = student_key(data.school_id, number if mode != "email" else "", email)
    live = f.live_by_number if key == student_key(data.school_id, number, "") else f.live_by_email
    if live:
        raise AlreadyClaimed(N_("You have already claimed a kit in this campaign."))
    reasons.append(reason("first_claim", N_("No earlier claim in this campaign.")))
    delivery_reason, location_id = _fulfilment(points, campaign, data, f, is_minor, reasons)
    return Decision(
        student_key=key,
        verification=mode,
        verified=verified,
        is_minor=is_minor,
        delivery_reason=delivery_reason,
        location_id=location_id,
        reasons=reasons,
        notice_id=f.notice_id,
        phone=phone,
    )


def phone_needed(campaign, data: ClaimIn, is_minor: bool) -> bool:  # noqa: ANN001
    """Whether a claim keeps a phone: a delivery or a minor need one, else the campaign asks."""
    return data.fulfilment == "delivery" or is_minor or bool(campaign.asks_phone)


def _phone(campaign, data: ClaimIn, is_minor: bool, region: str) -> str:  # noqa: ANN001
    """The phone the claim keeps, in E.164 ("" when not needed or not given where optional)."""
    if not phone_needed(campaign, data, is_minor):
        return ""  # not needed: not kept, whatever was sent
    raw = data.phone.strip()
    if not raw:
        if data.fulfilment == "delivery" or is_minor:
            raise Invalid(
                N_("Give a phone number: we need one for a delivery and for students under 18."),
                details=fields("phone"),
            )
        return ""
    number = e164(raw, region)
    if number is None:
        raise Invalid(
            N_("Check your phone number (with the country code if it is not a {region} number)."),
            params={"region": region},
            details=fields("phone"),
        )
    return number


def _domain_of(email_domains: str, email: str) -> bool:
    domain = email.rsplit("@", 1)[-1]
    domains = [d.strip().lower() for d in (email_domains or "").split(",") if d.strip()]
    return any(domain == d or domain.endswith("." + d) for d in domains)


def _fulfilment(
    points: Callable[[], list[Location]],
    campaign: Campaign,
    data: ClaimIn,
    f,  # noqa: ANN001
    is_minor: bool,
    reasons: list[dict],
) -> tuple[str | None, int]:
    if data.fulfilment == "pickup":
        if f.point_kind != LocationKind.pickup_point or not f.point_active:
            raise Invalid(N_("Choose a pickup point."), details=fields("pickup_location_id"))
        if data.slot_id is not None:
            campaigns.slot_rules(f.slot_location_id, f.ends_at, data.pickup_location_id)
        reasons.append(
            reason(
                "pickup",
                N_("Pickup at {point}."),
                point=f.point_en,
                point_id=data.pickup_location_id,
            )
        )
        return None, data.pickup_location_id
    if campaign.depot_location_id is None:
        raise Invalid(
            N_("This campaign has no deliveries; choose a pickup point."),
            details=fields("fulfilment"),
        )
    if not data.address.strip():
        raise Invalid(
            N_("For a delivery give your address: street and number, postcode, city."),
            details=fields("address"),
        )
    located = data.lat is not None and data.lon is not None
    why = None
    if campaign.delivery_minors and is_minor:
        why = "minor"
    elif campaign.delivery_quarantine and data.quarantine:
        why = "quarantine"
    elif campaign.delivery_distance_km and not located:
        # far from every point? Not known without the address on the map.
        raise Invalid(
            N_(
                "We could not find your address on the map to check how far it is: check the "
                "street, postcode and city, or use your location."
            ),
            details=fields("address"),
        )
    elif campaign.delivery_distance_km:
        here = (data.lat, data.lon)
        nearest = min(
            (haversine_km(here, (p.lat, p.lon)) for p in points() if p.lat is not None),
            default=math.inf,
        )
        if nearest > campaign.delivery_distance_km:
            why = "distance"
    if why is None:
        raise NotEligible(
            N_(
                "Delivery is only for minors, students in quarantine and students far from every "
                "pickup point; choose a pickup point."
            ),
            code="delivery_not_allowed",
            details=fields("fulfilment"),
        )
    reasons.append(reason("delivery_allowed", N_("Delivery allowed ({why})."), why=why))
    return why, campaign.depot_location_id
