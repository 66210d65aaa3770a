"""Run a coroutine from a sync test."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor


def run(coroutine: Coroutine):  # noqa: ANN201
    """`asyncio.run` in a thread of its own: the Playwright tests leave an event loop running in
    the main thread, where `asyncio.run` refuses to start another."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
