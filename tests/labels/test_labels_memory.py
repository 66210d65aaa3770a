"""10,000 labels in one PDF: peak memory stays under 150 MB (measured in a fresh process)."""

import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.slow

LIMIT_MB = 150

SCRIPT = """
import sys
from labels import render_labels, sample_labels
labels = sample_labels(10_000)
with open(sys.argv[1], "wb") as out:
    render_labels(labels, "L7160", out=out)
# VmHWM is this process image's own peak (exec starts a new one); ru_maxrss would also count
# the parent's pages at fork time, i.e. the whole pytest process.
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(hwm.split()[1])
"""


def test_ten_thousand_labels_within_memory_bound(tmp_path: Path) -> None:
    target = tmp_path / "10k.pdf"
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    peak_mb = int(run.stdout.strip()) / 1024  # VmHWM is in KiB
    assert peak_mb < LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"
    reader = PdfReader(target)
    assert len(reader.pages) == -(-10_000 // 21)
