"""Helpers to fire many requests at a live server at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx


def token(server_url: str, server_cli, username: str, role: str = "diplomat") -> dict:  # noqa: ANN001
    """Create a user with the kitrun command and return bearer headers for it."""
    out = server_cli(
        "user", "create", "--username", username, "--role", role, "--password", "live-password-1"
    )
    assert out.returncode == 0, out.stderr
    r = httpx.post(
        f"{server_url}/api/v1/auth/token",
        json={"username": username, "password": "live-password-1"},
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def burst(n: int, make_request: Callable[[httpx.Client, int], httpx.Response]) -> list:
    """Run n requests from n threads released together; return the responses in order."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        with httpx.Client(timeout=60) as c:
            barrier.wait()
            try:
                results[i] = make_request(c, i)
            except httpx.HTTPError as exc:  # keep the failure visible in the results
                results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
