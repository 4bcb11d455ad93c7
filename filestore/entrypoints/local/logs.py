"""`filestore serve`'s log: one short line per request or event for a person at a terminal,
structured JSON where no terminal is attached (a file, a pipe, a container's collector), as on
Lambda. `--log-format text|json` chooses; the default, `auto`, asks whether stderr is a terminal.

Three sources write it: uvicorn (its access line per request and its own messages), the
Powertools Logger every Lambda handler shares (JSON with the invocation's keys), and the standard
loggers (`filestore.serve`, botocore). For people, uvicorn's access line becomes
`12:04:05 GET /uploads 200 OK` and a Powertools line `12:04:06 s3-events: object …: stored
key=value`; in JSON, uvicorn's lines become JSON objects as Powertools writes them. Both ways,
every line is redacted (`redaction`): no token, signature or share token is ever written.
botocore's "Found credentials in environment variables" (INFO) is not news on a machine that
plays AWS with fake keys: its credential logger is kept to warnings.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from http import HTTPStatus
from typing import Any, Literal, TextIO

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from filestore.entrypoints.local.redaction import RedactCredentials, redact
from filestore.entrypoints.observability import SERVICE, logger

LogFormat = Literal["auto", "text", "json"]
FORMATS: tuple[LogFormat, ...] = ("auto", "text", "json")

# Keys of a Powertools line that tell a person nothing locally (the function's ARN, memory,
# request id, where in the code) or that the short line already shows.
_NOT_FOR_PEOPLE = frozenset(
    {
        "level",
        "location",
        "message",
        "timestamp",
        "service",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "cold_start",
        "xray_trace_id",
        "sampling_rate",
        "correlation_id",
        "exception",
        "exception_name",
        "stack_trace",
    }
)
_QUIET_LOGGERS = ("botocore.credentials",)

_human = False
"""What `configure` chose: lines for people (True) or JSON (False)."""


def for_people(log_format: LogFormat, stream: TextIO) -> bool:
    """Whether to write lines for people: `text`, or `auto` on a terminal."""
    if log_format == "auto":
        isatty = getattr(stream, "isatty", None)
        return bool(isatty and isatty())
    return log_format == "text"


def configure(log_format: LogFormat = "auto", stream: TextIO | None = None) -> bool:
    """Set up the server's logging (before uvicorn's, which `uvicorn_log_config` describes);
    returns whether the lines are for people."""
    global _human
    stream = stream or sys.stderr
    _human = for_people(log_format, stream)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(HumanLines() if _human else JsonLines())
    handler.addFilter(RedactCredentials())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # The Powertools Logger's records (and those of `filestore.*` loggers beneath it) are
    # written by its handler alone, not again by the root's.
    logging.getLogger(logger.name).propagate = False
    powertools = logger.registered_handler
    if not any(isinstance(f, RedactCredentials) for f in powertools.filters):
        powertools.addFilter(RedactCredentials())
    if _human:
        powertools.setFormatter(PowertoolsLines(service=SERVICE))
        if isinstance(powertools, logging.StreamHandler):
            powertools.setStream(stream)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return _human


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's `log_config` (a `logging.config.dictConfig` document) for what `configure`
    chose: its messages and its access lines as the rest of the log."""
    here = __name__
    default = f"{here}.HumanLines" if _human else f"{here}.JsonLines"
    access = f"{here}.HumanAccessLines" if _human else f"{here}.JsonLines"
    stream = "ext://sys.stderr"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": default}, "access": {"()": access}},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "default", "stream": stream},
            "access": {"class": "logging.StreamHandler", "formatter": "access", "stream": stream},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }


def _clock(record: logging.LogRecord) -> str:
    return time.strftime("%H:%M:%S", time.localtime(record.created))


def _line(record: logging.LogRecord, text: str) -> str:
    """`HH:MM:SS text`, with the level where it is not INFO."""
    level = "" if record.levelno == logging.INFO else f"{record.levelname} "
    return redact(f"{_clock(record)} {level}{text}")


class HumanLines(logging.Formatter):
    """A standard logger's record as one line: time, level (unless INFO), message."""

    def format(self, record: logging.LogRecord) -> str:
        text = _line(record, record.getMessage())
        if record.exc_info:
            text += "\n" + redact(self.formatException(record.exc_info))
        return text


class HumanAccessLines(logging.Formatter):
    """uvicorn's access record (`client, method, path, HTTP version, status`) as
    `HH:MM:SS GET /path 200 OK`."""

    def format(self, record: logging.LogRecord) -> str:
        args = record.args
        if not isinstance(args, tuple) or len(args) != 5:
            return _line(record, record.getMessage())
        _, method, path, _, status = args
        try:
            phrase = HTTPStatus(int(str(status))).phrase
        except ValueError:
            phrase = ""
        return _line(record, f"{method} {path} {status} {phrase}".rstrip())


class JsonLines(logging.Formatter):
    """A standard logger's record (uvicorn's included) as one JSON object, with the keys a
    Powertools line has (`level`, `message`, `timestamp`, `service`) and the logger's name."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "message": redact(record.getMessage()),
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "service": SERVICE,
            "logger": record.name,
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _, status = args
            line |= {"method": method, "path": redact(str(path)), "status": status}
            line["client"] = client
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str, separators=(",", ":"))


class PowertoolsLines(LambdaPowertoolsFormatter):
    """The Powertools Logger's line for people: `HH:MM:SS function: message key=value …`
    (the function as the Lambda it plays; the keys that matter here, not the invocation's
    ARN, memory and request id)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = json.loads(super().format(record))
        function = data.get("function_name")
        text = f"{function}: {data.get('message')}" if function else str(data.get("message"))
        extra = " ".join(
            f"{key}={value}" for key, value in data.items() if key not in _NOT_FOR_PEOPLE
        )
        line = _line(record, f"{text} {extra}".rstrip())
        if data.get("exception"):
            line += "\n" + redact(str(data["exception"]))
        return line
