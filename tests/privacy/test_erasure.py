"""Erasure of one student: no trace of their personal data anywhere kitrun keeps data (the
database as dumped, the SQLite file, the data directory, the file store), and the books still
balance."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.claims.eligibility import NotEligible
from app.core import geocode
from app.core.db import make_engine
from app.core.files import FileStore
from app.inventory import ledger
from models.audit import AuditEntry
from models.campaigns import Campaign
from models.claims import Claim, ClaimEvent, GeocodeCache
from models.files import StoredFile
from models.pickup import Scan
from models.schools import RosterEntry
from tests import factories as f
from tests.runs import factories as rf

NUMBER = "S7Q91X"
NAME = "Qingyue Distinctname"
NAME_ZH = "李独特"
BIRTH = "2009-07-19"
EMAIL = "qy.distinct@univ-test.fr"
PHONE = "+33 6 12 34 98 76"  # as typed; stored in E.164
PHONE_E164 = "+33612349876"
WECHAT = "qywechat77"
ADDRESS = "17 rue Distinctive, Paris"
VALUES = (NUMBER, NAME, NAME_ZH, BIRTH, EMAIL, PHONE_E164, WECHAT, ADDRESS)


def _files_text(data_dir: Path, stored: list[bytes]) -> str:
    """Everything in the data directory and the file store as text: PDFs through pdftotext
    (their streams are compressed), every other file's bytes (the SQLite file and its log)."""
    parts = []
    files = [p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file()]
    for raw in [*files, *stored]:
        if raw.startswith(b"%PDF"):
            parts.append(
                subprocess.run(
                    ["pdftotext", "-", "-"], input=raw, capture_output=True, check=True
                ).stdout.decode()
            )
        parts.append(raw.decode("utf-8", "replace"))
    return "\n".join(parts)


def _database_text(settings) -> str:  # noqa: ANN001
    url = settings.database_url
    if url.startswith("postgresql"):
        return subprocess.run(
            ["pg_dump", "--no-owner", "--data-only", url.replace("+psycopg", "")],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    return ""  # the SQLite file is in the data directory


def _stored(settings) -> list[bytes]:  # noqa: ANN001
    engine = make_engine(settings)
    try:
        with Session(engine) as s:
            keys = s.exec(select(StoredFile.key)).all()
        return [FileStore(engine).get(k)[0] for k in keys]
    finally:
        engine.dispose()


def _found(settings) -> set[str]:  # noqa: ANN001
    text = _database_text(settings) + _files_text(settings.data_dir, _stored(settings))
    return {v for v in VALUES if v in text}


def _dashboard(client, headers, campaign_id: int) -> dict:  # noqa: ANN001
    r = client.get(f"/api/v1/dashboard?campaign_id={campaign_id}", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    body.pop("generated_at", None)
    return body


def _delivered_student(client, headers) -> tuple[dict, Claim]:  # noqa: ANN001
    """A minor on the roster claims a delivery with an e-mail (a mail in the outbox), gets a
    kit allocated, is printed on a background label job and delivered on a run."""
    engine = client.app.state.engine
    with Session(engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        f.roster(s, setup["school"].id, [(NUMBER, NAME, BIRTH)])
        campaign = s.get(Campaign, setup["campaign"].id)
        campaign.asks_wechat = True
        s.add(campaign)
        s.commit()
    r = client.post(
        f"/api/v1/campaigns/{setup['campaign'].public_id}/claims",
        json={
            "school_id": setup["school"].id,
            "name_zh": NAME_ZH,
            "name_latin": NAME,
            "student_number": NUMBER,
            "email": EMAIL,
            "birth_date": BIRTH,
            "phone": PHONE,
            "wechat": WECHAT,
            "fulfilment": "delivery",
            "address": ADDRESS,
            "lat": 48.9,
            "lon": 2.4,
            "consent": True,
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "allocated", r.json()
    token = r.json()["token"]

    client.app.state.settings.labels_sync_limit = 0  # a background job: a PDF in the data dir
    r = client.post(
        "/api/v1/labels",
        json={"campaign_id": setup["campaign"].id, "status": "allocated"},
        headers=headers,
    )
    assert r.status_code == 202, r.text
    assert client.get(r.headers["Location"], headers=headers).json()["status"] == "done"

    r = client.post(
        "/api/v1/runs",
        json={"name": "North", "date": "2026-05-05", "depot_location_id": setup["depot"].id},
        headers=headers,
    )
    run_id = r.json()["id"]
    r = client.post(
        f"/api/v1/runs/{run_id}/vehicles",
        json={"name": "Car", "capacity": 5, "shift_start_s": 8 * 3600, "shift_end_s": 20 * 3600},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"/api/v1/runs/{run_id}/claims", json={"school_id": setup["school"].id}, headers=headers
    )
    assert r.status_code == 201, r.text
    assert client.post(f"/api/v1/runs/{run_id}/optimize", headers=headers).status_code == 200
    r = client.post(f"/api/v1/runs/{run_id}/dispatch", headers=headers)
    assert r.status_code == 200, r.text
    stop = r.json()["stops"][0]
    r = client.get(f"/api/v1/runs/{run_id}", headers=headers)  # a minor's address, looked at
    assert r.status_code == 200
    r = client.post(
        "/api/v1/scans",
        json={
            "code": token,
            "run_stop_id": stop["id"],
            "nonce": uuid.uuid4().hex,
            "scanned_at": datetime.now(UTC).isoformat(),
        },
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["result"] == "ok", r.text
    with Session(engine) as s:
        claim = s.exec(select(Claim).where(Claim.token == token)).one()
    assert claim.status == "handed_over" and claim.is_minor
    return setup, claim


def test_an_erased_student_leaves_no_trace_and_the_books_balance(client, settings) -> None:  # noqa: ANN001
    headers = f.api_headers(client)
    setup, claim = _delivered_student(client, headers)
    assert list(settings.outbox_dir.glob("*.eml")), "the claim's mail is in the outbox"
    # The checks below can see each value where it is kept: every one is found before.
    assert _found(settings) == set(VALUES)
    before = _dashboard(client, headers, setup["campaign"].id)
    with Session(client.app.state.engine) as s:  # as a geocoder would have cached the address
        s.add(GeocodeCache(query=geocode.normalise(ADDRESS), lat=48.9, lon=2.4))
        s.commit()

    r = client.request(
        "DELETE",
        f"/api/v1/claims/{claim.id}",
        json={"reason": "request by the student, 2 Dec"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["claim_ids"] == [claim.id] and body["roster_entries"] == 1
    assert body["files"] >= 2  # the mail and the label PDF
    assert any("handed over on" in k for k in body["kept"]), body["kept"]

    client.app.state.engine.dispose()  # every connection closed: the SQLite file is final
    with Session(client.app.state.engine) as s:  # the geocoder's answer for it went too
        assert (
            s.exec(
                select(GeocodeCache).where(GeocodeCache.query == geocode.normalise(ADDRESS))
            ).all()
            == []
        )
    assert _found(settings) == set()
    assert not list(settings.outbox_dir.glob("*.eml"))
    engine = client.app.state.engine
    with Session(engine) as s:
        assert ledger.check(s) == []
        erased = s.get(Claim, claim.id)
        assert erased.status == "handed_over" and erased.erased_at is not None
        assert erased.is_minor and erased.school_id == setup["school"].id
        assert s.exec(select(RosterEntry).where(RosterEntry.student_number == NUMBER)).all() == []
        assert s.exec(select(Scan).where(Scan.claim_id == claim.id)).all()  # the log stays
        assert s.exec(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id)).all()
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "student.erase")).one()
        assert entry.after["reason"] == "request by the student, 2 Dec"
        assert entry.after["claims"] == [claim.id] and entry.user_id is not None
    assert _dashboard(client, headers, setup["campaign"].id) == before

    # Erasing again finds nothing more; the claim's page says it was erased.
    r = client.request(
        "DELETE", f"/api/v1/claims/{claim.id}", json={"reason": "again"}, headers=headers
    )
    assert r.status_code == 200 and r.json()["claim_ids"] == []


def test_a_live_claim_is_cancelled_and_its_kit_returned(client) -> None:  # noqa: ANN001
    headers = f.api_headers(client)
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = f.campaign_setup(s, kits=3)
        claim = f.submit(s, client.app.state.settings, setup)
        assert claim.status == "allocated"
        reserved = ledger.check(s), setup
    r = client.request(
        "DELETE", f"/api/v1/claims/{claim.id}", json={"reason": "withdrawn"}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert any("returned to stock" in k for k in r.json()["kept"])
    with Session(client.app.state.engine) as s:
        assert ledger.check(s) == [] and reserved[0] == []
        c = s.get(Claim, claim.id)
        assert c.status == "cancelled" and c.name_latin == "" and c.birth_date is None
        assert c.student_key == f"erased:{c.id}"
    # Their roster line is anonymous now: a new claim under their number is not theirs any
    # more, until the school lists them again; then the live-claim key is free.
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        with pytest.raises(NotEligible):
            f.submit(s, client.app.state.settings, setup)
        f.roster(s, setup["school"].id, [("S001", "Zhang San", "2001-02-03")])
        again = f.submit(s, client.app.state.settings, setup)
    assert again.status == "allocated"


def test_erasure_needs_a_reason_and_a_diplomat(client) -> None:  # noqa: ANN001
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = f.campaign_setup(s, kits=3)
        claim = f.submit(s, client.app.state.settings, setup)
    headers = f.api_headers(client)
    r = client.request(
        "DELETE", f"/api/v1/claims/{claim.id}", json={"reason": " "}, headers=headers
    )
    assert r.status_code == 422
    r = client.request("DELETE", f"/api/v1/claims/{claim.id}", json={}, headers=headers)
    assert r.status_code == 422
    volunteer = f.api_headers(client, "vol", "volunteer")
    r = client.request(
        "DELETE", f"/api/v1/claims/{claim.id}", json={"reason": "x"}, headers=volunteer
    )
    assert r.status_code == 403
    with Session(client.app.state.engine) as s:
        assert s.get(Claim, claim.id).name_latin == "ZHANG San"


def test_the_append_only_logs_refuse_changes_without_a_permit(session) -> None:  # noqa: ANN001
    """Redaction is allowed only under a permit, and only of the free-text columns."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from app.audit import trail as audit

    audit.record(
        session, user_id=None, action="x", object_type="claim", object_id=1, after={"note": "n"}
    )
    session.commit()
    row = session.exec(select(AuditEntry)).one()
    for stmt in (
        "UPDATE audit_entry SET after = NULL WHERE id = :id",
        "DELETE FROM audit_entry WHERE id = :id",
    ):
        try:
            session.execute(text(stmt), {"id": row.id})
            raise AssertionError(f"accepted: {stmt}")
        except DBAPIError:
            session.rollback()
    session.execute(
        text("INSERT INTO redaction_permit (table_name, row_id) VALUES ('audit_entry', :id)"),
        {"id": row.id},
    )
    try:  # a permit covers the free text, never the facts
        session.execute(text("UPDATE audit_entry SET action = 'y' WHERE id = :id"), {"id": row.id})
        raise AssertionError("a permit let the action change")
    except DBAPIError:
        session.rollback()
    session.execute(
        text("INSERT INTO redaction_permit (table_name, row_id) VALUES ('audit_entry', :id)"),
        {"id": row.id},
    )
    session.execute(text("UPDATE audit_entry SET after = NULL WHERE id = :id"), {"id": row.id})
    session.execute(text("DELETE FROM redaction_permit"))
    session.commit()
    session.expire_all()
    assert session.get(AuditEntry, row.id).after is None
