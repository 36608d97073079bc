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


def choose_format(stream: TextIO, default: str | None = None) -> str:
    wanted = os.environ.get("OTA_LOG_FORMAT", "").strip().lower()
    if wanted in ("json", "console"):
        return wanted
    if default is not None:
        return default
    if os.environ.get("GITHUB_ACTIONS") == "true" or stream.isatty():
        return "console"
    return "json"


def configure(
    *,
    stream: TextIO | None = None,
    level: str | None = None,
    extra_processors: tuple[Any, ...] = (),
    default_format: str | None = None,
) -> Logger:
    """Switch structured logging on, writing to ``stream`` (stderr by default).

    ``default_format`` replaces the terminal/GitHub guess when ``OTA_LOG_FORMAT`` is unset
    (the Action logs readable console lines even when no terminal is attached).
    """
    global _logger  # noqa: PLW0603 - one process-wide logger, set by the front door
    import structlog

    out = stream or sys.stderr
    name = (level or os.environ.get("OTA_LOG_LEVEL") or "info").strip().lower()
    fmt = choose_format(out, default_format)
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    else:
        from ota_action.edges.style import use_colour  # the one colour rule (no-color.org)

        renderer = structlog.dev.ConsoleRenderer(colors=use_colour(out))
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


# --- Action mode -----------------------------------------------------------------------
# The runner reads every stdout line that starts with "::" as a workflow command, so in
# Action mode no logged value may start a new line, and warnings and errors also become
# annotations.  Both are plain structlog processors (callables), added with
# ``configure(extra_processors=...)`` by the Action front door.


def _flatten(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\r", "\\r").replace("\n", "\\n")
    return value


def one_line_values(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Escape CR/LF in every string value: a file name with newline + ``::`` stays data."""
    return {key: _flatten(value) for key, value in event_dict.items()}


class Annotations:
    """Turn ``warning``/``error`` events into ``::warning``/``::error`` annotation lines.

    The event's ``title``, ``file``, ``line`` and ``col`` keys become the annotation's
    properties; the other keys are appended to the message as ``key=value``.  An event
    logged with ``annotated=True`` was already reported as an annotation by the caller.
    """

    _PROPERTIES = ("title", "file", "line", "endLine", "col", "endColumn")

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, _logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        kind = {"warning": "warning", "error": "error", "critical": "error", "exception": "error"}.get(method)
        if event_dict.pop("annotated", False):
            kind = None
        if kind is not None:
            from ota_action.edges.github import command

            props = {k: event_dict[k] for k in self._PROPERTIES if event_dict.get(k) is not None}
            skip = {"event", "level", "timestamp", *self._PROPERTIES}
            extra = " ".join(f"{k}={v}" for k, v in event_dict.items() if k not in skip)
            message = str(event_dict.get("event", "")) + (f" ({extra})" if extra else "")
            self.stream.write(command(kind, message, **props) + "\n")
        return event_dict
