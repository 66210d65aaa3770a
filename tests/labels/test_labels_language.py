"""One language a document (the caller's words), wrapped contents, symmetric 5160 margins."""

import dataclasses
from pathlib import Path

import zxingcpp
from labels_helpers import pdf_text, pixel_box, rasterise
from reportlab.lib.units import inch

from labels import (
    FORMATS,
    CalibrationTexts,
    LabelData,
    RouteTexts,
    cell_rect,
    qr_rect,
    render_calibration,
    render_labels,
    render_route_sheets,
    sample_labels,
    sample_route,
)
from labels.text import wrap_text

ZH_ROUTE = RouteTexts(
    date="日期", driver="司机", vehicle="车辆", depot="出发点", stops="站点", kits="物资包",
    kits_value="{kits}（容量 {capacity}）", distance="里程", planned="计划用时",
    hours="{hours} 小时", arrival="到达", name_phone="姓名 / 电话", address="地址",
    notes="备注", qr="二维码（签收凭证）", sign="完成 / 签名", page="第 {page} 页，共 {pages} 页",
    north="北", no_phone="无电话", title="路线单 {run}",
)  # fmt: skip
ENGLISH_HEADINGS = ("Arrival", "Address", "Driver", "Vehicle", "Notes", "Done", "page 1 of")
CHINESE_HEADINGS = ("到达", "地址", "司机", "车辆", "备注", "完成", "第 1 页")
SHOTS = Path("/tmp/shots17")


def _flat(text: str) -> str:
    return "".join(text.split())


def _one_language_route(stops: int = 6):  # noqa: ANN202
    """A sample run with names and places in one script, so headings alone decide the test."""
    sheet = sample_route(stops)
    vehicles = [
        dataclasses.replace(
            v,
            driver="Wang Gang",
            stops=[dataclasses.replace(s, notes="") for s in v.stops],
        )
        for v in sheet.vehicles
    ]
    return dataclasses.replace(sheet, depot_name="Depot East", vehicles=vehicles)


def test_route_sheet_headings_in_the_callers_language_only(tmp_path) -> None:  # noqa: ANN001
    sheet = _one_language_route()
    zh = _flat("".join(pdf_text(render_route_sheets(sheet, texts=ZH_ROUTE), tmp_path, "zh")))
    en = _flat("".join(pdf_text(render_route_sheets(sheet), tmp_path, "en")))
    for word in CHINESE_HEADINGS:
        assert _flat(word) in zh and _flat(word) not in en, word
    for word in ENGLISH_HEADINGS:
        assert _flat(word) in en and _flat(word) not in zh, word


def test_route_sheet_shows_every_stops_phone(tmp_path) -> None:  # noqa: ANN001
    sheet = sample_route(12)
    v = sheet.vehicles[0]
    no_phone = dataclasses.replace(v.stops[3], phone="")
    stops = [*v.stops[:3], no_phone, *v.stops[4:]]
    sheet = dataclasses.replace(sheet, vehicles=[dataclasses.replace(v, stops=stops)])
    text = _flat("".join(pdf_text(render_route_sheets(sheet, texts=ZH_ROUTE), tmp_path)))
    for stop in stops:
        if stop.phone:
            assert _flat(stop.phone) in text, stop.phone
    assert "(无电话)" in text  # a stop without a phone says so, it is not a blank cell


def test_calibration_notes_in_the_callers_language(tmp_path) -> None:  # noqa: ANN001
    zh = CalibrationTexts(
        title="校准页：{format}",
        advice="请按 100% 打印（实际尺寸，不缩放）：每个边框都应与标签边缘重合。标尺：50 毫米。",
        description="Avery L7160：A4，3 × 7 张 63.5 × 38.1 毫米标签",
    )
    text = _flat("".join(pdf_text(render_calibration("L7160", texts=zh), tmp_path)))
    assert "校准页" in text and "实际尺寸" in text
    assert "Calibration" not in text and "Print at" not in text
    english = _flat("".join(pdf_text(render_calibration("L7160"), tmp_path, "en")))
    assert "Calibrationpage" in english and "校准" not in english


LONG_CONTENTS = (
    "Kit B ×1 · surgical masks ×20 · hand sanitiser gel ×1 · antigen rapid tests ×10 · "
    "vitamin C tablets ×30 · digital thermometer ×1 · paracetamol 500 mg ×12 · "
    "oral rehydration salts ×6 · instruction leaflet ×1"
)


def test_thermal_label_wraps_long_contents_and_qr_decodes(tmp_path) -> None:  # noqa: ANN001
    label = dataclasses.replace(sample_labels(1)[0], contents=LONG_CONTENTS)
    pdf = render_labels([label], "thermal-4x6")
    text = pdf_text(pdf, tmp_path)[0]
    assert "…" not in text
    words = _flat(text)
    for word in LONG_CONTENTS.split():
        assert word in words, word
    fmt = FORMATS["thermal-4x6"]
    [page] = rasterise(pdf, tmp_path, dpi=300)
    crop = page.crop(pixel_box(qr_rect(fmt, cell_rect(fmt, 1)), fmt.page_h, 300))
    assert [r.text for r in zxingcpp.read_barcodes(crop)] == [label.token]
    if SHOTS.is_dir():
        page.save(SHOTS / "label-thermal-wrapped.png")


def test_wrap_text_keeps_every_word_and_ellipsises_only_past_the_last_line() -> None:
    from labels import cjk_fonts

    font = cjk_fonts().text
    lines, size = wrap_text(LONG_CONTENTS, font, 12, 6, 250, 6)
    assert " ".join(lines).split() == LONG_CONTENTS.split() and size == 12
    cut, _ = wrap_text(LONG_CONTENTS * 5, font, 12, 6, 250, 2)
    assert len(cut) == 2 and cut[-1].endswith("…")
    cjk, _ = wrap_text("北京市海淀区中关村大街二十七号院五号楼二单元三层东侧", font, 12, 12, 60, 8)
    assert "".join(cjk) == "北京市海淀区中关村大街二十七号院五号楼二单元三层东侧"


def test_5160_margins_are_symmetric_per_the_avery_spec() -> None:
    fmt = FORMATS["5160"]
    first, last = cell_rect(fmt, 1), cell_rect(fmt, fmt.cols)
    left = first.x
    right = fmt.page_w - (last.x + last.w)
    # Avery 5160: 3 columns of 2.625" with 0.125" gutters on 8.5": 0.1875" each side.
    assert abs(left - 0.1875 * inch) < 0.01 and abs(right - 0.1875 * inch) < 0.01
    bottom = cell_rect(fmt, fmt.cells)
    assert abs(fmt.top - bottom.y) < 0.01  # top and bottom margins equal too (0.5")


def test_5160_label_content_has_equal_margins_left_and_right(tmp_path) -> None:  # noqa: ANN001
    """The QR's white quiet zone on the left is matched on the right by the text's inset."""
    label = LabelData(
        "A" * 22, "ABCD-EFGHJ", "欧阳静怡", "OUYANG JINGYI WITH A VERY LONG PASSPORT NAME",
        "Beijing No. 1 Middle School, an extremely long English school name",
        "Run R-01 · stop 12", "Kit A ×1 · masks ×10 · thermometer ×1 · tests ×5",
    )  # fmt: skip
    pdf = render_labels([label], "5160")
    fmt = FORMATS["5160"]
    [page] = rasterise(pdf, tmp_path, dpi=300)
    cell = cell_rect(fmt, 1)
    crop = page.crop(pixel_box(cell, fmt.page_h, 300)).point(lambda v: 255 if v < 160 else 0)
    left_px, _, right_px, _ = crop.getbbox()
    mm_per_px = 25.4 / 300
    left, right = left_px * mm_per_px, (crop.width - right_px) * mm_per_px
    assert abs(left - right) < 0.6, (left, right)  # was 3.5 mm against 0.8 mm
