"""Every document and e-mail of the app, in Chinese and in English, speaks one language.

Documents: the calibration sheet of each label format, label sheets (A4 and thermal), the route
sheets (A4 and Letter), the daily report and the personal-data access PDF, asked for through
the app's routes with `?lang=`; their text is read back with pdftotext (poppler-utils). E-mails:
every message app/claims/mail.py builds (the verification code, each status change, the link
asked for again), in the claim's language. The checks are the pages' (test_pages.py): no
untranslated lookup in zh_CN, no msgid or English phrase in the Chinese text, no English form
of a bilingual name in Chinese, no Chinese in English but the students' own names.
"""

from __future__ import annotations

import re
import subprocess
from email.message import EmailMessage

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.claims import mail as claim_mail
from labels.formats import FORMATS
from models.claims import Claim, ClaimStatus
from tests.i18n.support import (
    ROOT,
    EnglishFinder,
    cjk_runs,
    english_phrases,
    read_catalog,
    strip_values,
)
from tests.i18n.world import build, values
from tests.security.test_access_matrix import Caller

LANGS = ("zh_CN", "en")


def pdf_text(pdf: bytes) -> str:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return " ".join(out.stdout.decode().split())


def mail_text(msg: EmailMessage) -> str:
    return " ".join(f"{msg['Subject']}\n{msg.get_content()}".split())


def documents(caller: Caller, world, recorder) -> tuple[list, list[str]]:  # noqa: ANN001
    """(what, lang, text) of every document in both languages, and the problems met."""
    p = world.params
    asks: list[tuple[str, str, str, dict | None]] = []  # (what, method, url, json)
    for fmt in FORMATS:
        asks.append(
            (f"calibration {fmt}", "GET", f"/admin/labels/calibration.pdf?format={fmt}", None)
        )
    for fmt in ("L7160", "thermal-4x6"):
        body = {"campaign_id": p["campaign_id"], "format": fmt}
        asks.append((f"labels {fmt}", "POST", "/api/v1/labels", body))
    for paper in ("A4", "Letter"):
        url = f"/admin/runs/{p['run_id']}/route-sheet.pdf?paper={paper}"
        asks.append((f"route sheet {paper}", "GET", url, None))
    url = f"/api/v1/reports/daily.pdf?campaign_id={p['campaign_id']}"
    asks.append(("daily report", "GET", url, None))
    url = f"/api/v1/claims/{p['claim_id']}/personal-data.pdf?reason=student+asked"
    asks.append(("personal data", "GET", url, None))

    out, problems = [], []
    for what, method, url, body in asks:
        for lang in LANGS:
            recorder.where = what
            sep = "&" if "?" in url else "?"
            r = caller.call("diplomat", method, f"{url}{sep}lang={lang}", body)
            if r.status_code != 200 or r.headers.get("content-type") != "application/pdf":
                problems.append(f"{what} ({lang}): {r.status_code} {r.text[:200]}")
                continue
            out.append((what, lang, pdf_text(r.content)))
    return out, problems


def mails(app, world, recorder) -> list:  # noqa: ANN001
    """(what, lang, text) of every e-mail app/claims/mail.py builds, in both languages."""
    settings = app.state.settings
    out = []
    with Session(app.state.engine, expire_on_commit=False) as s:
        claim = s.get(Claim, world.params["claim_id"])
        claim.email = "zhang.san@univ-test.fr"
    for lang in LANGS:
        claim.locale = lang
        built = [("code", claim_mail.code_mail(settings, claim, "123456"))]
        built.append(("link", claim_mail.link_mail(settings, claim)))
        for status in ClaimStatus:
            claim.status = status.value
            built.append((f"status {status.value}", claim_mail.status_mail(settings, claim)))
        for what, msg in built:
            recorder.where = f"mail {what}"
            out.append((f"mail {what}", lang, mail_text(msg)))
    return out


def test_every_mail_is_covered_here() -> None:
    """A mail built anywhere but app/claims/mail.py would escape the test below: name it."""
    builders = {
        str(path.relative_to(ROOT))
        for path in [*ROOT.glob("app/**/*.py"), *ROOT.glob("routes/**/*.py")]
        if re.search(r"\bmail\.build\(", path.read_text())
    }
    assert builders == {"app/claims/mail.py"}, (
        f"mails are built in {sorted(builders)}: check them in tests/i18n/test_documents.py"
    )
    names = {n for n in vars(claim_mail) if n.endswith("_mail")}
    assert names == {"code_mail", "status_mail", "link_mail"}, (
        f"app/claims/mail.py builds {sorted(names)}: add the new ones to mails() here"
    )


def test_every_document_and_mail_speaks_one_language(app, recorder) -> None:  # noqa: ANN001
    world, _many = build(app)
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        caller = Caller(client, world)
        texts, problems = documents(caller, world, recorder)
    texts += mails(app, world, recorder)
    assert len(texts) >= 2 * (len(FORMATS) + 6 + 2 + len(ClaimStatus)) - len(problems)

    data, people, named = values(app)
    english = EnglishFinder(read_catalog())
    for what, lang, text in texts:
        if not text.strip():
            problems.append(f"{what} ({lang}): no text")
        elif lang == "zh_CN":
            if not cjk_runs(text):
                problems.append(f"{what} (zh_CN): no Chinese at all: {text[:200]}")
            for en in sorted(named):
                if en in text:
                    problems.append(f"{what} (zh_CN): English name {en!r} (not {named[en]!r})")
            bare = strip_values(text, (data - set(named)) | set(named))
            found = english.find(bare) + english_phrases(bare)
            if found:
                problems.append(f"{what} (zh_CN): English text {found}")
        else:
            runs = cjk_runs(strip_values(text, people))
            if runs:
                problems.append(f"{what} (en): Chinese text {runs}")
    missed = recorder.report(ignore=people | set(named) | set(named.values()))
    if missed:
        problems.append(f"{len(missed)} msgids looked up without a Chinese translation:")
        problems += missed
    assert not problems, f"{len(problems)} problems in {len(texts)} documents:\n" + "\n".join(
        problems
    )
