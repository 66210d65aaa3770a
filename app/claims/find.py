"""Find my claim: a student who lost the link to their claim gets it back.

The facts that made the claim (school, student number or e-mail, birth date, a name) are not
secret: classmates, family or a leaked roster know them. So they alone never show a link:

- a claim with an e-mail address: the link is sent to that address (after the commit), and the
  answer is the same whether anything matched or not;
- a claim without one: the link is shown only when the request also gives the last four
  characters of the claim's short code (what the student saw, wrote down or screenshotted);
  else the same answer as above, pointing to the pickup point, where staff find claims by name.

Every attempt counts against rate limits per address and per student (keyed hash of the
facts), as claims do: 31⁴ code endings cannot be tried at ten a minute.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import or_
from sqlmodel import Session, select

from app.claims import eligibility
from app.claims import submit as claims
from app.core import mail
from app.core.config import Settings
from app.core.db import autocommit_reads
from app.core.errors import N_
from app.schools import parse as roster_parse
from models.campaigns import Campaign
from models.claims import DEAD_STATUSES, Claim, FindIn

# The one answer when no link is shown (whether or not anything matched).
SENT_IF_FOUND = N_(
    "If these details match a claim with an e-mail address, we have sent the link to it. "
    "If your claim has no e-mail address, also type the last 4 characters of your code; "
    "without it, ask at your pickup point: staff can find your claim."
)


def rate_limits(settings: Settings, campaign: Campaign, data: FindIn, address: str) -> dict:
    """The rate-limit keys a search counts against, with their limits."""
    raw = eligibility.student_key(data.school_id, data.student_number, data.email)
    student = hmac.new(settings.secret.encode(), raw.encode(), hashlib.sha256).hexdigest()
    return {
        f"find:ip:{address}": settings.claim_rate_per_ip,
        f"find:student:{campaign.public_id}:{student[:32]}": settings.claim_rate_per_student,
    }


def find(
    *, session: Session, settings: Settings, campaign: Campaign, data: FindIn, address: str
) -> str | None:
    """The claim's token when it may be shown at once, else None (and the link mailed when a
    claim with an e-mail address matched). Raises TooManyRequests over the limits."""
    autocommit_reads(session)
    claims.limit_attempts(session, settings, rate_limits(settings, campaign, data, address))
    claim = _matching(session, campaign, data)
    if claim is None:
        return None
    if claim.email:
        from app.claims.mail import link_mail

        mail.queue(session, settings, link_mail(settings, claim))
        session.commit()  # sends it
        return None
    end = "".join(ch for ch in data.code_end.upper() if ch.isalnum())
    if len(end) == 4 and hmac.compare_digest(end, claim.short_code[-4:]):
        return claim.token
    return None


def _matching(session: Session, campaign: Campaign, data: FindIn) -> Claim | None:
    """The live claim these facts made, if every one of them matches."""
    email = data.email.strip().lower()
    which = []
    if data.student_number.strip():
        which.append(
            Claim.student_key == eligibility.student_key(data.school_id, data.student_number, "")
        )
    if email:  # the claim's key, or the address it gave beside a student number
        which += [Claim.student_key == eligibility.student_key(0, "", email), Claim.email == email]
    if not which:
        return None
    found = session.exec(
        select(Claim).where(
            Claim.campaign_id == campaign.id,
            Claim.school_id == data.school_id,
            or_(*which),
            Claim.status.not_in(DEAD_STATUSES),
        )
    ).first()
    if found is None or found.birth_date != data.birth_date:
        return None
    name = roster_parse.normalize_name(data.name)
    names = {roster_parse.normalize_name(n) for n in (found.name_zh, found.name_latin) if n}
    return found if name and name in names else None
