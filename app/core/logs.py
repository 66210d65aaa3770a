"""Log lines: each carries the id of the request it belongs to; text or one JSON object a line.

The request id is a context variable set by the request middleware (routes/http/context.py):
every log call made while a request runs (on the event loop, or in a worker thread, which
anyio starts in a copy of the context) sees it. A filter on the handlers copies it onto each
record, so the loggers of gunicorn and uvicorn get it as ours do ("-" outside a request).
KITRUN_LOG_FORMAT=json writes one JSON object per line (time, level, logger, message,
request_id) for a log collector.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str] = ContextVar("kitrun_request_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
FORMATS = ("text", "json")
# Loggers with handlers of their own (gunicorn's, set up by gunicorn; uvicorn's, set up by
# `--reload`'s uvicorn): their lines go through our root handler instead, in our format.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "gunicorn.error", "gunicorn.access")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id (on a handler: every record it writes,
    whichever logger it comes from)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, and
    the traceback as `exc` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(fmt: str) -> logging.Formatter:
    """The formatter of KITRUN_LOG_FORMAT (`text` or `json`)."""
    if fmt not in FORMATS:
        raise ValueError(f"KITRUN_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def style(handlers: list[logging.Handler], fmt: str) -> None:
    """Give `handlers` our format and the request id (gunicorn's own handlers, app/server.py)."""
    for handler in handlers:
        handler.setFormatter(formatter(fmt))
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())


def configure(fmt: str = "text", level: str | int = logging.INFO) -> None:
    """The root handler on stderr in format `fmt`; the servers' loggers write through it."""
    handler = logging.StreamHandler(sys.stderr)
    style([handler], fmt)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
