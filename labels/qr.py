"""QR codes encoded with `qrcode` and drawn as one vector path of merged horizontal runs."""

from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError
from reportlab.pdfgen.canvas import Canvas

QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 asks
# Mask search (8 trial encodings plus penalty scoring) is ~90% of qrcode's encoding time.
# Any mask decodes; on random 22-char tokens mask 2 scores closest to the best one
# (mean penalty 470 vs 438 for the per-code best, measured over 200 tokens).
DEFAULT_MASK = 2
ERROR_LEVEL = ERROR_CORRECT_M


@lru_cache(maxsize=64)
def version_for(n_bytes: int, error_level: int = ERROR_LEVEL) -> int:
    """Smallest QR version holding `n_bytes` in byte mode (tokens share one length)."""
    probe = qrcode.QRCode(error_correction=error_level, border=0)
    probe.add_data(b"\xff" * n_bytes)
    probe.make(fit=True)
    return probe.version


def qr_modules(data: str, *, mask: int | None = DEFAULT_MASK) -> list[list[bool]]:
    """Module matrix of `data` (True is dark), without quiet zone; mask None searches all 8."""
    version = version_for(len(data.encode("utf-8")))
    code = qrcode.QRCode(version=version, error_correction=ERROR_LEVEL, border=0, mask_pattern=mask)
    code.add_data(data)
    try:
        code.make(fit=False)
    except DataOverflowError:  # cannot happen for byte-mode data; kept for safety
        code = qrcode.QRCode(error_correction=ERROR_LEVEL, border=0, mask_pattern=mask)
        code.add_data(data)
        code.make(fit=True)
    return code.modules


def runs_ops(modules: list[list[bool]]) -> str:
    """PDF `re` operators for the dark runs, in module units, y up, one line per run."""
    n = len(modules)
    ops = []
    append = ops.append
    for r, row in enumerate(modules):
        y = n - 1 - r
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                append(f"{start} {y} {c - start} 1 re")
            else:
                c += 1
    return "\n".join(ops)


def qr_size_for(total: float, data: str) -> tuple[float, int]:
    """(module size, modules across including quiet zone) for a QR fitting `total` points."""
    modules = 17 + 4 * version_for(len(data.encode("utf-8"))) + 2 * QUIET_ZONE
    return total / modules, modules


def draw_qr(canvas: Canvas, data: str, x: float, y: float, total: float) -> float:
    """Draw the QR of `data` in the square (x, y, total) incl. quiet zone; return module size."""
    matrix = qr_modules(data)
    module = total / (len(matrix) + 2 * QUIET_ZONE)
    ox = x + QUIET_ZONE * module
    oy = y + QUIET_ZONE * module
    # One filled path in a scaled frame: small integer operands keep the stream short, and a
    # single fill of the union leaves no anti-aliasing seams between rows.
    canvas.addLiteral(
        f"q {module:.4f} 0 0 {module:.4f} {ox:.3f} {oy:.3f} cm 0 g\n{runs_ops(matrix)}\nf Q"
    )
    return module
