"""Route sheets: 200 stops over many pages, every QR decodes, page x of y, the map."""

import dataclasses
from pathlib import Path

import pytest
import zxingcpp
from labels_helpers import darkest, pdf_fonts, pdf_text, pixel_box, rasterise

from labels import LabelError, Rect, RouteLayout, render_route_sheets, sample_route
from labels.route import MARGIN
from labels.routemap import nice_km, project_route

DPI = 200


@pytest.fixture(scope="module")
def route(tmp_path_factory):
    sheet = sample_route(200, vehicles=2)
    layout = RouteLayout()
    pdf = render_route_sheets(sheet, layout=layout)
    tmp = tmp_path_factory.mktemp("route")
    return sheet, layout, pdf, tmp


@pytest.mark.slow
def test_every_stop_qr_decodes_where_it_was_placed(route) -> None:
    sheet, layout, pdf, tmp = route
    pages = rasterise(pdf, tmp, DPI)
    assert len(pages) == layout.pages >= 10
    page_h = pages[0].height * 72 / DPI
    tokens = [s.token for v in sheet.vehicles for s in v.stops]
    assert [q.token for q in layout.qrs] == tokens  # table order is stop order
    for q in layout.qrs:
        box = pixel_box(Rect(q.x, q.y, q.size, q.size), page_h, DPI)
        results = zxingcpp.read_barcodes(
            pages[q.page - 1].crop(box), formats=zxingcpp.BarcodeFormat.QRCode
        )
        assert [r.text for r in results] == [q.token], q


def test_page_x_of_y_header_repeat_and_chinese(route) -> None:
    sheet, layout, pdf, tmp = route
    texts = pdf_text(pdf, tmp)
    assert len(texts) == layout.pages
    for number, text in enumerate(texts, start=1):
        assert f"page {number} of {layout.pages}" in text
        assert "Address" in text and "Arrival" in text  # header row on every page
    whole = "".join(texts)
    for vehicle in sheet.vehicles:
        assert vehicle.driver in whole
        for stop in vehicle.stops:
            assert stop.name.split()[0] in whole  # the Chinese name
    # The second vehicle starts on a fresh page, with its own header.
    starts = [i for i, t in enumerate(texts) if "Planned" in t]
    assert len(starts) == 2 and starts[0] == 0
    for row in pdf_fonts(pdf, tmp):
        assert (row[-5], row[-4]) == ("yes", "yes"), row


def test_long_addresses_wrap_inside_the_page(tmp_path: Path) -> None:
    sheet = sample_route(2)
    vehicle = sheet.vehicles[0]
    zh = "北京市朝阳区建国路" + "八十八号院现代城南区十五号楼二单元" * 6
    en = "Building 5, Unit 2, enter through the east courtyard gate, ring twice, " * 4
    stops = [
        dataclasses.replace(vehicle.stops[0], address=zh),
        dataclasses.replace(vehicle.stops[1], address=zh + " " + en, notes=en),
    ]
    vehicle = dataclasses.replace(vehicle, stops=stops)
    pdf = render_route_sheets(dataclasses.replace(sheet, vehicles=[vehicle]))
    pages = rasterise(pdf, tmp_path, 100)
    margin = round(MARGIN / 72 * 100) - 2
    for page in pages:  # nothing runs off to the right of the table
        assert darkest(page, (page.width - margin, 0, page.width, page.height)) >= 200
    text = "".join(pdf_text(pdf, tmp_path))
    assert "ring twice" in text
    assert "八十八号院" in text


def test_map_shows_every_stop_inside_its_frame(route) -> None:
    sheet, layout, _, _ = route
    assert len(layout.maps) == len(sheet.vehicles)
    for (page, x, y, projection), vehicle in zip(layout.maps, sheet.vehicles, strict=True):
        assert page >= 1 and x > 0 and y > 0
        assert [seq for seq, _, _ in projection.stops] == [s.seq for s in vehicle.stops]
        for _, px, py in [(0, *projection.depot), *projection.stops]:
            assert 0 < px < projection.width and 0 < py < projection.height


def test_projection_keeps_aspect_north_up_and_scale() -> None:
    sheet = sample_route(4)
    vehicle = sheet.vehicles[0]
    north = dataclasses.replace(vehicle.stops[0], lat=sheet.depot_lat + 0.09, lon=sheet.depot_lon)
    east = dataclasses.replace(vehicle.stops[1], lat=sheet.depot_lat, lon=sheet.depot_lon + 0.1)
    v = dataclasses.replace(vehicle, stops=[north, east])
    p = project_route(sheet, v, 400, 300)
    (_, nx, ny), (_, ex, ey) = p.stops
    dx, dy = p.depot
    assert ny > dy and nx == pytest.approx(dx)  # north is up
    assert ex > dx and ey == pytest.approx(dy)  # east is right
    # 0.09 deg of latitude is ~10.0 km; equirectangular distances agree with the scale.
    assert (ny - dy) / p.pt_per_km == pytest.approx(10.0, rel=0.01)


@pytest.mark.parametrize(("target", "nice"), [(0.7, 0.5), (1, 1), (3.3, 2), (7, 5), (12, 10)])
def test_scale_bar_is_a_round_number(target: float, nice: float) -> None:
    assert nice_km(target) == pytest.approx(nice)


def test_letter_paper(tmp_path: Path) -> None:
    layout = RouteLayout()
    pdf = render_route_sheets(sample_route(12), pagesize="Letter", layout=layout)
    texts = pdf_text(pdf, tmp_path)
    assert f"page 1 of {layout.pages}" in texts[0]
    page = rasterise(pdf, tmp_path, 72)[0]
    assert page.size == (612, 792)


def test_idle_vehicle_gets_no_sheet() -> None:
    sheet = sample_route(5, vehicles=2)
    idle = dataclasses.replace(sheet.vehicles[1], stops=[])
    layout = RouteLayout()
    render_route_sheets(
        dataclasses.replace(sheet, vehicles=[sheet.vehicles[0], idle]), layout=layout
    )
    assert len(layout.maps) == 1


def test_run_without_stops_or_vehicles() -> None:
    sheet = sample_route(3)
    no_vehicles = dataclasses.replace(sheet, vehicles=[])
    with pytest.raises(LabelError, match="has no vehicles"):
        render_route_sheets(no_vehicles)
    idle = dataclasses.replace(sheet, vehicles=[dataclasses.replace(sheet.vehicles[0], stops=[])])
    with pytest.raises(LabelError, match="has no stops"):
        render_route_sheets(idle)
    with pytest.raises(LabelError, match="unknown page size 'A5'"):
        render_route_sheets(sheet, pagesize="A5")
