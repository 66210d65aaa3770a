"""Who looked (issue 16, point 6): viewing a minor's address or phone on the run page and API,
the driver's view, a claim's page and the claims API, route sheets and labels is logged with
who, when and where; adults are not logged; diplomats see the log (claim page, mission page,
API), volunteers and drivers do not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from app.audit import looks
from app.printing import service as printing
from app.runs import delivery as run_delivery
from app.runs import plan as run_plan
from app.runs import service as runs
from models.printing import LabelsIn
from models.privacy import PersonalView
from models.runs import RunStop
from tests import factories as f
from tests.runs import factories as rf

H8, H20 = 8 * 3600, 20 * 3600


def _world(client, *, dispatch: bool = True, candidate: bool = False) -> dict:  # noqa: ANN001
    """A run from the depot with one car driven by `drv`: a minor's and an adult's delivery on
    it (optimised; dispatched unless told), and optionally a minor waiting to be added."""
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = rf.district(s)
        minor = rf.delivery_claim(s, setup, minor=True, name="Minor One", lat=48.87, lon=2.36)
        adult = rf.delivery_claim(s, setup, name="Adult Two", lat=48.88, lon=2.37)
        waiting = (
            rf.delivery_claim(s, setup, minor=True, name="Minor Three", lat=48.86, lon=2.34)
            if candidate
            else None
        )
        dip = f.user(s, "dip", "diplomat")
        drv = f.user(s, "drv", "driver")
        f.user(s, "vol", "volunteer")
        run = runs.create_run(
            session=s, name="Run", run_date=date.today(), depot_location_id=setup["depot"].id
        )
        car = runs.add_vehicle(
            session=s,
            run_id=run.id,
            name="Car 1",
            capacity=10,
            shift_start_s=H8,
            shift_end_s=H20,
            driver_user_id=drv.id,
        )
        runs.select_claims(session=s, run_id=run.id, claim_ids=[minor.id, adult.id])
        run_plan.optimise(session=s, settings=client.app.state.settings, run_id=run.id)
        if dispatch:
            run_delivery.dispatch(session=s, run_id=run.id, user=dip)
        first = s.exec(
            select(RunStop.claim_id).where(RunStop.run_id == run.id).order_by(RunStop.seq)
        ).first()
        for obj in (minor, adult, waiting, run, car, dip, drv, *setup.values()):
            if obj is not None:
                s.refresh(obj)  # loaded, for use once the session is closed
    return {
        "run": run,
        "car": car,
        "minor": minor,
        "adult": adult,
        "waiting": waiting,
        "dip": dip,
        "drv": drv,
        "setup": setup,
        "first": first,
    }


def _views(client) -> list[PersonalView]:  # noqa: ANN001
    with Session(client.app.state.engine) as s:
        return list(s.exec(select(PersonalView).order_by(PersonalView.id)).all())


def _login(client, username: str) -> None:  # noqa: ANN001
    client.cookies.clear()
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": f.PASSWORD,
            "next": "/",
            "csrf_token": client.cookies.get("kitrun_csrf"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def _bearer(client, username: str) -> dict[str, str]:  # noqa: ANN001
    r = client.post("/api/v1/auth/token", json={"username": username, "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


# ---------------------------------------------------------------- where a view is logged


def test_run_page_logs_the_minors_whose_address_it_shows(client) -> None:  # noqa: ANN001
    w = _world(client, dispatch=False, candidate=True)
    _login(client, "dip")
    r = client.get(f"/admin/runs/{w['run'].id}")
    assert r.status_code == 200
    assert w["minor"].address in r.text and w["waiting"].address in r.text
    views = _views(client)
    assert {v.claim_id for v in views} == {w["minor"].id, w["waiting"].id}  # not the adult
    for v in views:
        assert (v.user_id, v.context, v.fields) == (w["dip"].id, "run", "address")
        assert abs(v.at.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=5)


def test_run_api_logs_address_and_phone(client) -> None:  # noqa: ANN001
    w = _world(client)
    h = _bearer(client, "dip")
    r = client.get(f"/api/v1/runs/{w['run'].id}", headers=h)
    assert r.status_code == 200
    assert {s["phone"] for s in r.json()["stops"]} == {w["minor"].phone}
    [v] = _views(client)
    assert (v.claim_id, v.user_id, v.context, v.fields) == (
        w["minor"].id,
        w["dip"].id,
        "run",
        "address,phone",
    )


def test_driver_view_logs_the_driver(client) -> None:  # noqa: ANN001
    w = _world(client)
    _login(client, "vol")
    assert client.get(f"/driver/runs/{w['run'].id}/{w['car'].id}").status_code == 403
    assert _views(client) == []  # refused: nothing was shown
    _login(client, "drv")
    r = client.get(f"/driver/runs/{w['run'].id}/{w['car'].id}")
    assert r.status_code == 200 and w["minor"].address in r.text
    [v] = _views(client)
    # every stop's address is listed; the phone only of the next stop
    fields = "address,phone" if w["first"] == w["minor"].id else "address"
    assert (v.claim_id, v.user_id, v.context, v.fields) == (
        w["minor"].id,
        w["drv"].id,
        "driver",
        fields,
    )


def test_claim_page_logs_and_shows_who_looked(client) -> None:  # noqa: ANN001
    w = _world(client, dispatch=False)
    _login(client, "dip")
    r = client.get(f"/admin/claims/{w['adult'].id}?lang=en")
    assert r.status_code == 200 and "Who looked at this minor" not in r.text
    assert _views(client) == []
    r = client.get(f"/admin/claims/{w['minor'].id}?lang=en")
    assert r.status_code == 200
    [v] = _views(client)
    assert (v.claim_id, v.user_id, v.context, v.fields) == (
        w["minor"].id,
        w["dip"].id,
        "claim",
        "address,phone",
    )
    section = r.text.split("Who looked at this minor", 1)[1]
    assert "dip" in section and "Claim (page or API)" in section and "Address, Phone" in section
    # a driver's view shows in the claim's log too
    _login(client, "drv")
    client.get(f"/driver/runs/{w['run'].id}/{w['car'].id}")
    _login(client, "dip")
    section = client.get(f"/admin/claims/{w['minor'].id}?lang=en").text.split("Who looked", 1)[1]
    assert "drv" in section and "Driver's view" in section


def test_claims_api_logs_the_minors_it_answers_with(client) -> None:  # noqa: ANN001
    w = _world(client, dispatch=False)
    h = _bearer(client, "dip")
    r = client.get("/api/v1/claims", headers=h)
    assert r.status_code == 200 and r.json()["total"] == 2
    [v] = _views(client)
    assert (v.claim_id, v.context, v.fields) == (w["minor"].id, "claim", "address,phone")


def test_route_sheet_and_labels_log_a_print(client) -> None:  # noqa: ANN001
    w = _world(client)
    h = _bearer(client, "dip")
    r = client.get(f"/api/v1/runs/{w['run'].id}/route-sheet.pdf", headers=h)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    [v] = _views(client)
    assert (v.claim_id, v.user_id, v.context, v.fields) == (
        w["minor"].id,
        w["dip"].id,
        "print",
        "address,phone",
    )
    # a delivery label of a claim on no run carries the address
    settings = client.app.state.settings
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        for obj in w["setup"].values():
            s.add(obj)
        loose = rf.delivery_claim(s, w["setup"], minor=True, name="Label Minor")
        adult = rf.delivery_claim(s, w["setup"], name="Label Adult")
        data = LabelsIn(format="L7163", status="allocated", campaign_id=w["setup"]["campaign"].id)
        _, n = printing.print_labels(session=s, settings=settings, data=data, user_id=w["dip"].id)
    assert n == 2
    prints = [v for v in _views(client) if v.claim_id in (loose.id, adult.id)]
    assert [(v.claim_id, v.context, v.fields) for v in prints] == [(loose.id, "print", "address")]


# ---------------------------------------------------------------- the log itself


def test_record_keeps_minors_with_something_shown(session: Session) -> None:
    setup = rf.district(session, kits=5)
    minor = rf.delivery_claim(session, setup, minor=True)
    bare = rf.delivery_claim(session, setup, minor=True)
    bare.phone, bare.address = "", ""
    session.add(bare)
    adult = rf.delivery_claim(session, setup)
    session.commit()
    dip = f.user(session, "dip")
    n = looks.record(
        session,
        user_id=dip.id,
        context="claim",
        shown=[
            *looks.shown([minor, bare, adult], phone=False),
            *looks.shown([{"claim_id": minor.id, "is_minor": True, "phone": "1", "address": ""}],
                         id_field="claim_id"),
        ],
    )  # fmt: skip
    assert n == 1
    session.rollback()  # committed by record: a rollback keeps it
    [v] = session.exec(select(PersonalView)).all()
    assert (v.claim_id, v.fields, v.context, v.user_id) == (
        minor.id,
        "address,phone",
        "claim",
        dip.id,
    )
    assert looks.record(session, user_id=dip.id, context="claim", shown=[]) == 0
    rows = looks.of_claim(session=session, claim_id=minor.id)
    assert [(r["username"], r["context"], r["fields"]) for r in rows] == [
        ("dip", "claim", "address,phone")
    ]


def test_record_joins_the_callers_transaction_when_asked(session: Session) -> None:
    setup = rf.district(session, kits=5)
    minor = rf.delivery_claim(session, setup, minor=True)
    looks.record(session, user_id=None, context="print", shown=looks.shown([minor]), commit=False)
    session.rollback()
    assert session.exec(select(PersonalView)).all() == []


def test_views_are_paged_newest_first_and_filtered(session: Session) -> None:
    setup = rf.district(session, kits=5)
    a = rf.delivery_claim(session, setup, minor=True)
    b = rf.delivery_claim(session, setup, minor=True)
    dip = f.user(session, "dip")
    for claim, context in ((a, "run"), (b, "driver"), (a, "export")):
        looks.record(session, user_id=dip.id, context=context, shown=looks.shown([claim]))
    rows, total = looks.views(session=session)
    assert total == 3 and [r["context"] for r in rows] == ["export", "driver", "run"]
    rows, total = looks.views(session=session, claim_id=a.id, limit=1, offset=1)
    assert total == 2 and [r["context"] for r in rows] == ["run"]
    later = datetime.now(UTC) + timedelta(hours=1)
    assert looks.views(session=session, since=later)[1] == 0
    assert looks.views(session=session, until=later.replace(tzinfo=None))[1] == 3


# ---------------------------------------------------------------- diplomats see the log


def test_diplomats_see_the_log_others_do_not(client) -> None:  # noqa: ANN001
    w = _world(client)
    dip = _bearer(client, "dip")
    client.get(f"/api/v1/runs/{w['run'].id}", headers=dip)
    for who in ("vol", "drv"):
        h = _bearer(client, who)
        assert client.get("/api/v1/privacy/views", headers=h).status_code == 403
    r = client.get(f"/api/v1/privacy/views?claim_id={w['minor'].id}&limit=10", headers=dip)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 1 and (page["limit"], page["offset"]) == (10, 0)
    [item] = page["items"]
    assert item["username"] == "dip" and item["user_id"] == w["dip"].id
    assert (item["claim_id"], item["context"], item["fields"]) == (
        w["minor"].id,
        "run",
        "address,phone",
    )
    assert (
        client.get(f"/api/v1/privacy/views?claim_id={w['adult'].id}", headers=dip).json()["total"]
        == 0
    )
    assert client.get("/api/v1/privacy/views?limit=0", headers=dip).status_code == 422

    for who in ("vol", "drv"):
        _login(client, who)
        assert client.get("/admin/privacy/views").status_code == 403
    _login(client, "dip")
    r = client.get("/admin/privacy/views?lang=en")
    assert r.status_code == 200
    assert f'href="/admin/claims/{w["minor"].id}"' in r.text and "Delivery run" in r.text
    assert 'href="/admin/privacy/views"' in client.get("/admin").text  # in the navigation
    r = client.get(f"/admin/privacy/views?claim_id={w['adult'].id}")
    assert f'href="/admin/claims/{w["minor"].id}"' not in r.text
    assert client.get("/admin/privacy/views?since=yesterday").status_code == 422
