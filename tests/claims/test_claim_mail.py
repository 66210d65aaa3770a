"""E-mail codes and status mail through a real local SMTP server (aiosmtpd)."""

import re
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller

from app.claims import actions as claim_actions
from app.claims import submit as claims
from app.claims.eligibility import NotEligible
from tests.conftest import free_port
from tests.factories import campaign_setup, claim_in


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802, ANN201
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _body(msg) -> str:
    return msg.get_payload(decode=True).decode(msg.get_content_charset() or "utf-8")


def test_email_code_and_confirmation_over_smtp(session, settings, smtp):
    inbox, port = smtp
    settings.smtp_host, settings.smtp_port = "127.0.0.1", port
    setup = campaign_setup(session, kits=1, mode="email")
    c = claims.submit(
        session=session,
        settings=settings,
        campaign=setup["campaign"],
        data=claim_in(setup, student_number="", email="li.si@univ-test.fr"),
        locale="zh_CN",
        address="10.1.1.1",
    )
    assert c.status == "submitted" and len(inbox.messages) == 1
    rcpt, msg = inbox.messages[0]
    assert rcpt == ["li.si@univ-test.fr"]
    assert str(make_header(decode_header(msg["Subject"]))) == "健康包：您的验证码"
    code = re.search(r"\b(\d{6})\b", _body(msg)).group(1)
    assert f"/s/{c.token}" in _body(msg)
    claim_actions.verify_code(session=session, settings=settings, token=c.token, code=code)
    assert len(inbox.messages) == 2
    assert "已为您预留一份健康包" in _body(inbox.messages[1][1])
    # nothing was written to the outbox folder: SMTP was used
    assert not list(settings.outbox_dir.glob("*.eml"))


def test_a_refused_claim_sends_nothing(session, settings, smtp):
    inbox, port = smtp
    settings.smtp_host, settings.smtp_port = "127.0.0.1", port
    setup = campaign_setup(session, kits=1, mode="email")
    with pytest.raises(NotEligible):
        claims.submit(
            session=session,
            settings=settings,
            campaign=setup["campaign"],
            data=claim_in(setup, student_number="", email="x@gmail.com"),
            locale="en",
            address="10.1.1.1",
        )
    assert inbox.messages == []
