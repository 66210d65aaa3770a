"""Bounded input: integers within their columns, no null for required fields, no blank names, no
NUL characters, no unknown fields, bodies and images within their limits — 4xx, never a 500."""

from __future__ import annotations

import struct
import zlib
from typing import Annotated

import pytest
from fastapi.routing import iter_route_contexts
from pydantic import TypeAdapter
from sqlmodel import Session, select

from models.base import INT32_MAX, INT32_MIN
from models.schools import School
from tests import factories as f
from tests.factories import api_headers
from tests.pickup import factories as pf
from tests.pickup.test_pickup_api import login


def _error(r) -> dict:  # noqa: ANN001
    assert r.headers["content-type"].startswith("application/json"), r.text[:300]
    return r.json()["error"]


def _fields(r) -> set[str]:  # noqa: ANN001
    return {d["field"] for d in _error(r)["details"] or []}


# ---------------------------------------------------------------- every integer is bounded


def _unbounded(schema: dict, defs: dict, where: str, seen: set[str]) -> list[str]:
    out: list[str] = []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return _unbounded(defs[name], defs, where, seen | {name})
    if schema.get("type") == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        if low is None or high is None or low < INT32_MIN or high > INT32_MAX:
            out.append(where)
    for name, sub in schema.get("properties", {}).items():
        out += _unbounded(sub, defs, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            out += _unbounded(schema[key], defs, f"{where}[]", seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            out += _unbounded(sub, defs, where, seen)
    return out


def _params(dependant):  # noqa: ANN001, ANN202
    yield from dependant.path_params + dependant.query_params + dependant.body_params
    for sub in dependant.dependencies:
        yield from _params(sub)


def test_every_integer_parameter_and_field_is_bounded(app):  # noqa: ANN001
    """Every integer a route takes (path, query, form, JSON, nested) fits an INTEGER column:
    a route added with a bare `int` fails here, by name."""
    found = []
    for ctx in iter_route_contexts(app.routes):
        dependant = getattr(ctx, "dependant", None)
        if dependant is None:
            continue
        for field in _params(dependant):
            schema = TypeAdapter(
                Annotated[field.field_info.annotation, field.field_info]
            ).json_schema(ref_template="#/$defs/{model}")
            for where in _unbounded(schema, schema.get("$defs", {}), field.name, set()):
                found.append(f"{sorted(ctx.methods)} {ctx.path}: {where}")
    assert found == []


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/items/3000000000",
        "/api/v1/items/0",
        "/api/v1/schools?offset=9223372036854775808",
        "/api/v1/claims?offset=18446744073709551617",
        "/api/v1/stock/levels?item_id=2147483648",
        "/api/v1/reports/daily.csv?campaign_id=8810099495636931304101322424320",
        "/api/v1/roster-imports/30021417504622628339760192620068864",
    ],
)
def test_integers_beyond_their_column_answer_422(client, url):  # noqa: ANN001
    r = client.get(url, headers=api_headers(client))
    assert r.status_code == 422, r.text
    assert _error(r)["code"] == "validation_error"


def test_a_quantity_beyond_int32_answers_422(client):  # noqa: ANN001
    h = api_headers(client)
    wh = client.post("/api/v1/locations", headers=h, json={"name_zh": "仓", "name_en": "WH"})
    client.post(
        "/api/v1/items",
        headers=h,
        json={"sku": "GEL", "name_zh": "洗手液", "name_en": "Gel", "tracks_lot": False},
    )
    line = {"sku": "GEL", "location_id": wh.json()["id"], "quantity": 2**31}
    r = client.post("/api/v1/stock/movements", headers=h, json={"kind": "receive", "lines": [line]})
    assert r.status_code == 422 and "lines.0.quantity" in _fields(r), r.text
    # the largest quantity is taken once; a level that would overflow is refused, not a 500
    line["quantity"] = INT32_MAX
    r = client.post("/api/v1/stock/movements", headers=h, json={"kind": "receive", "lines": [line]})
    assert r.status_code == 201, r.text
    line["quantity"] = 1
    r = client.post("/api/v1/stock/movements", headers=h, json={"kind": "receive", "lines": [line]})
    assert r.status_code == 409 and _error(r)["code"] == "level_too_large", r.text


def test_an_unknown_campaign_for_a_run_is_refused(client):  # noqa: ANN001
    h = api_headers(client)
    depot = client.post(
        "/api/v1/locations",
        headers=h,
        json={"name_zh": "仓", "name_en": "Depot", "lat": 48.85, "lon": 2.35},
    ).json()
    run = {"name": "R", "date": "2026-12-01", "depot_location_id": depot["id"], "campaign_id": 9}
    r = client.post("/api/v1/runs", headers=h, json=run)
    assert r.status_code == 422 and "campaign" in _error(r)["message"], r.text


# ---------------------------------------------------------------- null, blank, unknown


@pytest.mark.parametrize(
    ("create", "patch", "field"),
    [
        ("/api/v1/items", {"low_stock_threshold": None}, "low_stock_threshold"),
        ("/api/v1/items", {"name_en": None}, "name_en"),
        ("/api/v1/locations", {"active": None}, "active"),
        ("/api/v1/schools", {"name_zh": None}, "name_zh"),
        ("/api/v1/schools", {"in_district": None}, "in_district"),
    ],
)
def test_patch_refuses_null_for_a_required_field(client, create, patch, field):  # noqa: ANN001
    h = api_headers(client)
    body = {"name_zh": "甲", "name_en": "A"} | ({"sku": "A"} if "items" in create else {})
    made = client.post(create, headers=h, json=body)
    assert made.status_code == 201, made.text
    r = client.patch(f"{create}/{made.json()['id']}", headers=h, json=patch)
    assert r.status_code == 422 and field in _fields(r), r.text
    assert client.get(f"{create}/{made.json()['id']}", headers=h).status_code == 200


@pytest.mark.parametrize("blank", ["\t", "\u3000", " \u3000\t ", "\u200b", "\n"])
def test_blank_school_names_are_refused_and_nothing_is_stored(client, blank):  # noqa: ANN001
    h = api_headers(client)
    r = client.post("/api/v1/schools", headers=h, json={"name_zh": blank, "name_en": "School"})
    assert r.status_code == 422 and "name_zh" in _fields(r), r.text
    with Session(client.app.state.engine) as s:
        assert s.exec(select(School)).all() == []
    assert client.get("/api/v1/schools", headers=h).status_code == 200


def test_names_are_stored_stripped(client):  # noqa: ANN001
    h = api_headers(client)
    r = client.post(
        "/api/v1/schools", headers=h, json={"name_zh": "\u3000巴黎大学\t", "name_en": " Paris "}
    )
    assert r.status_code == 201 and (r.json()["name_zh"], r.json()["name_en"]) == (
        "巴黎大学",
        "Paris",
    )


def test_unknown_json_fields_are_named(client):  # noqa: ANN001
    h = api_headers(client)
    r = client.post(
        "/api/v1/schools", headers=h, json={"name_zh": "甲", "name_en": "A", "pickup_point": 3}
    )
    assert r.status_code == 422 and "pickup_point" in _fields(r), r.text
    r = client.post(
        "/api/v1/campaigns/whatever/claims",
        json={"school_id": 1, "name_latin": "Li", "birth_date": "2001-01-01", "consent": True}
        | {"pickup_point_id": 3},
    )
    assert r.status_code == 422 and "pickup_point_id" in _fields(r), r.text


# ---------------------------------------------------------------- NUL characters


def test_nul_characters_are_refused_everywhere(client):  # noqa: ANN001
    h = api_headers(client)
    r = client.get("/api/v1/schools?q=a%00b", headers=h)
    assert r.status_code == 422 and _fields(r) == {"query.q"}, r.text
    r = client.get("/api/v1/public/schools?q=%00")
    assert r.status_code == 422, r.text
    r = client.get("/api/v1/claims/abc%00def")
    assert r.status_code == 422 and _fields(r) == {"path.token"}, r.text
    r = client.post("/api/v1/schools", headers=h, json={"name_zh": "甲\x00", "name_en": "A"})
    assert r.status_code == 422 and _fields(r) == {"name_zh"}, r.text
    r = client.post("/api/v1/auth/token", json={"username": "dip\x00", "password": "x"})
    assert r.status_code == 422 and _fields(r) == {"username"}, r.text
    client.get("/login")
    form = {"username": "d\x00p", "password": "x", "csrf_token": client.cookies.get("kitrun_csrf")}
    r = client.post("/login", data=form)
    assert r.status_code == 422, r.text
    # a backslash followed by "u0000" is text, not a NUL
    r = client.post("/api/v1/schools", headers=h, json={"name_zh": "甲\\u0000", "name_en": "A"})
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------- body and image limits


def test_a_json_body_over_1_mib_answers_413_in_the_error_shape(client):  # noqa: ANN001
    big = b'{"username": "' + b"a" * (1024 * 1024) + b'", "password": "x"}'
    r = client.post("/api/v1/auth/token", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and _error(r)["code"] == "too_large", r.text

    def chunks():  # no Content-Length: counted as it streams
        yield b'{"username": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'", "password": "x"}'

    r = client.post(
        "/api/v1/auth/token", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and _error(r)["code"] == "too_large", r.text


def test_an_upload_has_its_own_larger_limit(client):  # noqa: ANN001
    from app.schools.service import MAX_SCHOOLS_CSV_BYTES

    h = api_headers(client)
    note = "n" * 5000  # a column the import ignores, to pass 1 MiB with few schools
    csv = "name_zh,name_en,note\n" + "".join(f"学校{i},School {i},{note}\n" for i in range(220))
    assert 1024 * 1024 < len(csv.encode()) < MAX_SCHOOLS_CSV_BYTES  # over JSON's, under its own
    r = client.post("/api/v1/schools/import", headers=h, files={"file": ("s.csv", csv.encode())})
    assert r.status_code == 200, r.text[:500]
    r = client.post(
        "/api/v1/schools/import",
        headers=h,
        files={"file": ("s.csv", b"name_zh,name_en\n" + b"x" * (MAX_SCHOOLS_CSV_BYTES + 10**5))},
    )
    assert r.status_code == 413 and _error(r)["code"] == "too_large", r.text[:300]


def _png_header(width: int, height: int) -> bytes:
    """A PNG's signature, header and an empty data chunk: enough for Pillow's lazy open to
    know its size (a real 14000 × 14000 file takes seconds to write)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def test_a_huge_image_is_refused_before_decoding(client):  # noqa: ANN001
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        w = pf.world(s)
    login(client, "vol")
    r = client.post(
        f"/scan/{w.point.id}/photo",
        data={"nonce": "big", "csrf_token": client.cookies.get("kitrun_csrf")},
        files={"photo": ("big.png", _png_header(14000, 14000), "image/png")},
    )
    assert r.status_code == 413 and "50" in r.text, r.text[:300]


def test_a_blank_name_stored_before_the_rules_still_lists(client, session):  # noqa: ANN001
    """Rows written before names had to be visible are shown as they are, not a 500."""
    from sqlalchemy import text

    session.execute(
        text(
            "INSERT INTO school (name_zh, name_en, city, email_domains, in_district) "
            "VALUES (:zh, :en, '', '', true)"
        ),
        {"zh": "\t", "en": "\u3000"},
    )
    session.commit()
    r = client.get("/api/v1/schools", headers=f.api_headers(client))
    assert r.status_code == 200, r.text
    assert "\t" in [s["name_zh"] for s in r.json()["items"]]
