"""Benchmark the label renderer: labels per second and peak RSS, vs reportlab's QrCodeWidget.

Run: .venv/bin/python bench/labels.py [--n 10000] [--widget-n 500]
Each case runs in a fresh subprocess, so its peak RSS (ru_maxrss) is its own.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file is named like the package: keep bench/ off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _widget_draw_qr(canvas, data: str, x: float, y: float, total: float) -> float:
    """The same QR square drawn with reportlab's QrCodeWidget (the slow way)."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(data, barLevel="M", barBorder=4)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(total, total, transform=[total / (x1 - x0), 0, 0, total / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)
    return total / (y1 - y0)


def run_case(case: str, n: int, format_id: str) -> dict:
    import labels
    from labels import qr, sheet

    if case == "widget":
        sheet.draw_qr = _widget_draw_qr
    elif case == "automask":
        qr.qr_modules.__kwdefaults__ = {"mask": None}
    labels.cjk_fonts()  # registered once per process; not part of the per-label cost
    with tempfile.TemporaryFile() as out:
        if case == "route":
            route = labels.sample_route(n)
            start = time.perf_counter()
            labels.render_route_sheets(route, out=out)
        else:
            items = labels.sample_labels(n)
            start = time.perf_counter()
            labels.render_labels(items, format_id, out=out)
        seconds = time.perf_counter() - start
        size = out.tell()
    return {"case": case, "n": n, "seconds": seconds, "rss_mb": _rss_mb(), "bytes": size}


def _spawn(case: str, n: int, format_id: str) -> dict:
    cmd = [sys.executable, __file__, "--case", case, "--n", str(n), "--format", format_id]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=os.environ)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="labels for our renderer")
    parser.add_argument("--widget-n", type=int, default=500, help="labels for QrCodeWidget")
    parser.add_argument("--stops", type=int, default=200, help="stops on the route sheet")
    parser.add_argument("--format", default="L7160")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.n, args.format)))
        return

    print(f"kitrun labels benchmark: {args.format}, one process per case, single-threaded")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print(f"{'case':<44} {'labels':>7} {'seconds':>8} {'labels/s':>9} {'peak RSS':>9} {'PDF':>8}")
    cases = [
        ("ours", args.n, "ours: qrcode, fixed version+mask, one path"),
        ("automask", min(args.n, 2_000), "ours with qrcode's automatic mask search"),
        ("widget", args.widget_n, "reportlab QrCodeWidget (smaller count)"),
    ]
    for case, n, title in cases:
        r = _spawn(case, n, args.format)
        print(
            f"{title:<44} {n:>7} {r['seconds']:>8.2f} {n / r['seconds']:>9.0f} "
            f"{r['rss_mb']:>6.0f} MB {r['bytes'] / 1e6:>5.1f} MB"
        )
    print(
        f"\nQrCodeWidget was timed on {args.widget_n} labels (not {args.n}) to keep the run "
        "short;\nlabels/s is comparable, its peak RSS is for that smaller run."
    )
    r = _spawn("route", args.stops, args.format)
    print(
        f"\nroute sheet, {args.stops} stops (one vehicle, A4): {r['seconds']:.2f} s, "
        f"peak RSS {r['rss_mb']:.0f} MB, PDF {r['bytes'] / 1e6:.2f} MB"
    )


if __name__ == "__main__":
    main()
