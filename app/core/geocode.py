"""Delivery addresses placed on the map by a Nominatim-compatible geocoder, each asked once.

`KITRUN_GEOCODER_URL` names the provider (None: no provider, nothing is asked). Answers, found
or not found, are kept in `geocode_cache` under the normalised address: the provider's usage
policy asks for it and a claim should not wait twice for the same address. A provider that is
down, slow or answers nonsense gives no coordinates and is not cached (the next claim asks
again); the claim is stored without coordinates and diplomats pin it on the map.

Call `locate` outside any database transaction: it waits on the network (at most
`KITRUN_GEOCODER_TIMEOUT_SECONDS`) and writes the cache in a short transaction of its own.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from urllib.parse import urlsplit

from geopy.exc import GeopyError
from geopy.geocoders import Nominatim
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from app.core.config import Settings
from models.base import utcnow
from models.claims import GeocodeCache

log = logging.getLogger(__name__)

MAX_QUERY = 600  # geocode_cache.query


def normalise(address: str) -> str:
    """The cache key of an address: NFKC, case folded, one space between words, no space
    before punctuation."""
    text = unicodedata.normalize("NFKC", address).casefold()
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([,.;])", r"\1", text)[:MAX_QUERY]


def provider(settings: Settings) -> Nominatim | None:
    """The configured geocoder, or None when none is set."""
    if not settings.geocoder_url:
        return None
    url = urlsplit(settings.geocoder_url)
    return Nominatim(
        domain=(url.netloc + url.path).rstrip("/"),
        scheme=url.scheme or "https",
        user_agent=settings.geocoder_user_agent,
        timeout=settings.geocoder_timeout_seconds,
    )


def locate(*, engine: Engine, settings: Settings, address: str) -> tuple[float, float] | None:
    """The coordinates of an address (latitude, longitude), or None: no provider, not found,
    or the provider failed. Never raises for the provider's sake."""
    geocoder = provider(settings)
    query = normalise(address)
    if geocoder is None or not query:
        return None
    with Session(engine) as session:
        hit = session.exec(
            select(GeocodeCache.lat, GeocodeCache.lon).where(GeocodeCache.query == query)
        ).first()
        session.rollback()  # (nothing held while the provider answers)
    if hit is not None:
        return (hit[0], hit[1]) if hit[0] is not None and hit[1] is not None else None
    try:
        place = geocoder.geocode(address.strip(), exactly_one=True)
        found = (float(place.latitude), float(place.longitude)) if place is not None else None
    except (GeopyError, OSError, ValueError, TypeError, AttributeError) as exc:
        log.warning("geocoder gave no answer: %s", type(exc).__name__)
        return None
    if found is not None and not (-90 <= found[0] <= 90 and -180 <= found[1] <= 180):
        return None
    _remember(engine, query, found, geocoder.domain)
    return found


def _remember(engine: Engine, query: str, found: tuple[float, float] | None, name: str) -> None:
    """Cache an answer (a concurrent claim may have cached the same address: keep the first)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    lat, lon = found if found is not None else (None, None)
    stmt = (
        dialect.insert(GeocodeCache)
        .values(query=query, lat=lat, lon=lon, provider=name[:200], created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["query"])
    )
    with Session(engine) as session:
        session.execute(stmt)
        session.commit()
