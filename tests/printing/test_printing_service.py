"""Label printing service: selection, label data, PDF that decodes, claims marked ready, jobs."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from app.claims import submit as claims_service
from app.core.errors import Invalid, NotFound
from app.core.files import FileStore
from app.printing import jobs as print_jobs
from app.printing import service as printing
from models.campaigns import PickupSlot
from models.claims import Claim, ClaimEvent
from models.printing import LabelsIn, PrintJob
from models.runs import Run, RunStop
from tests import factories as f
from tests.pickup import factories as pf
from tests.printing import factories as lf


@pytest.fixture
def world(session):  # noqa: ANN001, ANN201
    return pf.world(session, kits=40)


def _events(session, claim_id: int) -> list[str]:  # noqa: ANN001
    rows = session.exec(select(ClaimEvent).where(ClaimEvent.claim_id == claim_id)).all()
    return [e.to_status for e in rows]


def test_labels_of_a_submitted_claim_decode_and_it_becomes_ready(session, settings, tmp_path):
    setup = f.campaign_setup(session, kits=2)
    claim = claims_service.submit(
        session=session,
        settings=settings,
        campaign=setup["campaign"],
        data=f.claim_in(setup),
        locale="zh_CN",
        address="10.0.0.1",
    )
    assert claim.status == "allocated"
    data = LabelsIn(campaign_id=setup["campaign"].id, school_id=setup["school"].id, format="L7160")
    pdf, n = printing.print_labels(session=session, settings=settings, data=data, user_id=None)
    assert n == 1 and pdf.startswith(b"%PDF")
    assert lf.first_label_token(pdf, tmp_path, "L7160") == claim.token
    session.refresh(claim)
    assert claim.status == "ready" and claim.ready_at is not None
    assert _events(session, claim.id)[-1] == "ready"


@pytest.mark.parametrize(("fmt", "start"), [("L7163", 3), ("5160", 30), ("thermal-4x6", 1)])
def test_every_format_places_the_first_label_at_the_start_position(
    session, settings, world, tmp_path, fmt, start
):  # noqa: ANN001
    (c,) = lf.claims(session, world, 1)
    data = LabelsIn(campaign_id=world.campaign.id, format=fmt, start_position=start)
    pdf, _ = printing.print_labels(session=session, settings=settings, data=data, user_id=None)
    page = lf.first_page(pdf, tmp_path)
    assert lf.decode_cell(page, fmt, start) == c.token
    if start > 1:
        assert lf.decode_cell(page, fmt, 1) is None


def test_only_allocated_claims_become_ready(session, settings, world):
    allocated, handed = lf.claims(session, world, 2)
    handed.status = "handed_over"
    session.add(handed)
    session.commit()
    data = LabelsIn(campaign_id=world.campaign.id, status="allocated,handed_over")
    _, n = printing.print_labels(
        session=session, settings=settings, data=data, user_id=world.diplomat.id
    )
    assert n == 2
    session.expire_all()
    assert session.get(Claim, allocated.id).status == "ready"
    assert session.get(Claim, handed.id).status == "handed_over"
    assert "ready" not in _events(session, handed.id)
    ev = session.exec(select(ClaimEvent).where(ClaimEvent.claim_id == allocated.id)).one()
    assert ev.user_id == world.diplomat.id and ev.from_status == "allocated"
    # printed again: already ready, no second event
    data = LabelsIn(campaign_id=world.campaign.id, status="ready")
    printing.print_labels(session=session, settings=settings, data=data, user_id=None)
    assert _events(session, allocated.id) == ["ready"]


def test_label_text_names_school_point_slot_and_contents(session, settings, world):
    (c,) = lf.claims(session, world, 1, name_zh="欧阳小明")
    slot = PickupSlot(
        location_id=world.point.id,
        starts_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
        capacity=10,
    )
    session.add(slot)
    session.commit()
    c.slot_id = slot.id
    session.add(c)
    session.commit()
    settings.timezone = "Europe/Paris"
    ids, (label,) = printing.collect(
        session=session, settings=settings, sel=LabelsIn(campaign_id=world.campaign.id)
    )
    assert ids == [c.id]
    assert label.name_zh == "欧阳小明" and label.token == c.token
    assert label.short_code.replace("-", "") == c.short_code
    # one language a label: the reader's (zh_CN by default); the student's two names stay
    assert label.school == "巴黎大学"
    assert label.destination == "Point A（中） · 03-02 10:00–12:00"
    assert "×20" in label.contents and "×1" in label.contents
    _, (en,) = printing.collect(
        session=session, settings=settings, sel=LabelsIn(campaign_id=world.campaign.id), locale="en"
    )
    assert en.school == "University of Paris"
    assert en.destination == "Point A · 03-02 10:00–12:00"
    assert (en.name_zh, en.name_latin) == (label.name_zh, label.name_latin)


def test_run_selection_and_destination(session, settings, world):
    on_run, other = lf.claims(session, world, 2)
    run = Run(name="North", date=date(2026, 3, 3), depot_location_id=world.point.id)
    session.add(run)
    session.commit()
    session.add(RunStop(run_id=run.id, claim_id=on_run.id, seq=4))
    session.commit()
    ids, (label,) = printing.collect(
        session=session, settings=settings, sel=LabelsIn(run_id=run.id), locale="en"
    )
    assert ids == [on_run.id]
    assert label.destination == "Run North · stop 4"


@pytest.mark.parametrize(
    ("data", "exc", "words"),
    [
        (LabelsIn(format="A9"), Invalid, "Unknown label format"),
        (LabelsIn(format="L7160", start_position=22), Invalid, "positions 1 to 21"),
        (LabelsIn(format="5160", start_position=0), Invalid, "off the sheet"),
        (LabelsIn(campaign_id=999999), NotFound, "campaign"),
        (LabelsIn(status="printed"), Invalid, "Unknown claim status"),
        (LabelsIn(status="rejected"), Invalid, "nothing to print"),
    ],
)
def test_bad_requests_raise_and_change_nothing(session, settings, world, data, exc, words):
    (c,) = lf.claims(session, world, 1)
    with pytest.raises(exc) as err:
        printing.print_labels(session=session, settings=settings, data=data, user_id=None)
    assert words in err.value.message
    session.expire_all()
    assert session.get(Claim, c.id).status == "allocated"


def test_background_job_reaches_done_with_a_pdf(
    session, engine, settings, world, tmp_path, monkeypatch
):
    made = lf.claims(session, world, 25)
    data = LabelsIn(campaign_id=world.campaign.id, format="L7160", start_position=2)
    job = print_jobs.create_job(session=session, settings=settings, data=data, user_id=None)
    assert (job.status, job.total, job.done) == ("pending", 25, 0)
    monkeypatch.setattr(print_jobs, "PROGRESS_EVERY_S", 0.0)
    progress: list[int] = []
    real_set = print_jobs._set

    def spy(s, job_id, **values):  # noqa: ANN001, ANN202
        if "done" in values:
            progress.append(values["done"])
        real_set(s, job_id, **values)

    monkeypatch.setattr(print_jobs, "_set", spy)
    session.commit()  # as a request ends its transaction before the job starts
    job = print_jobs.run_job(engine=engine, settings=settings, job_id=job.id)
    assert (job.status, job.done, job.total) == ("done", 25, 25), job.message
    assert job.finished_at is not None
    assert progress == [20, 25, 25]  # page 1 holds positions 2..21, page 2 the rest; then done
    info = print_jobs.job_file(session=session, job_id=job.id)
    pdf, media_type, name = FileStore(engine).get(info.key)
    assert (media_type, name) == ("application/pdf", f"labels-{job.id}-L7160.pdf")
    first = sorted(made, key=lambda c: c.name_latin)[0]
    assert lf.first_label_token(pdf, tmp_path, "L7160", position=2) == first.token
    session.expire_all()
    statuses = {session.get(Claim, c.id).status for c in made}
    assert statuses == {"ready"}


def test_job_that_cannot_render_fails_and_marks_nothing(session, engine, settings, world):
    (c,) = lf.claims(session, world, 1)
    data = LabelsIn(campaign_id=world.campaign.id)
    job = print_jobs.create_job(session=session, settings=settings, data=data, user_id=None)
    # the claims went away between the request and the job
    c.status = "cancelled"
    session.add(c)
    session.commit()
    session.close()
    job = print_jobs.run_job(engine=engine, settings=settings, job_id=job.id)
    assert job.status == "failed" and "nothing to print" in job.message
    with pytest.raises(Exception) as err:
        print_jobs.job_file(session=session, job_id=job.id)
    assert err.value.status_code == 409
    assert session.exec(select(PrintJob)).one().file_path is None


def test_empty_selection_creates_no_job(session, settings, world):
    with pytest.raises(Invalid):
        print_jobs.create_job(
            session=session, settings=settings, data=LabelsIn(status="ready"), user_id=None
        )
    assert session.exec(select(PrintJob)).all() == []


def test_sheet_count():
    assert printing.sheets(21, "L7160") == 1
    assert printing.sheets(21, "L7160", 2) == 2
    assert printing.sheets(1, "thermal-4x6") == 1
    assert printing.sheets(0, "5160") == 0


def test_calibration_page(settings):
    assert printing.calibration(settings=settings, format_id="L7163").startswith(b"%PDF")
    with pytest.raises(Invalid):
        printing.calibration(settings=settings, format_id="nope")
