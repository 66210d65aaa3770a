"""Label tests rasterise with poppler; fail loudly, not silently, when it is missing."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for labels_helpers, without a package

from labels_helpers import require_poppler  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _poppler() -> None:
    require_poppler()
