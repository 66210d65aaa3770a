"""Shared benchmark plumbing: a throw-away PostgreSQL database and a `kitrun serve` process."""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
SERVERS: dict[str, int] = {}  # base URL → pid of its `kitrun serve`


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def fresh_database(admin_url: str, **extra_env: str) -> Iterator[tuple[str, dict]]:
    """A new, migrated PostgreSQL database and the environment to reach it; dropped after."""
    name = f"kitrun_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(admin_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    data_dir = Path(f"/tmp/{name}")
    data_dir.mkdir()
    env = {
        **os.environ,
        "KITRUN_DATABASE_URL": url,
        "KITRUN_DATA_DIR": str(data_dir),
        "KITRUN_SECRET_KEY": "bench-secret",
        "KITRUN_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    try:
        kitrun(env, "migrate")
        yield url, env
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def kitrun(env: dict, *args: str) -> subprocess.CompletedProcess:
    """Run the kitrun command against the benchmark's database."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@contextmanager
def serve(env: dict, workers: int = 2) -> Iterator[str]:
    """`kitrun serve --workers N` on a free port; yields its base URL once /healthz answers."""
    port = free_port()
    log = (Path(env["KITRUN_DATA_DIR"]) / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    SERVERS[base] = proc.pid
    try:
        for _ in range(150):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out.append(int(entry.name))
    return out


class CpuMeter:
    """Where the CPU of one load phase went: the server's processes, the PostgreSQL backends
    of the benchmark's database, and the load generator (this process's finished children).
    Linux only (/proc); each figure is CPU seconds over the phase."""

    def __init__(self, base: str, db_url: str) -> None:
        self.server_pid = SERVERS[base]
        self.db_url = db_url

    def _snapshot(self) -> dict[str, dict[int, float]]:
        server = [self.server_pid, *_children(self.server_pid)]
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            backends = [
                pid
                for (pid,) in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            ]
        return {
            "server": {p: _cpu(p) for p in server},
            "postgres": {p: _cpu(p) for p in backends},
        }

    def __enter__(self) -> CpuMeter:
        self._start = self._snapshot()
        self._children_start = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._snapshot()
        self.seconds = {
            kind: sum(t - self._start[kind].get(p, 0.0) for p, t in end[kind].items())
            for kind in end
        }
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.seconds["load generator"] = (
            ru.ru_utime
            + ru.ru_stime
            - self._children_start.ru_utime
            - self._children_start.ru_stime
        )

    def per_request(self, requests: int) -> str:
        """'server 5.1 ms, postgres 1.2 ms, load generator 3.0 ms' of CPU per request."""
        return ", ".join(
            f"{kind} {secs / max(requests, 1) * 1000:.1f} ms" for kind, secs in self.seconds.items()
        )


def report_rounds(
    trivial_label: str,
    label: str,
    rounds: list[tuple[dict, CpuMeter, dict, CpuMeter]],
    *,
    target_ratio: float,
    target_p99_ms: float,
) -> None:
    """Print each round (the trivial endpoint, then the endpoint measured, back to back) and
    the median ratio: this machine's speed drifts between minutes, so the figures that matter
    are the ones taken side by side."""
    import statistics

    print(f"{'round':<7}{'endpoint':<34}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}  CPU per request")
    ratios, p99s = [], []
    for i, (trivial, trivial_cpu, main, main_cpu) in enumerate(rounds, 1):
        for name, r, cpu in ((trivial_label, trivial, trivial_cpu), (label, main, main_cpu)):
            print(
                f"{i:<7}{name:<34}{r['per_s']:>8.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}  "
                f"{cpu.per_request(r['requests'])}"
            )
        ratios.append(main["per_s"] / trivial["per_s"])
        p99s.append(main["p99_ms"])
        print(f"{'':<7}results: {main['results']}; ratio {ratios[-1]:.0%}")
    print(
        f"median of {len(rounds)} rounds: ratio {statistics.median(ratios):.0%} "
        f"(target ≥ {target_ratio:.0%}; rounds {', '.join(f'{r:.0%}' for r in ratios)}), "
        f"p99 {statistics.median(p99s):.0f} ms (target < {target_p99_ms:.0f} ms)"
    )


# A request of a closed-loop client: (client, its items, the index of this request, the shared
# job fields) -> the result key counted in the report (e.g. "ok", "allocated", "200").
Request = Callable[[httpx.Client, list, int, dict], str]


def healthz_request(c: httpx.Client, items: list, i: int, job: dict) -> str:
    """The trivial endpoint every benchmark compares with (it also queries the database)."""
    return str(c.get("/healthz").status_code)


def _load_process(
    url: str, request: Request, clients: list, job: dict, until: tuple[float, float], out: mp.Queue
) -> None:
    """One client process: a thread per simulated client, each sending its next request when
    the last one answered, from start_at for the given seconds."""
    start_at, seconds = until
    lat: list[float] = []
    results: dict[str, int] = {}
    lock = threading.Lock()

    def client(headers: dict, items: list) -> None:
        mine: list[float] = []
        seen: dict[str, int] = {}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
            c.get("/healthz")  # open the connection before the clock starts
            time.sleep(max(0.0, start_at - time.time()))  # one sleep: no CPU spent waiting
            i = 0
            while time.time() < start_at + seconds:
                t0 = time.perf_counter()
                try:
                    key = request(c, items, i, job)
                except IndexError:  # a short run would overstate speed: say so (closed_loop)
                    seen["ran out of items"] = 1
                    break
                mine.append(time.perf_counter() - t0)
                seen[key] = seen.get(key, 0) + 1
                i += 1
        with lock:
            lat.extend(mine)
            for k, v in seen.items():
                results[k] = results.get(k, 0) + v

    threads = [threading.Thread(target=client, args=c) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((lat, results))


def closed_loop(
    url: str,
    request: Request,
    clients: list[tuple[dict, list]],
    job: dict,
    seconds: float,
    processes: int,
) -> dict:
    """Run `clients` (each: its headers and the items it works through) as a closed loop spread
    over `processes` processes, so the load generator is not one GIL; requests/s, p50/p99 and
    the count of each result key."""
    out: mp.Queue = mp.Queue()
    until = (time.time() + 2.0, seconds)
    procs = [
        mp.Process(
            target=_load_process,
            args=(url, request, clients[p::processes], job, until, out),
        )
        for p in range(processes)
    ]
    for proc in procs:
        proc.start()
    lat: list[float] = []
    results: dict[str, int] = {}
    for _ in procs:
        part, res = out.get()
        lat.extend(part)
        for k, v in res.items():
            results[k] = results.get(k, 0) + v
    for proc in procs:
        proc.join()
    if "ran out of items" in results:
        raise SystemExit(
            f"{results['ran out of items']} clients ran out of items before the {seconds:.0f} s "
            f"were up ({results}): seed more (--claims / --students) or run fewer --seconds"
        )
    q = statistics.quantiles(sorted(lat), n=100)
    return {
        "requests": len(lat),
        "per_s": len(lat) / seconds,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "results": results,
    }
