"""structlog configuration, imported only when logging is switched on.

The CLI is quiet by default (its summary is the output) and logs to stderr with
``--verbose`` or ``OTA_LOG_LEVEL``; the Action always logs to stdout.  Commands call
:func:`get` and log events with their figures; when logging is off they get a null
logger, and structlog (about 80 ms of start-up) is never imported.

Format: ``OTA_LOG_FORMAT=json|console``; otherwise console in GitHub Actions or on a
terminal (structlog's JSON-when-not-a-TTY default would be unreadable in Actions logs),
JSON elsewhere.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Protocol, TextIO


class Logger(Protocol):
    def debug(self, event: str, **kw: Any) -> Any: ...
    def info(self, event: str, **kw: Any) -> Any: ...
    def warning(self, event: str, **kw: Any) -> Any: ...
    def error(self, event: str, **kw: Any) -> Any: ...


class _NullLogger:
    def _drop(self, event: str, **kw: Any) -> None:
        return None

    debug = info = warning = error = _drop


_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_logger: Logger = _NullLogger()


def choose_format(stream: TextIO) -> str:
    wanted = os.environ.get("OTA_LOG_FORMAT", "").strip().lower()
    if wanted in ("json", "console"):
        return wanted
    if os.environ.get("GITHUB_ACTIONS") == "true" or stream.isatty():
        return "console"
    return "json"


def configure(
    *,
    stream: TextIO | None = None,
    level: str | None = None,
    extra_processors: tuple[Any, ...] = (),
) -> Logger:
    """Switch structured logging on, writing to ``stream`` (stderr by default)."""
    global _logger  # noqa: PLW0603 - one process-wide logger, set by the front door
    import structlog

    out = stream or sys.stderr
    name = (level or os.environ.get("OTA_LOG_LEVEL") or "info").strip().lower()
    fmt = choose_format(out)
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    else:
        colors = "NO_COLOR" not in os.environ and (
            "FORCE_COLOR" in os.environ or os.environ.get("GITHUB_ACTIONS") == "true" or out.isatty()
        )
        renderer = structlog.dev.ConsoleRenderer(colors=colors)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *extra_processors,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(name, 20)),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    _logger = structlog.get_logger("ota-action")
    return _logger


def enabled_by_environment() -> bool:
    return bool(os.environ.get("OTA_LOG_LEVEL") or os.environ.get("OTA_LOG_FORMAT"))


def get() -> Logger:
    return _logger


def reset() -> None:
    """Back to the null logger (tests run several front doors in one process)."""
    global _logger  # noqa: PLW0603 - one process-wide logger, set by the front door
    _logger = _NullLogger()
