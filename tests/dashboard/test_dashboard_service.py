"""Dashboard and report figures equal counts made independently from the rows."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.core.errors import Invalid, NotFound
from app.dashboard import figures as dashboard
from app.dashboard import reports
from models.claims import Claim
from models.runs import RunStop
from models.schools import RosterEntry
from tests.dashboard.factories import small_campaign


@pytest.fixture
def small(session, settings):  # noqa: ANN001, ANN201
    return small_campaign(session, settings)


def _claims(session, campaign_id):  # noqa: ANN001, ANN202
    return session.exec(select(Claim).where(Claim.campaign_id == campaign_id)).all()


def test_headline_equals_independent_counts(session, small):
    rows = _claims(session, small.campaign.id)
    stops = session.exec(select(RunStop)).all()
    roster = session.exec(
        select(RosterEntry).where(RosterEntry.school_id == small.roster_school.id)
    ).all()
    expected = {
        "eligible": len(roster),
        "claims": sum(c.status not in ("rejected", "cancelled", "expired") for c in rows),
        "allocated": sum(c.status in ("allocated", "ready", "out_for_delivery") for c in rows),
        "handed_over": sum(c.status == "handed_over" for c in rows),
        "waitlisted": sum(c.status == "waitlisted" for c in rows),
        "delivered": sum(c.status == "handed_over" and c.fulfilment == "delivery" for c in rows),
        "failed_deliveries": sum(s.status == "failed" for s in stops),
        "rejected": sum(c.status == "rejected" for c in rows),
    }
    # The scenario, spelt out: the independent counts are not all zero by accident.
    assert expected == {
        "eligible": 3,
        "claims": 5,
        "allocated": 1,
        "handed_over": 3,
        "waitlisted": 1,
        "delivered": 1,
        "failed_deliveries": 1,
        "rejected": 1,
    }
    head = dashboard.headline(session=session, campaign_id=small.campaign.id)
    assert {k: head[k] for k in expected} == expected


def test_per_day_and_schools(session, small):
    d = dashboard.dashboard(session=session, campaign_id=small.campaign.id)
    today = datetime.now(UTC).date()
    by_day = {r["day"]: r for r in d["per_day"]}
    rows = _claims(session, small.campaign.id)
    assert by_day[today]["claims"] == len(rows) == 6
    assert by_day[today]["handed_over"] == sum(c.status == "handed_over" for c in rows)
    assert sum(r["claims"] for r in d["per_day"]) == len(rows)
    schools = {s["school_id"]: s for s in d["schools"]}
    assert set(schools) == {small.roster_school.id, small.manual_school.id, small.email_school.id}
    roster = schools[small.roster_school.id]
    assert (roster["eligible"], roster["claims"], roster["handed_over"]) == (3, 3, 2)
    manual = schools[small.manual_school.id]
    assert (manual["eligible"], manual["claims"], manual["handed_over"]) == (0, 2, 1)
    assert manual["progress"] == pytest.approx(0.5)  # no roster: against its claims
    assert roster["progress"] == pytest.approx(2 / 3)
    # Lagging first: the e-mail school without claims, then 50 %, then 67 %.
    assert [s["school_id"] for s in d["schools"]] == [
        small.email_school.id,
        small.manual_school.id,
        small.roster_school.id,
    ]


def test_stock_runs_and_rate(session, small):
    d = dashboard.dashboard(session=session, campaign_id=small.campaign.id)
    stock = {s["location_id"]: s for s in d["stock"]}
    point, depot = stock[small.point.id], stock[small.depot.id]
    assert (point["on_hand"], point["reserved"], point["issued_7d"]) == (0, 0, 2)
    assert point["days_left"] == 0
    assert (depot["on_hand"], depot["reserved"], depot["issued_7d"]) == (1, 1, 1)
    assert depot["per_day"] == round(1 / 7, 1)
    assert depot["days_left"] == pytest.approx(7.0)
    [run] = d["runs"]
    assert (run["stops"], run["delivered"], run["failed"], run["planned"]) == (2, 1, 1, 0)


def test_empty_campaign_is_zeros(session, small):
    from app.campaigns import service as campaigns
    from models.campaigns import CampaignCreate

    c = campaigns.create_campaign(
        session=session,
        data=CampaignCreate(
            name_zh="空",
            name_en="Empty",
            opens_at=small.campaign.opens_at,
            closes_at=small.campaign.closes_at,
            kit_item_id=small.campaign.kit_item_id,
        ),
    )
    d = dashboard.dashboard(session=session, campaign_id=c.id)
    assert d["empty"] and set(d["headline"].values()) == {0}
    assert d["schools"] == [] and d["runs"] == []
    assert all(r["claims"] == r["handed_over"] == 0 for r in d["per_day"])


def test_bad_input(session, small):
    with pytest.raises(NotFound):
        dashboard.dashboard(session=session, campaign_id=99999)
    today = datetime.now(UTC).date()
    with pytest.raises(Invalid) as err:
        dashboard.dashboard(
            session=session, campaign_id=small.campaign.id, since=today, until=today - timedelta(1)
        )
    assert "wrong way round" in err.value.message
    with pytest.raises(Invalid):
        reports.daily(
            session=session, campaign_id=small.campaign.id, since=today, until=today - timedelta(1)
        )


def test_daily_report_equals_counts(session, small):
    today = datetime.now(UTC).date()
    s = reports.daily(session=session, campaign_id=small.campaign.id, since=today)
    rows = _claims(session, small.campaign.id)
    schools = {r["id"]: r for r in s["schools"]}
    for school_id in (small.roster_school.id, small.manual_school.id, small.email_school.id):
        mine = [c for c in rows if c.school_id == school_id]
        handed = [c for c in mine if c.status == "handed_over"]
        assert schools[school_id]["claims"] == len(mine)
        assert schools[school_id]["handovers"] == sum(c.fulfilment == "pickup" for c in handed)
        assert schools[school_id]["deliveries"] == sum(c.fulfilment == "delivery" for c in handed)
    points = {p["id"]: p for p in s["points"]}
    assert points[small.point.id]["handovers"] == 2
    assert points[small.point.id]["scans"] == 2
    assert points[small.point.id]["kits_in"] == 2 and points[small.point.id]["kits_out"] == 2
    assert points[small.depot.id]["deliveries"] == 1
    assert s["totals"] == {
        "claims": 6,
        "handovers": 2,
        "deliveries": 1,
        "movements": s["totals"]["movements"],
    }
    # Yesterday: nothing happened.
    y = reports.daily(session=session, campaign_id=small.campaign.id, since=today - timedelta(1))
    assert y["totals"]["claims"] == y["totals"]["handovers"] == y["totals"]["movements"] == 0
