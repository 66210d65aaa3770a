"""QR encoding choices, text fitting and CJK font lookup."""

import base64
import secrets
import warnings
from pathlib import Path

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from reportlab.pdfbase.pdfmetrics import stringWidth

from labels import fonts as fonts_mod
from labels.data import SHORT_CODE_ALPHABET, sample_labels
from labels.qr import QUIET_ZONE, qr_modules, runs_ops, version_for
from labels.text import ELLIPSIS, fit_text


def _image(modules: list[list[bool]], scale: int = 6) -> Image.Image:
    n = len(modules) + 2 * QUIET_ZONE
    img = Image.new("L", (n, n), 255)
    for r, row in enumerate(modules):
        for c, dark in enumerate(row):
            if dark:
                img.putpixel((c + QUIET_ZONE, r + QUIET_ZONE), 0)
    return img.resize((n * scale, n * scale), Image.NEAREST)


def test_tokens_fit_version_2_at_level_m() -> None:
    assert version_for(22) == 2
    assert len(qr_modules(secrets.token_urlsafe(16))) == 25


@pytest.mark.parametrize("mask", [2, None, 0, 7])
def test_fixed_or_searched_mask_decodes(mask: int | None) -> None:
    for _ in range(20):
        token = secrets.token_urlsafe(16)
        results = zxingcpp.read_barcodes(
            _image(qr_modules(token, mask=mask)), formats=zxingcpp.BarcodeFormat.QRCode
        )
        assert [r.text for r in results] == [token]


def test_longer_data_gets_a_larger_version() -> None:
    data = "https://kitrun.example/claim/" + secrets.token_urlsafe(16)
    modules = qr_modules(data)
    assert len(modules) > 25
    assert (
        zxingcpp.read_barcodes(_image(modules), formats=zxingcpp.BarcodeFormat.QRCode)[0].text
        == data
    )


def test_runs_merge_horizontally_and_cover_exactly_the_dark_modules() -> None:
    modules = qr_modules(secrets.token_urlsafe(16))
    n = len(modules)
    covered = [[False] * n for _ in range(n)]
    ops = runs_ops(modules).splitlines()
    for op in ops:
        x, y, w, h, name = op.split()
        assert name == "re" and h == "1"
        for c in range(int(x), int(x) + int(w)):
            covered[n - 1 - int(y)][c] = True
    assert covered == modules
    dark = sum(map(sum, modules))
    assert len(ops) < dark / 1.5  # runs merged, not one rectangle per module


def test_sample_tokens_and_codes_look_real() -> None:
    labels = sample_labels(50)
    for label in labels:
        assert len(label.token) == 22
        assert len(base64.urlsafe_b64decode(label.token + "==")) == 16
        code = label.short_code.replace("-", "")
        assert len(label.short_code) == 10 and set(code) <= set(SHORT_CODE_ALPHABET)
    assert len({label.token for label in labels}) == 50
    assert sample_labels(5) == sample_labels(5)  # deterministic previews


def test_fit_text_keeps_short_text() -> None:
    assert fit_text("  LI   Jingyi ", "Helvetica", 10, 6, 500) == ("LI Jingyi", 10)


def test_fit_text_shrinks_before_cutting() -> None:
    text = "Beijing No. 1 Middle School"
    width = stringWidth(text, "Helvetica", 10) * 0.8
    fitted, size = fit_text(text, "Helvetica", 10, 6, width)
    assert fitted == text and 7.5 <= size < 8.01


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet="北京市第一中学 abcXYZ0123-·", min_size=1, max_size=120),
    width=st.floats(min_value=5, max_value=300),
    size=st.floats(min_value=6, max_value=20),
)
def test_fit_text_never_exceeds_width(text: str, width: float, size: float) -> None:
    font = fonts_mod.cjk_fonts().text
    fitted, got = fit_text(text, font, size, 5, width)
    assert 5 <= got <= size
    assert stringWidth(fitted, font, got) <= width + 1e-6
    if fitted.endswith(ELLIPSIS) and fitted != " ".join(text.split()):
        assert got == 5
        assert " ".join(text.split()).startswith(fitted[:-1])


def test_font_search_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    explicit, env = tmp_path / "a.ttf", tmp_path / "b.ttc"
    monkeypatch.setenv(fonts_mod.ENV_VAR, str(env))
    paths = fonts_mod.candidate_paths(explicit)
    assert paths[:2] == [explicit, env]
    packaged = fonts_mod._package_font()
    assert packaged is not None and packaged.name == "wqy-microhei.ttc"
    assert paths[2] == packaged
    assert [str(p) for p in paths[3:]] == list(fonts_mod.DEBIAN_FONTS)


def test_registered_font_is_the_truetype_wqy() -> None:
    fonts = fonts_mod.cjk_fonts()
    assert fonts.embedded and fonts.path.endswith("wqy-microhei.ttc")
    assert fonts.mono != "Courier-Bold"  # the monospaced face of the same collection
    assert fonts_mod.cjk_fonts() is fonts  # registered once


def test_fallback_to_cid_font_warns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "none.ttf"
    monkeypatch.setattr(fonts_mod, "candidate_paths", lambda path=None: [missing])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fonts = fonts_mod.cjk_fonts(missing)
    assert fonts.text == fonts_mod.FALLBACK_CID and not fonts.embedded
    assert any("no CJK TrueType font" in str(w.message) for w in caught)


def test_cff_font_is_skipped_for_the_next_candidate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"OTTO" + b"\0" * 64)  # a CFF-flavoured header reportlab rejects
    good = fonts_mod._package_font()
    monkeypatch.setattr(fonts_mod, "candidate_paths", lambda path=None: [broken, good])
    fonts = fonts_mod.cjk_fonts(broken)
    assert fonts.path == str(good)
