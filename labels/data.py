"""Plain data the renderers take, and deterministic sample data for previews and tests."""

import base64
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L look-alikes


@dataclass(frozen=True)
class LabelData:
    """One kit label: the claim's token (QR), its short code and who/where it goes."""

    token: str
    short_code: str
    name_zh: str
    name_latin: str
    school: str
    destination: str  # pickup point and slot, or run and stop number, already worded
    contents: str


@dataclass(frozen=True)
class Stop:
    """One delivery stop of a vehicle's route, in visiting order."""

    seq: int
    arrival: str | datetime  # planned local arrival; a datetime prints as HH:MM
    name: str
    phone: str
    address: str
    kits: int
    notes: str
    token: str
    lat: float
    lon: float


@dataclass(frozen=True)
class VehicleRoute:
    """One vehicle's part of a run: its driver and its ordered stops."""

    name: str
    driver: str
    capacity: int
    km: float
    planned_hours: float
    stops: list[Stop] = field(default_factory=list)


@dataclass(frozen=True)
class RouteSheet:
    """A delivery run: the depot and every vehicle's route."""

    run_name: str
    date: date | str
    depot_name: str
    depot_lat: float
    depot_lon: float
    vehicles: list[VehicleRoute] = field(default_factory=list)


@dataclass(frozen=True)
class RouteTexts:
    """Every fixed word a route sheet prints, in one language (the caller's; English here)."""

    date: str = "Date"
    driver: str = "Driver"
    vehicle: str = "Vehicle"
    depot: str = "Depot"
    stops: str = "Stops"
    kits: str = "Kits"
    kits_value: str = "{kits} (capacity {capacity})"
    distance: str = "Distance"
    planned: str = "Planned"
    hours: str = "{hours} h"
    seq: str = "#"
    arrival: str = "Arrival"
    name_phone: str = "Name / phone"
    address: str = "Address"
    notes: str = "Notes"
    qr: str = "QR (proof)"
    sign: str = "Done / sign"
    page: str = "page {page} of {pages}"
    north: str = "N"
    no_phone: str = "no phone"
    title: str = "Route sheets {run}"


@dataclass(frozen=True)
class CalibrationTexts:
    """The notes of a calibration page, in one language (the caller's; English here)."""

    title: str = "Calibration page: {format}"
    advice: str = (
        "Print at 100 % (actual size, no scaling): every outline must lie on a label edge. "
        "Bar: 50 mm."
    )
    description: str = ""  # the sheet's description in that language; else the format's own


_SURNAMES = [
    ("王", "WANG"),
    ("李", "LI"),
    ("张", "ZHANG"),
    ("刘", "LIU"),
    ("陈", "CHEN"),
    ("杨", "YANG"),
    ("欧阳", "OUYANG"),
    ("黄", "HUANG"),
    ("赵", "ZHAO"),
    ("诸葛", "ZHUGE"),
]
_GIVEN = [
    ("小明", "Xiaoming"),
    ("静怡", "Jingyi"),
    ("子涵", "Zihan"),
    ("浩然", "Haoran"),
    ("雨桐", "Yutong"),
    ("梓萱", "Zixuan"),
    ("一诺", "Yinuo"),
    ("俊杰", "Junjie"),
]
_SCHOOLS = [
    "北京市第一中学 Beijing No. 1 Middle School",
    "上海外国语大学附属中学 SFLS",
    "深圳实验学校 Shenzhen Experimental School",
    "成都七中 Chengdu No. 7 High School",
]
_POINTS = ["东门 East Gate", "图书馆 Library", "体育馆 Gym", "北楼大厅 North Hall"]
_CONTENTS = [
    "Kit A: 10 masks, thermometer, 5 antigen tests",
    "Kit B: 20 masks, hand gel, 10 antigen tests, vitamin C",
    "Kit C: inhaler spacer, 5 antigen tests",
]
_STREETS = ["朝阳区建国路", "海淀区中关村大街", "东城区东直门内大街", "西城区金融大街"]  # fmt: skip


def sample_token(rng: random.Random) -> str:
    """A 22-character URL-safe base64 token of 128 random bits, as `secrets.token_urlsafe(16)`."""
    return base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).rstrip(b"=").decode()


def sample_short_code(rng: random.Random) -> str:
    chars = "".join(rng.choice(SHORT_CODE_ALPHABET) for _ in range(9))
    return f"{chars[:4]}-{chars[4:]}"


def sample_labels(n: int, *, seed: int = 7) -> list[LabelData]:
    """`n` deterministic sample labels (Chinese and Latin names, pickups and delivery stops)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        (sz, sl), (gz, gl) = rng.choice(_SURNAMES), rng.choice(_GIVEN)
        if i % 3 == 2:
            destination = f"Run R-{1 + i % 9:02d} · stop {1 + i % 40}"
        else:
            hour = 9 + i % 8
            destination = f"Pickup {rng.choice(_POINTS)} · Sat {hour}:00–{hour}:30"
        out.append(
            LabelData(
                token=sample_token(rng),
                short_code=sample_short_code(rng),
                name_zh=sz + gz,
                name_latin=f"{sl} {gl}",
                school=rng.choice(_SCHOOLS),
                destination=destination,
                contents=rng.choice(_CONTENTS),
            )
        )
    return out


def sample_route(n_stops: int, *, vehicles: int = 1, seed: int = 11) -> RouteSheet:
    """A sample run around a Beijing depot with `n_stops` stops split over `vehicles`."""
    rng = random.Random(seed)
    depot_lat, depot_lon = 39.9087, 116.3975
    start = datetime(2026, 12, 5, 8, 30)
    routes = []
    per = [n_stops // vehicles + (1 if v < n_stops % vehicles else 0) for v in range(vehicles)]
    for v, count in enumerate(per):
        stops, km = [], 0.0
        lat, lon, t = depot_lat, depot_lon, start
        for s in range(count):
            angle = 2 * math.pi * (v + s / max(count, 1)) / vehicles
            r = 0.05 + 0.03 * math.sin(s * 0.7) + 0.01 * rng.random()
            nlat = depot_lat + r * math.sin(angle)
            nlon = depot_lon + r * math.cos(angle) / math.cos(math.radians(depot_lat))
            leg = math.hypot((nlat - lat) * 111.2, (nlon - lon) * 85.3)
            km += leg
            t += timedelta(minutes=4 + leg * 2)
            lat, lon = nlat, nlon
            (sz, sl), (gz, gl) = rng.choice(_SURNAMES), rng.choice(_GIVEN)
            long_address = s % 7 == 3
            address = (
                f"北京市{rng.choice(_STREETS)}{rng.randint(1, 300)}号院{rng.randint(1, 20)}号楼"
            )
            if long_address:
                address += " (Building 5, Unit 2, enter through the east courtyard gate, 3rd floor)"
            stops.append(
                Stop(
                    seq=s + 1,
                    arrival=t,
                    name=f"{sz}{gz} {sl} {gl}",
                    phone=f"+86 13{rng.randint(0, 9)} {rng.randint(1000, 9999)} "
                    f"{rng.randint(1000, 9999)}",
                    address=address,
                    kits=rng.randint(1, 2),
                    notes="请先打电话 Call first" if s % 5 == 0 else "",
                    token=sample_token(rng),
                    lat=nlat,
                    lon=nlon,
                )
            )
        km += math.hypot((lat - depot_lat) * 111.2, (lon - depot_lon) * 85.3)
        routes.append(
            VehicleRoute(
                name=f"Van {v + 1} (京A·{1000 + v})",
                driver=f"Driver {v + 1} 司机",
                capacity=300,
                km=round(km, 1),
                planned_hours=round((t - start).total_seconds() / 3600 + 0.5, 1),
                stops=stops,
            )
        )
    return RouteSheet(
        run_name="Run R-01 Chaoyang/Haidian",
        date=start.date(),
        depot_name="中心仓库 Central Depot",
        depot_lat=depot_lat,
        depot_lon=depot_lon,
        vehicles=routes,
    )
