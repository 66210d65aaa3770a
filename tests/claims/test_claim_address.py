"""Deliveries by address alone (geocoded through a Nominatim-compatible server, or pinned later by
diplomats) and phone numbers in E.164, on both claim paths' rules."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, func, select

from app.core import geocode
from app.core.errors import Invalid
from models.claims import Claim, GeocodeCache
from tests.conftest import free_port
from tests.factories import campaign_setup, move, submit

PARIS = (48.8462, 2.3447)
HOME = "12 rue des Écoles, 75005 Paris"


class FakeNominatim:
    """A real HTTP server on 127.0.0.1 speaking Nominatim's /search JSON API: the addresses it
    knows, every query it was asked, and a switch to answer 500 (a provider in trouble)."""

    def __init__(self, places: dict[str, tuple[float, float]]) -> None:
        self.places = {geocode.normalise(k): v for k, v in places.items()}
        self.asked: list[dict] = []
        self.failing = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.asked.append({"path": url.path, **query, "ua": self.headers["User-Agent"]})
                if fake.failing or url.path != "/search":
                    self.send_response(500)
                    self.end_headers()
                    return
                found = fake.places.get(geocode.normalise(query.get("q", "")))
                body = (
                    [{"lat": str(found[0]), "lon": str(found[1]), "display_name": query["q"]}]
                    if found
                    else []
                )
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def nominatim():
    fake = FakeNominatim({HOME: PARIS})
    yield fake
    fake.close()


@pytest.fixture
def setup(session):
    setup = campaign_setup(session, kits=2)
    kit = {"item_id": setup["kit"].id, "location_id": setup["depot"].id, "quantity": 3}
    move(session, "receive", kit)
    return setup


def _with(settings, **kw):
    return settings.model_copy(update=kw)


def _quarantined(session, settings, setup, **kw):
    """Zhang San (an adult) in quarantine asks for a delivery to an address, no coordinates."""
    data = {
        "fulfilment": "delivery",
        "address": HOME,
        "quarantine": True,
        "phone": "06 12 34 56 78",
    }
    return submit(session, settings, setup, **{**data, **kw})


def _cached(session):
    return session.exec(select(GeocodeCache).order_by(GeocodeCache.id)).all()


def test_an_address_is_placed_on_the_map_and_asked_only_once(session, settings, setup, nominatim):
    settings = _with(settings, geocoder_url=nominatim.url, geocoder_user_agent="kitrun-test")
    c = _quarantined(session, settings, setup)
    assert (c.lat, c.lon) == PARIS and c.status == "allocated" and c.delivery_reason == "quarantine"
    assert c.address == HOME and c.reserved_location_id == setup["depot"].id
    assert [(a["path"], a["q"], a["format"], a["ua"]) for a in nominatim.asked] == [
        ("/search", HOME, "json", "kitrun-test")
    ]
    # the same address typed otherwise (case, spaces) is the cache's: no second question
    other = _quarantined(
        session, settings, setup, student_number="S003", name_latin="Wang Wu",
        birth_date=date(2000, 1, 1), address="  12 RUE DES ÉCOLES ,  75005  paris ",
    )  # fmt: skip
    assert (other.lat, other.lon) == PARIS and len(nominatim.asked) == 1
    assert [(r.lat, r.lon) for r in _cached(session)] == [PARIS]


def test_an_address_not_found_is_stored_without_coordinates_and_remembered(
    session, settings, setup, nominatim
):
    settings = _with(settings, geocoder_url=nominatim.url)
    c = _quarantined(session, settings, setup, address="1 impasse Inconnue, 99999 Nulle-part")
    assert (c.lat, c.lon) == (None, None) and c.status == "allocated"
    assert c.fulfilment == "delivery" and c.address.startswith("1 impasse")
    assert [(r.lat, r.lon) for r in _cached(session)] == [(None, None)]  # a miss is kept too
    session.commit()  # (locate runs outside any transaction)
    assert geocode.locate(
        engine=session.get_bind(), settings=settings, address="1 impasse inconnue, 99999 nulle-part"
    ) is None  # fmt: skip
    assert len(nominatim.asked) == 1


@pytest.mark.parametrize("trouble", ["500", "closed"])
def test_a_provider_down_never_blocks_the_claim(session, settings, setup, nominatim, trouble):
    nominatim.failing = True
    url = nominatim.url if trouble == "500" else f"http://127.0.0.1:{free_port()}"
    settings = _with(settings, geocoder_url=url, geocoder_timeout_seconds=1.0)
    c = _quarantined(session, settings, setup)
    assert (c.lat, c.lon) == (None, None) and c.status == "allocated"
    assert _cached(session) == []  # not cached: the next claim asks again
    assert len(nominatim.asked) == (1 if trouble == "500" else 0)


def test_without_a_provider_a_delivery_is_stored_to_be_pinned(session, settings, setup):
    assert settings.geocoder_url is None
    minor = submit(
        session, settings, setup, student_number="S002", name_latin="Li Si", name_zh="李四",
        birth_date=date(2009, 5, 6), fulfilment="delivery", address=HOME, phone="0612345678",
    )  # fmt: skip
    assert (minor.lat, minor.lon) == (None, None) and minor.delivery_reason == "minor"
    assert minor.status == "allocated" and minor.phone == "+33612345678"
    assert _cached(session) == []


def test_coordinates_sent_by_a_client_are_kept_and_nothing_is_asked(
    session, settings, setup, nominatim
):
    settings = _with(settings, geocoder_url=nominatim.url)
    c = _quarantined(session, settings, setup, lat=45.76, lon=4.84)
    assert (c.lat, c.lon) == (45.76, 4.84) and nominatim.asked == []


def test_a_delivery_by_distance_needs_the_address_on_the_map(session, settings, setup):
    with pytest.raises(Invalid) as err:  # no provider: how far it is cannot be known
        _quarantined(session, settings, setup, quarantine=False)
    assert err.value.details == {"fields": ["address"]}
    with pytest.raises(Invalid) as err:
        _quarantined(session, settings, setup, address="  ")
    assert err.value.details == {"fields": ["address"]}
    assert session.exec(select(func.count()).select_from(Claim)).one() == 0


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"phone": ""}, ["phone"]),  # a delivery needs a phone
        ({"phone": "12"}, ["phone"]),  # not a number
        ({"phone": "+33 1"}, ["phone"]),
    ],
)
def test_a_delivery_needs_a_valid_phone(session, settings, setup, change, fields):
    with pytest.raises(Invalid) as err:
        _quarantined(session, settings, setup, **change)
    assert err.value.details == {"fields": fields} and err.value.status_code == 422


def test_a_minor_needs_a_phone_even_for_a_pickup(session, settings, setup):
    minor = {"student_number": "S002", "name_zh": "李四", "name_latin": "Li Si",
             "birth_date": date(2009, 5, 6)}  # fmt: skip
    with pytest.raises(Invalid) as err:
        submit(session, settings, setup, **minor)
    assert err.value.details == {"fields": ["phone"]}
    c = submit(session, settings, setup, phone="+86 139 1234 5678", **minor)
    assert c.phone == "+8613912345678" and c.fulfilment == "pickup"
    adult = submit(session, settings, setup, student_number="S003", name_latin="Wang Wu",
                   birth_date=date(2000, 1, 1), phone="not a number")  # fmt: skip
    assert adult.phone == ""  # not needed (an adult's pickup, not asked): neither read nor kept


def test_the_api_takes_an_address_without_coordinates(client, nominatim):
    client.app.state.settings.geocoder_url = nominatim.url
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        setup = campaign_setup(s, kits=1)
    body = {
        "school_id": setup["school"].id, "name_latin": "Zhang San", "student_number": "S001",
        "birth_date": "2001-02-03", "fulfilment": "delivery", "address": HOME,
        "quarantine": True, "phone": "06 12 34 56 78", "consent": True,
    }  # fmt: skip
    url = f"/api/v1/campaigns/{setup['campaign'].public_id}/claims"
    bad = client.post(url, json={**body, "phone": "06"}, headers={"accept-language": "en"})
    assert bad.status_code == 422 and bad.json()["error"]["details"] == {"fields": ["phone"]}
    assert "phone" in bad.json()["error"]["message"]
    r = client.post(url, json=body)
    assert r.status_code == 201, r.text
    with Session(client.app.state.engine) as s:
        c = s.exec(select(Claim).where(Claim.token == r.json()["token"])).one()
        assert (c.lat, c.lon, c.phone, c.status) == (*PARIS, "+33612345678", "waitlisted")
