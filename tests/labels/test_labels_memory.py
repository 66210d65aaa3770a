"""10,000 labels in one PDF: peak memory stays under 150 MB (measured in a fresh process)."""

import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

LIMIT_MB = 150

SCRIPT = """
import resource, sys
from labels import render_labels, sample_labels
labels = sample_labels(10_000)
with open(sys.argv[1], "wb") as out:
    render_labels(labels, "L7160", out=out)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
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
    peak_mb = int(run.stdout.strip()) / 1024  # Linux reports ru_maxrss in KiB
    assert peak_mb < LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"
    reader = PdfReader(target)
    assert len(reader.pages) == -(-10_000 // 21)
