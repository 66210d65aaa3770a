"""`kitrun serve --workers N`: gunicorn's uvicorn workers, each with its own socket on the port
(app/server.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, LiveServer, free_port

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid and "resource_tracker" not in _cmdline(int(entry.name)):
                out.append(int(entry.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _sockets(pid: int, port: int, state: str) -> int:
    """How many TCP sockets on local `port` in `state` (01 established, 0A listening) the
    process holds (from /proc)."""
    inodes = set()
    try:
        fds = list((Path("/proc") / str(pid) / "fd").iterdir())
    except OSError:  # the process has just exited
        return 0
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == state and fields[9] in inodes:
            count += 1
    return count


def _wait(predicate, seconds: float = 30) -> bool:  # noqa: ANN001
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def two_workers(settings):  # noqa: ANN001, ANN201
    server = LiveServer(settings, workers=2)  # returns once one worker answers

    def both_listen() -> bool:
        workers = _children(server.proc.pid)
        return len(workers) == 2 and all(_sockets(p, server.port, "0A") for p in workers)

    assert _wait(both_listen)
    time.sleep(0.5)  # (listening comes just before the worker reports that it serves)
    yield server
    server.stop()


def test_connections_spread_over_both_workers(two_workers):
    workers = _children(two_workers.proc.pid)
    assert len(workers) == 2
    clients = [httpx.Client(base_url=two_workers.url) for _ in range(40)]
    try:
        for c in clients:  # each keeps its connection open
            assert c.get("/healthz").status_code == 200
        held = [_sockets(pid, two_workers.port, "01") for pid in workers]
        # with one shared socket the first worker to wake could take them all
        assert sum(held) == 40 and min(held) >= 5, held
    finally:
        for c in clients:
            c.close()


def test_a_worker_that_dies_is_replaced_and_the_port_keeps_answering(two_workers):
    first, second = _children(two_workers.proc.pid)
    os.kill(first, signal.SIGKILL)
    assert _wait(lambda: len(set(_children(two_workers.proc.pid)) - {first}) == 2)
    for _ in range(20):  # new connections each time: both sockets of the port take them
        assert httpx.get(two_workers.url + "/healthz").status_code == 200
    assert second in _children(two_workers.proc.pid)


def test_a_replacement_killed_while_it_starts_is_replaced_again(two_workers):
    """The old supervisor stopped the whole service here (exit 3, port closed)."""
    master = two_workers.proc.pid
    before = set(_children(master))
    os.kill(min(before), signal.SIGKILL)
    assert _wait(lambda: len(set(_children(master)) - before) == 1, 10)
    (replacement,) = set(_children(master)) - before
    os.kill(replacement, signal.SIGKILL)  # at once: it may not even listen yet
    for victim in sorted(set(_children(master)) - {replacement, replacement}):
        if victim not in before:
            os.kill(victim, signal.SIGKILL)  # and the next one, whatever its state
    assert _wait(lambda: len(_children(master)) == 2 and two_workers.proc.poll() is None, 20)
    assert _wait(lambda: all(_sockets(p, two_workers.port, "0A") for p in _children(master)))
    for _ in range(20):
        assert httpx.get(two_workers.url + "/healthz").status_code == 200
    assert two_workers.proc.poll() is None


def test_workers_stop_when_the_master_is_killed(two_workers):
    workers = _children(two_workers.proc.pid)
    os.kill(two_workers.proc.pid, signal.SIGKILL)
    assert _wait(lambda: not any(Path(f"/proc/{pid}/stat").exists() and
                                 Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
                                 for pid in workers), 15)  # fmt: skip


def test_stop_ends_every_worker(two_workers):
    workers = _children(two_workers.proc.pid)
    two_workers.proc.send_signal(signal.SIGTERM)
    assert two_workers.proc.wait(15) == 0
    assert _wait(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 10)


def test_a_worker_that_cannot_start_stops_the_server(tmp_path):
    env = {
        **os.environ,
        "KITRUN_DATABASE_URL": "no-such-driver://nowhere",
        "KITRUN_DATA_DIR": str(tmp_path),
        "KITRUN_SECRET_KEY": "test-secret",
    }
    port = str(free_port())
    proc = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", port, "--workers", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "could not start" in proc.stderr
