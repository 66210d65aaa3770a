"""Retention: closed campaigns forget their students on schedule (minors first), open ones do
not; the dry run changes nothing; the scheduled job and the command do the purge."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlmodel import Session, select
from typer.testing import CliRunner

from app.campaigns import service as campaigns
from app.inventory import ledger
from app.privacy import retention
from models.audit import AuditEntry
from models.base import utcnow
from models.campaigns import Campaign, CampaignCreate, CampaignSchoolIn
from models.claims import Claim
from models.schools import RosterEntry
from tests import factories as f


def _two_campaigns(session: Session, settings) -> tuple[Claim, Claim, Claim]:  # noqa: ANN001
    """An adult's and a minor's claim in a campaign closed 40 days ago (minors kept 30 days,
    others 90), and a claim in an open campaign."""
    setup = f.campaign_setup(session, kits=5)
    adult = f.submit(session, settings, setup)
    minor = f.submit(
        session,
        settings,
        setup,
        name_zh="李四",
        name_latin="Li Si",
        student_number="S002",
        birth_date=__import__("datetime").date(2009, 5, 6),
        phone="+33 6 12 34 56 78",  # a minor's claim needs a phone
    )
    assert minor.is_minor and not adult.is_minor
    closed = session.get(Campaign, setup["campaign"].id)
    closed.opens_at = utcnow() - timedelta(days=60)
    closed.closes_at = utcnow() - timedelta(days=40)
    closed.status = "closed"
    session.add(closed)
    session.commit()
    school = f.school(session, "Other School", "other.fr")
    f.roster(session, school.id, [("S001", "Zhang San", "2001-02-03")])
    still_open = campaigns.create_campaign(
        session=session,
        data=CampaignCreate(
            name_zh="进行中",
            name_en="Open round",
            opens_at=utcnow() - timedelta(days=1),
            closes_at=utcnow() + timedelta(days=10),
            kit_item_id=setup["kit"].id,
            status="open",
            schools=[CampaignSchoolIn(school_id=school.id)],
        ),
    )
    other = {**setup, "campaign": still_open, "school": school}
    open_claim = f.submit(session, settings, other)
    return adult, minor, open_claim


def test_a_closed_campaign_past_its_period_is_purged_and_an_open_one_is_not(session, settings):  # noqa: ANN001
    adult, minor, open_claim = _two_campaigns(session, settings)

    dry = retention.purge(session, settings, dry_run=True)
    assert [(i.campaign_id, i.minors, i.claims) for i in dry.claims] == [
        (minor.campaign_id, True, 1)
    ]
    session.expire_all()
    assert session.get(Claim, minor.id).name_latin == "Li Si"  # the dry run changed nothing
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "privacy.purge")).all() == []

    done = retention.purge(session, settings)
    assert [(i.campaign_id, i.claims) for i in done.claims] == [(minor.campaign_id, 1)]
    session.expire_all()
    m = session.get(Claim, minor.id)
    assert m.erased_at is not None and m.name_latin == "" and m.birth_date is None
    assert session.get(Claim, adult.id).erased_at is None  # adults: 90 days
    assert session.get(Claim, open_claim.id).erased_at is None
    assert ledger.check(session) == []

    # 100 days after closing, the adult goes too; the open campaign's claim stays.
    later = utcnow() + timedelta(days=60)
    assert [i.minors for i in retention.purge(session, settings, now=later).claims] == [False]
    session.expire_all()
    assert session.get(Claim, adult.id).erased_at is not None
    assert session.get(Claim, open_claim.id).name_latin == "ZHANG San"
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "privacy.purge")).all()
    assert len(entries) == 2 and "ZHANG" not in str(entries[1].after)
    # The roster of a school whose only campaign expired is anonymised; the other's is not.
    rows = session.exec(select(RosterEntry).where(RosterEntry.school_id == adult.school_id)).all()
    assert rows and all(r.name == "" and r.birth_date is None for r in rows)
    assert (
        session.exec(select(RosterEntry).where(RosterEntry.school_id == open_claim.school_id))
        .first()
        .name
    )


def test_the_scheduled_job_purges(settings) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    from app.main import create_app

    settings.purge_interval_seconds = 0.2
    app = create_app(settings)
    with Session(app.state.engine, expire_on_commit=False) as s:
        _adult, minor, _open = _two_campaigns(s, settings)
    with TestClient(app):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with Session(app.state.engine) as s:
                if s.get(Claim, minor.id).erased_at is not None:
                    break
            time.sleep(0.1)
    with Session(app.state.engine) as s:
        assert s.get(Claim, minor.id).erased_at is not None
    app.state.engine.dispose()


def test_the_command_prints_what_it_would_erase(settings, monkeypatch) -> None:  # noqa: ANN001
    from app.cli import cli
    from app.core.db import make_engine

    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as s:
        _adult, minor, _open = _two_campaigns(s, settings)
    monkeypatch.setenv("KITRUN_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KITRUN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KITRUN_SECRET_KEY", "test-secret")
    try:
        out = CliRunner().invoke(cli, ["privacy", "purge", "--dry-run"])
        assert out.exit_code == 0, out.output
        assert f"would erase 1 minors' claims of campaign {minor.campaign_id}" in out.output
        with Session(engine) as s:
            assert s.get(Claim, minor.id).erased_at is None
        out = CliRunner().invoke(cli, ["privacy", "purge"])
        assert out.exit_code == 0 and "erased 1 minors' claims" in out.output, out.output
        with Session(engine) as s:
            assert s.get(Claim, minor.id).erased_at is not None
    finally:
        engine.dispose()


def test_old_files_go_after_their_period(session, settings) -> None:  # noqa: ANN001
    import os

    settings.outbox_dir.mkdir(parents=True)
    old = settings.outbox_dir / "old.eml"
    new = settings.outbox_dir / "new.eml"
    for p in (old, new):
        p.write_bytes(b"To: a@b.c\nSubject: x\n\nbody\n")
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    report = retention.purge(session, settings, dry_run=True)
    assert report.files == 1 and old.exists()
    retention.purge(session, settings)
    assert not old.exists() and new.exists()
