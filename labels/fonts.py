"""Find and register a CJK TrueType font once per process (embedded as a subset)."""

import logging
import os
import threading
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

ENV_VAR = "KITRUN_CJK_FONT"
DEBIAN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
FALLBACK_CID = "STSong-Light"


@dataclass(frozen=True)
class Fonts:
    """Registered font names: `text` for all text (CJK and Latin), `mono` for short codes."""

    text: str
    mono: str
    path: str | None  # None: the non-embedded CID fallback

    @property
    def embedded(self) -> bool:
        return self.path is not None


_lock = threading.Lock()
_registered: dict[str | None, Fonts] = {}


def _package_font() -> Path | None:
    try:
        base = resources.files("paperang_p2_fonts_cjk")
    except ModuleNotFoundError:
        return None
    candidate = base / "fonts" / "wqy-microhei.ttc"
    return Path(str(candidate)) if candidate.is_file() else None


def candidate_paths(path: str | os.PathLike[str] | None = None) -> list[Path]:
    """Font files to try, in order: argument, $KITRUN_CJK_FONT, PyPI package, Debian fonts."""
    found: list[Path] = []
    for explicit in (path, os.environ.get(ENV_VAR)):
        if explicit:
            if not Path(explicit).is_file():
                log.warning("CJK font %s does not exist; trying the next one", explicit)
            found.append(Path(explicit))
    packaged = _package_font()
    if packaged:
        found.append(packaged)
    found.extend(Path(p) for p in DEBIAN_FONTS)
    return found


def _register_ttf(path: Path, index: int) -> Fonts:
    text = f"KitrunCJK{index}"
    pdfmetrics.registerFont(TTFont(text, str(path), subfontIndex=0))
    mono = "Courier-Bold"
    if path.suffix.lower() in (".ttc", ".otc"):
        # wqy-microhei.ttc carries a monospaced face second: embedded and readable for codes.
        try:
            face = TTFont(f"KitrunCJKMono{index}", str(path), subfontIndex=1)
        except Exception:  # a TTC without a second face: use Courier for codes
            face = None
        if face is not None and b"Mono" in face.face.name:
            pdfmetrics.registerFont(face)
            mono = face.fontName
    return Fonts(text=text, mono=mono, path=str(path))


def cjk_fonts(path: str | os.PathLike[str] | None = None) -> Fonts:
    """Register (once) and return the CJK fonts, searching `candidate_paths(path)`."""
    key = str(path) if path else None
    with _lock:
        if key in _registered:
            return _registered[key]
        fonts = None
        for candidate in candidate_paths(path):
            if not candidate.is_file():
                continue
            try:
                fonts = _register_ttf(candidate, len(_registered))
                break
            except Exception as exc:  # e.g. CFF outlines (Noto CJK): try the next one
                log.warning("cannot use CJK font %s: %s", candidate, exc)
        if fonts is None:
            warnings.warn(
                f"no CJK TrueType font found (set {ENV_VAR}); falling back to the "
                f"non-embedded {FALLBACK_CID}, which may print blank without CJK fonts",
                RuntimeWarning,
                stacklevel=2,
            )
            pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID))
            fonts = Fonts(text=FALLBACK_CID, mono="Courier-Bold", path=None)
        _registered[key] = fonts
        return fonts
