"""JSON logging, one object a line, carrying the request id of the request being served."""

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any, BinaryIO

import msgspec

from libs.common.background import in_background

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}
LINE_KEYS = frozenset({"ts", "level", "service", "logger", "msg", "request_id", "exc"})
"""What every line carries, in this order; nothing a caller adds replaces them."""
FIELDS = "fields"
"""`extra={"fields": {...}}`: keys of any name (even a LogRecord attribute's) for the line, beside its own."""


def _as_text(value: object) -> str:
    try:
        return str(value)
    except Exception:  # a value that cannot even say what it is must not lose its line
        return f"<{type(value).__name__}>"


_encoder = msgspec.json.Encoder(enc_hook=_as_text)  # a value JSON has no type for is written as its text


def _encode(entry: dict[str, Any]) -> bytes:
    """The line as JSON; a value msgspec refuses even with its fallback (a dict with keys of mixed types, say)
    is written as its text, so the line is never lost."""
    try:
        return _encoder.encode(entry)
    except (TypeError, ValueError, OverflowError):
        return _encoder.encode({key: _encodable(value) for key, value in entry.items()})


def _encodable(value: object) -> object:
    try:
        _encoder.encode(value)
    except (TypeError, ValueError, OverflowError):
        return _as_text(value)
    return value


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: `LINE_KEYS`, then the record's `fields` and any other `extra` values as
    top-level keys (never replacing a line key)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self._second, self._stamp = -1, ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:  # one strftime a second, not one a line
            self._second, self._stamp = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        entry: dict[str, Any] = {
            "ts": f"{self._stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        for key, value in record.__dict__.items():
            if key == FIELDS and isinstance(value, dict):
                for field, field_value in value.items():
                    entry.setdefault(str(field), field_value)
            elif key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry.setdefault(key, value)
        return _encode(entry).decode()


class JsonLinesHandler(logging.Handler):
    """Writes each formatted record as a line to a binary stream.

    While a service is serving (`written_in_batches`), info lines are collected and written together every
    `BATCH_SECONDS`: one write a batch instead of one per request. A warning or error is written at once,
    after whatever it follows, so nothing that matters waits and the order holds. Outside of serving every
    line is written at once.
    """

    BATCH_SECONDS = 0.2
    BATCH_LINES = 512

    def __init__(self, stream: BinaryIO, service: str) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter(service))
        self._stream = stream
        self._pending: list[bytes] = []
        self.batching = False

    def emit(self, record: logging.LogRecord) -> None:  # called holding self.lock
        try:
            self._pending.append(self.format(record).encode() + b"\n")
            if not self.batching or record.levelno >= logging.WARNING or len(self._pending) >= self.BATCH_LINES:
                self._write()
        except Exception:  # logging must never raise into the caller
            self.handleError(record)

    def flush(self) -> None:
        self.acquire()
        try:
            self._write()
        finally:
            self.release()

    def _write(self) -> None:
        if self._pending:
            lines, self._pending = b"".join(self._pending), []
            self._stream.write(lines)
            self._stream.flush()


_handler: JsonLinesHandler | None = None


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route every logger (ours, granian's, asyncpg's) to stderr as JSON lines."""
    global _handler  # noqa: PLW0603 (one handler per process, made once)
    # No line carries the caller's file and line, thread or process: skip finding them out for every record
    # (the logging HOWTO's "Optimization").
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    _handler = JsonLinesHandler(sys.stderr.buffer, service)
    root = logging.getLogger()
    root.handlers[:] = [_handler]
    root.setLevel(level.upper())
    # granian's own lines (start, stop, a worker's crash) propagate here (`cli.serve`); its access log stays
    # off, since our middleware writes the access log, with the request id and route.


@contextlib.asynccontextmanager
async def written_in_batches() -> AsyncIterator[None]:
    """For a serving app's life: info lines are written every `BATCH_SECONDS` (see JsonLinesHandler)."""
    handler = _handler
    if handler is None:  # logging not configured by `configure_logging` (an app run by a test, say)
        yield
        return

    async def every_batch() -> None:
        while True:
            await asyncio.sleep(handler.BATCH_SECONDS)
            handler.flush()

    handler.batching = True
    try:
        async with in_background(every_batch()):
            yield
    finally:
        handler.batching = False
        handler.flush()
