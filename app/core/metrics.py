"""Prometheus metrics, served at /metrics (routes/api/metrics.py) to allowed callers only.

Counted where things happen: request latency by method, route template and status class (the
request middleware, routes/http/context.py), claims by outcome (app/claims/fast.py) and scans by
result (app/pickup/redeem.py), mails whose sending failed (app/core/mail.py). Read from the
database at scrape time, a few aggregate counts with a short timeout (`DatabaseGauges`): print
jobs by status (queue depth, failures) and the mails in the outbox. No label carries a path, a
token or anything about a person: the route is its template ("/s/{token}"), and every label has
a bounded set of values.

Under `kitrun serve` (gunicorn, several worker processes) the counts live in files of one
directory (prometheus-client's multiprocess mode, `use_directory`, called by the master before
it forks) and a scrape adds up every worker's, including workers that died since; with one
process (tests, `--reload`) they stay in memory.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
from collections.abc import Iterator
from hmac import compare_digest
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.core.config import Settings

log = logging.getLogger("kitrun.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # every Prometheus reads it
QUERY_TIMEOUT_MS = 2000  # a scrape never holds a database connection longer
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# The metrics of this process, in memory (one process) or in the directory (multiprocess).
REGISTRY = CollectorRegistry(auto_describe=True)
REQUEST_SECONDS = Histogram(
    "kitrun_http_request_duration_seconds",
    "Time from a request's arrival to its answer, by method, route template and status class.",
    ("method", "route", "status"),
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
CLAIMS = Counter(
    "kitrun_claims",
    "Claims submitted, by outcome: the new claim's status, or the refusal's error code.",
    ("outcome",),
    registry=REGISTRY,
)
SCANS = Counter(
    "kitrun_scans",
    "Scans answered, by result (ok, already_handed_over, not_ready, ...; a retried nonce "
    "counts again).",
    ("result",),
    registry=REGISTRY,
)
MAIL_FAILED = Counter(
    "kitrun_mail_failed",
    "Mails whose sending failed, by where they went (smtp: the server down or refusing).",
    ("via",),  # (every metric has labels: values are made in the worker, after the fork)
    registry=REGISTRY,
)

_request_children: dict[tuple[str, str, int], object] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """One answered request (the hot path: the labelled child is looked up once per key)."""
    key = (method, route, status // 100)
    child = _request_children.get(key)
    if child is None:
        child = REQUEST_SECONDS.labels(
            method if method in METHODS else "other", route, f"{status // 100}xx"
        )
        _request_children[key] = child
    child.observe(seconds)


_claim_children: dict[str, object] = {}
_scan_children: dict[str, object] = {}


def claimed(outcome: str) -> None:
    """A claim decided: `outcome` is its status (submitted, allocated, waitlisted, ...) or the
    code of its refusal (rate_limited, not_eligible, ...)."""
    child = _claim_children.get(outcome)
    if child is None:
        child = _claim_children[outcome] = CLAIMS.labels(outcome)
    child.inc()


def scanned(answer: dict) -> dict:
    """A scan answered (counted by its `result`); returns the answer."""
    result = answer.get("result", "unknown")
    child = _scan_children.get(result)
    if child is None:
        child = _scan_children[result] = SCANS.labels(result)
    child.inc()
    return answer


# ---------------------------------------------------------------- several processes


def directory(settings: Settings) -> Path:
    """Where the worker processes keep their counts: KITRUN_METRICS_DIR, or data_dir/metrics."""
    return settings.metrics_dir or settings.data_dir / "metrics"


def use_directory(path: Path) -> None:
    """Before forking the workers (the gunicorn master): count into files under `path`, emptied
    first (the counts of a previous run are not this one's)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)
    # prometheus-client picks its value class when first imported, which may have been before
    # the directory was known; no labelled value exists yet in the master.
    values.ValueClass = values.get_value_class()
    for children in (_request_children, _claim_children, _scan_children):
        children.clear()


def process_dead(pid: int) -> None:
    """A worker exited (gunicorn's child_exit): its files stay, its counts still add up."""
    if os.environ.get(MULTIPROC_ENV):
        mark_process_dead(pid)


# ---------------------------------------------------------------- the scrape


class DatabaseGauges:
    """Aggregates read at scrape time: print jobs by status, mails in the outbox."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "kitrun_metrics_database_up", "1 when the scrape could read the database's counts."
        )
        jobs = GaugeMetricFamily(
            "kitrun_print_jobs",
            "Print jobs by status: pending and running are the queue, failed the failures.",
            labels=("status",),
        )
        try:
            counts = self._print_jobs()
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("metrics: database counts not read: %s", type(exc).__name__)
            up.add_metric((), 0)
        else:
            up.add_metric((), 1)
            for status in ("pending", "running", "failed"):
                jobs.add_metric((status,), counts.get(status, 0))
            yield jobs
        yield up
        outbox = GaugeMetricFamily(
            "kitrun_mail_outbox",
            "Mails waiting in the outbox folder (written there when no SMTP server is set).",
        )
        outbox.add_metric((), self._outbox_files())
        yield outbox

    def _print_jobs(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"SET LOCAL statement_timeout = {QUERY_TIMEOUT_MS}"))
            rows = conn.execute(
                text(
                    "SELECT status, count(*) FROM print_job "
                    "WHERE status IN ('pending', 'running', 'failed') GROUP BY status"
                )
            ).all()
            conn.rollback()
        return {status: n for status, n in rows}

    def _outbox_files(self) -> int:
        outbox = self.settings.outbox_dir
        return sum(1 for _ in outbox.glob("*.eml")) if outbox.is_dir() else 0


class _ThisProcess:
    def collect(self):  # noqa: ANN201
        return REGISTRY.collect()


def exposition(engine: Engine, settings: Settings) -> bytes:
    """The scrape's text: the counts of every worker (or of this process), then the gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseGauges(engine, settings))
    return generate_latest(registry)


def allowed(settings: Settings, client: str | None, authorization: str | None) -> bool:
    """Whether a caller may read the metrics: the bearer token KITRUN_METRICS_TOKEN (when set),
    or a client address within KITRUN_METRICS_ALLOW (the client as resolved behind the
    trusted proxies)."""
    token = settings.metrics_token
    if token and authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and compare_digest(given.strip().encode(), token.encode()):
            return True
    try:
        address = ipaddress.ip_address(client or "")
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in settings.metrics_allow_list)
