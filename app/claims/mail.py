"""The e-mails a student gets: the verification code and status changes, in their language."""

from __future__ import annotations

from email.message import EmailMessage

from app.core import mail
from app.core.config import Settings
from app.core.errors import N_
from app.core.i18n import gettext_for
from app.core.security import format_short_code
from models.claims import Claim

STATUS_TEXT = {
    "allocated": N_("A kit is reserved for you. Show the QR code or the code {code} at pickup."),
    "waitlisted": N_("No kit is available yet; you are on the waitlist. We will write again."),
    "rejected": N_("Your claim was not accepted. See the status page for the reason."),
    "ready": N_("Your kit is ready."),
}


def code_mail(settings: Settings, claim: Claim, code: str) -> EmailMessage:
    _ = gettext_for(claim.locale)
    body = _("Your verification code is {code}. It is valid for 30 minutes.").format(code=code)
    body += "\n\n" + _("Status page: {url}").format(url=f"{settings.base_url}/s/{claim.token}")
    return mail.build(
        settings=settings, to=claim.email, subject=_("Health kit: your code"), body=body
    )


def status_mail(settings: Settings, claim: Claim) -> EmailMessage:
    _ = gettext_for(claim.locale)
    text = STATUS_TEXT.get(claim.status, N_("The status of your claim changed."))
    body = _(text).format(code=format_short_code(claim.short_code))
    body += "\n\n" + _("Status page: {url}").format(url=f"{settings.base_url}/s/{claim.token}")
    return mail.build(
        settings=settings, to=claim.email, subject=_("Health kit: your claim"), body=body
    )


def link_mail(settings: Settings, claim: Claim) -> EmailMessage:
    """The link to a claim's page, asked for again on "Find my claim"."""
    _ = gettext_for(claim.locale)
    body = _("You asked for the link to your health-kit claim again. Your code is {code}.").format(
        code=format_short_code(claim.short_code)
    )
    body += "\n\n" + _("Status page: {url}").format(url=f"{settings.base_url}/s/{claim.token}")
    body += "\n\n" + _("If you did not ask for it, ignore this message: nothing has changed.")
    return mail.build(
        settings=settings,
        to=claim.email,
        subject=_("Health kit: the link to your claim"),
        body=body,
    )
