"""An emulator of Aurora's Data API (``rds-data``) that executes on a real MySQL or MariaDB.

Nothing public emulates the Data API without Docker, so tests and local runs use this: a small
HTTP server speaking the service's REST-JSON protocol, which boto3 reaches with
``boto3.client("rds-data", endpoint_url=emulator.endpoint_url)``. It implements
``ExecuteStatement`` (``POST /Execute``), ``BatchExecuteStatement`` (``POST /BatchExecute``) and
``Begin``/``Commit``/``RollbackTransaction``, answers like the service (shapes, error names and
HTTP statuses from botocore's service model), and can inject the faults an Aurora Serverless
cluster produces while it resumes (``DatabaseResumingException``, ``StatementTimeoutException``).

It is a test tool: it checks that ``resourceArn`` and ``secretArn`` are present but does not
authenticate anyone, and it must never face a network it does not trust.

Deliberate choices, where the service's behaviour is not documented:

- outside a transaction each statement autocommits, and so does each parameter set of a batch;
- a batch with no parameter sets runs nothing, as the service has been reported to do;
- ``BIT(1)`` columns come back as ``booleanValue``; ``TINYINT(1)`` stays a ``longValue``;
- a parameter that the SQL does not use is an error, like one that the SQL uses and nobody gave.

Run it on its own with ``python -m filestore.adapters.dataapi.emulator --mysql-url URL``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import decimal
import json
import logging
import math
import re
import secrets
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, Self, TypedDict, TypeGuard
from urllib.parse import unquote, urlsplit

import pymysql
from pymysql.charset import charset_by_id
from pymysql.constants import FIELD_TYPE

__all__ = [
    "DEFAULT_TRANSACTION_TIMEOUT",
    "MAX_RESPONSE_BYTES",
    "DataApiEmulator",
    "DataApiError",
    "MySQLServer",
    "main",
    "mysql_server",
    "translate_named_parameters",
]

logger = logging.getLogger(__name__)

JsonObject = dict[str, Any]

#: The service rolls back a transaction that no call has used for three minutes.
DEFAULT_TRANSACTION_TIMEOUT = 180.0
#: The service refuses to return more than 1 MiB of response data.
MAX_RESPONSE_BYTES = 1024 * 1024

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_BINARY_CHARSET = 63  # MySQL's character set number for "binary" (BLOB, VARBINARY, BINARY).
_FIRST_CLIENT_ERROR = 2000  # MySQL's error codes from 2000 up are the client's (connection lost).

# MySQL column flags (the server's ``*_FLAG`` constants) that the column metadata reports.
_NOT_NULL_FLAG = 1
_UNSIGNED_FLAG = 32
_BINARY_FLAG = 128
_AUTO_INCREMENT_FLAG = 512


# --- errors -------------------------------------------------------------------------------------


class DataApiError(Exception):
    """An error answered the way the Data API answers it: an error code, a message, a status.

    The code is the name of an exception shape in botocore's service model, which is what boto3
    turns into ``client.exceptions.<code>``.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = HTTPStatus.BAD_REQUEST,
        **members: Any,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = int(status)
        self.members = members

    def body(self) -> JsonObject:
        """The JSON body of the error response."""
        return {"message": self.message, **self.members}


def _bad_request(message: str) -> DataApiError:
    return DataApiError("BadRequestException", message)


def _resuming() -> DataApiError:
    return DataApiError(
        "DatabaseResumingException",
        "The Aurora DB instance emulator is resuming after being auto-paused. "
        "Please wait a few seconds and try again.",
    )


def _statement_timeout() -> DataApiError:
    return DataApiError("StatementTimeoutException", "Request timed out", dbConnectionId=0)


def _database_error(error: pymysql.MySQLError) -> DataApiError:
    code, message = _error_code_and_message(error)
    # The service words database errors this way, with MySQL's own error code and message.
    return _bad_request(f"Database error code: {code}. Message: {message}")


def _error_code_and_message(error: pymysql.MySQLError) -> tuple[int, str]:
    args = error.args
    if len(args) >= 2 and isinstance(args[0], int):
        return args[0], str(args[1])
    return 0, str(error)


# --- named parameters ---------------------------------------------------------------------------

# What a scan for ``:name`` must step over whole: string literals, quoted identifiers, comments and
# runs of colons (``::``). Backslash escapes follow MySQL's default (no NO_BACKSLASH_ESCAPES).
_SQL_TOKENS = re.compile(
    r"""
    (?P<skip>
        '(?:[^'\\]|\\.|'')*(?:'|\Z)
      | "(?:[^"\\]|\\.|"")*(?:"|\Z)
      | `(?:[^`]|``)*(?:`|\Z)
      | /\*.*?(?:\*/|\Z)
      | (?:\#|--(?=\s|\Z))[^\n]*
      | :{2,}
    )
    | :(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE | re.DOTALL,
)


class MySQLServer(TypedDict):
    host: str
    port: int
    user: str
    password: str
    database: str  # "" when the URL names none


def mysql_server(url: str) -> MySQLServer:
    """The server, credentials and database of a SQLAlchemy-style MySQL URL such as
    ``mysql+aiomysql://root:@127.0.0.1:3306/test`` (the driver part is ignored)."""
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("mysql", "mariadb"):
        raise ValueError(f"not a MySQL URL: {parts.scheme}://…")
    return MySQLServer(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username) if parts.username else "root",
        password=unquote(parts.password) if parts.password else "",
        database=unquote(parts.path.lstrip("/")),
    )


def translate_named_parameters(sql: str) -> tuple[str, tuple[str, ...]]:
    """Rewrite the Data API's ``:name`` placeholders into PyMySQL's positional ``%s`` ones.

    Returns the rewritten SQL and the parameter names in the order of their placeholders (a name
    used twice appears twice). Placeholders inside string literals, quoted identifiers and
    comments, and ``::``, are left alone; every literal ``%`` is doubled, because PyMySQL
    formats the SQL with ``%`` once parameters are given. Values never enter the SQL text here:
    PyMySQL escapes them into their placeholders.
    """
    pieces: list[str] = []
    names: list[str] = []
    position = 0
    for match in _SQL_TOKENS.finditer(sql):
        pieces.append(sql[position : match.start()].replace("%", "%%"))
        name = match.group("name")
        if name is None:
            pieces.append(match.group().replace("%", "%%"))
        else:
            names.append(name)
            pieces.append("%s")
        position = match.end()
    pieces.append(sql[position:].replace("%", "%%"))
    return "".join(pieces), tuple(names)


# The formats the service documents for typeHint (it takes up to nine fractional digits).
_DATE_PATTERN = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_TIME_PATTERN = r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?"
_TIMESTAMP = re.compile(f"{_DATE_PATTERN} {_TIME_PATTERN}")
_DATE = re.compile(_DATE_PATTERN)
_TIME = re.compile(_TIME_PATTERN)


def _microseconds(fraction: str | None) -> int:
    # The service takes up to nanoseconds; MySQL keeps microseconds, so the rest is dropped.
    return int((fraction or "").ljust(6, "0")[:6])


def _hinted(name: str, hint: str, text: str) -> object:
    """Convert a ``stringValue`` as its ``typeHint`` says."""
    try:
        if hint == "TIMESTAMP":
            if match := _TIMESTAMP.fullmatch(text):
                year, month, day, hour, minute, second = map(int, match.groups()[:6])
                micro = _microseconds(match.group(7))
                return dt.datetime(year, month, day, hour, minute, second, micro)
        elif hint == "DATE":
            if match := _DATE.fullmatch(text):
                year, month, day = map(int, match.groups())
                return dt.date(year, month, day)
        elif hint == "TIME":
            if match := _TIME.fullmatch(text):
                hour, minute, second = map(int, match.groups()[:3])
                return dt.time(hour, minute, second, _microseconds(match.group(4)))
        elif hint == "DECIMAL":
            value = decimal.Decimal(text)
            if value.is_finite():
                return value
        elif hint == "UUID":
            uuid.UUID(text)
            return text
        elif hint == "JSON":
            json.loads(text)
            return text
        else:
            raise _bad_request(f"Invalid typeHint {hint!r} for parameter {name}")
    except (ValueError, decimal.InvalidOperation):
        pass
    raise _bad_request(f"Invalid {hint} value for parameter {name}: {text!r}")


def _parameter_value(name: str, value: object, hint: object) -> object:
    """The Python value PyMySQL should bind for one ``SqlParameter``."""
    if not isinstance(value, dict) or len(value) != 1:
        raise _bad_request(f"Parameter {name} must have exactly one value")
    ((kind, raw),) = value.items()
    if hint is not None and kind not in ("stringValue", "isNull"):
        raise _bad_request(f"typeHint {hint} needs a stringValue (parameter {name})")
    if kind == "isNull" and raw is True:
        return None
    if kind == "booleanValue" and isinstance(raw, bool):
        return raw
    if kind == "longValue" and _is_int(raw) and _INT64_MIN <= raw <= _INT64_MAX:
        return raw
    # MySQL has no infinities nor NaN (and JSON none, though Python's parser reads 1e400 as one).
    if kind == "doubleValue" and (_is_int(raw) or isinstance(raw, float)) and math.isfinite(raw):
        return float(raw)
    if kind == "stringValue" and isinstance(raw, str):
        return raw if hint is None else _hinted(name, str(hint), raw)
    if kind == "blobValue" and isinstance(raw, str):
        try:
            return base64.b64decode(raw, validate=True)
        except binascii.Error:
            pass
    if kind == "arrayValue":
        raise _bad_request("Array parameters are not supported.")
    raise _bad_request(f"Invalid value for parameter {name}")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is no number.


def _bind(names: Sequence[str], parameters: object) -> tuple[object, ...]:
    """Values for the placeholders ``names``, from a request's list of ``SqlParameter``."""
    if parameters is None:
        parameters = []
    if not isinstance(parameters, list):
        raise _bad_request("parameters must be a list")
    values: dict[str, object] = {}
    for parameter in parameters:
        if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
            raise _bad_request("Every parameter needs a name")
        name = parameter["name"]
        if name in values:
            raise _bad_request(f"Parameter {name} is given more than once")
        values[name] = _parameter_value(name, parameter.get("value"), parameter.get("typeHint"))
    used = set(names)
    for name in values:
        if name not in used:
            raise _bad_request(f"Cannot find parameter: {name}")
    for name in names:
        if name not in values:
            raise _bad_request(f"No value specified for parameter: {name}")
    return tuple(values[name] for name in names)


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    """What the server said about one result column."""

    label: str
    name: str
    table: str
    schema: str
    type_code: int
    length: int
    precision: int
    scale: int
    flags: int
    charset: int

    @property
    def binary(self) -> bool:
        return self.charset == _BINARY_CHARSET

    def metadata(self) -> JsonObject:
        """This column as the service's ``ColumnMetadata``."""
        jdbc_type, type_name = _jdbc_type(self)
        return {
            "name": self.name,
            "label": self.label,
            "type": jdbc_type,
            "typeName": type_name,
            "schemaName": self.schema,
            "tableName": self.table,
            "isAutoIncrement": bool(self.flags & _AUTO_INCREMENT_FLAG),
            "isSigned": not self.flags & _UNSIGNED_FLAG and jdbc_type in _SIGNED_JDBC_TYPES,
            "isCurrency": False,
            "isCaseSensitive": self.binary or bool(self.flags & _BINARY_FLAG),
            "nullable": 0 if self.flags & _NOT_NULL_FLAG else 1,
            "precision": self.precision,
            "scale": self.scale,
            "arrayBaseColumnType": 0,
        }


# java.sql.Types numbers and names, which the service reports in ``ColumnMetadata``.
_JDBC_TYPES: dict[int, tuple[int, str]] = {
    FIELD_TYPE.DECIMAL: (3, "DECIMAL"),
    FIELD_TYPE.NEWDECIMAL: (3, "DECIMAL"),
    FIELD_TYPE.TINY: (-6, "TINYINT"),
    FIELD_TYPE.SHORT: (5, "SMALLINT"),
    FIELD_TYPE.LONG: (4, "INT"),
    FIELD_TYPE.FLOAT: (7, "FLOAT"),
    FIELD_TYPE.DOUBLE: (8, "DOUBLE"),
    FIELD_TYPE.NULL: (0, "NULL"),
    FIELD_TYPE.TIMESTAMP: (93, "TIMESTAMP"),
    FIELD_TYPE.LONGLONG: (-5, "BIGINT"),
    FIELD_TYPE.INT24: (4, "MEDIUMINT"),
    FIELD_TYPE.DATE: (91, "DATE"),
    FIELD_TYPE.TIME: (92, "TIME"),
    FIELD_TYPE.DATETIME: (93, "DATETIME"),
    FIELD_TYPE.YEAR: (91, "YEAR"),
    FIELD_TYPE.NEWDATE: (91, "DATE"),
    FIELD_TYPE.BIT: (-7, "BIT"),
    FIELD_TYPE.JSON: (-1, "JSON"),
    FIELD_TYPE.ENUM: (1, "CHAR"),
    FIELD_TYPE.SET: (1, "CHAR"),
    FIELD_TYPE.GEOMETRY: (-2, "GEOMETRY"),
}
_SIGNED_JDBC_TYPES = frozenset({-6, 5, 4, -5, 3, 7, 8})
_BLOB_TYPES = frozenset(
    {FIELD_TYPE.TINY_BLOB, FIELD_TYPE.MEDIUM_BLOB, FIELD_TYPE.LONG_BLOB, FIELD_TYPE.BLOB}
)


def _jdbc_type(column: _Column) -> tuple[int, str]:
    code = column.type_code
    if code in _BLOB_TYPES:
        return (-4, "BLOB") if column.binary else (-1, "TEXT")
    if code in (FIELD_TYPE.VAR_STRING, FIELD_TYPE.VARCHAR):
        return (-3, "VARBINARY") if column.binary else (12, "VARCHAR")
    if code == FIELD_TYPE.STRING:
        return (-2, "BINARY") if column.binary else (1, "CHAR")
    return _JDBC_TYPES.get(code, (1111, "OTHER"))


# Bytes per character of the character sets a column may have; the server counts in bytes.
_CHARACTER_WIDTHS = {"utf8mb4": 4, "utf8mb3": 3, "utf8": 3, "ucs2": 2, "utf16": 4, "utf32": 4}
_TEXT_TYPES = _BLOB_TYPES | {FIELD_TYPE.VAR_STRING, FIELD_TYPE.VARCHAR, FIELD_TYPE.STRING}


def _characters(type_code: int, length: int, charset: int) -> int | None:
    """The length of a text column in characters, as JDBC reports its precision."""
    if type_code not in _TEXT_TYPES or charset == _BINARY_CHARSET:
        return None
    try:
        info: Any = charset_by_id(charset)
    except KeyError:
        return None
    return length // _CHARACTER_WIDTHS.get(str(info.name), 1)


def _columns(cursor: Any) -> list[_Column]:
    description: Sequence[Sequence[Any]] = cursor.description or ()
    # PyMySQL keeps the server's full field packets (flags, table, schema) only on its private
    # result object; the public description is the fallback if that ever moves.
    result: Any = getattr(cursor, "_result", None)
    packets: Sequence[Any] = getattr(result, "fields", None) or ()
    columns = []
    for index, (label, type_code, _, length, precision, scale, _) in enumerate(description):
        packet: Any = packets[index] if index < len(packets) else None
        schema = getattr(packet, "db", b"")
        charset = getattr(packet, "charsetnr", 0)
        columns.append(
            _Column(
                label=label,
                name=getattr(packet, "org_name", "") or label,
                table=getattr(packet, "org_table", "") or "",
                schema=schema.decode() if isinstance(schema, bytes) else str(schema),
                type_code=type_code,
                length=length or 0,
                precision=_characters(type_code, length or 0, charset) or precision or 0,
                scale=scale or 0,
                flags=getattr(packet, "flags", 0),
                charset=charset,
            )
        )
    return columns


@dataclass(frozen=True)
class _ResultOptions:
    """The request's ``resultSetOptions``."""

    decimal_as_number: bool = False
    long_as_string: bool = False

    @classmethod
    def of(cls, options: object) -> _ResultOptions:
        if options is None:
            return cls()
        if not isinstance(options, dict):
            raise _bad_request("resultSetOptions must be an object")
        return cls(
            decimal_as_number=options.get("decimalReturnType") == "DOUBLE_OR_LONG",
            long_as_string=options.get("longReturnType") == "STRING",
        )


def _format_datetime(value: dt.datetime) -> str:
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{value.microsecond:06d}" if value.microsecond else text


def _format_timedelta(value: dt.timedelta) -> str:
    # PyMySQL reads TIME columns as timedelta, since MySQL's TIME spans -838:59:59..838:59:59.
    sign = "-" if value < dt.timedelta(0) else ""
    total = abs(value)
    hours, rest = divmod(total.days * 86400 + total.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{text}.{total.microseconds:06d}" if total.microseconds else text


def _field(value: object, column: _Column, options: _ResultOptions) -> JsonObject:
    """One value of a result row as the service's ``Field``."""
    if value is None:
        return {"isNull": True}
    if column.type_code == FIELD_TYPE.BIT and isinstance(value, bytes):
        number = int.from_bytes(value, "big")
        return {"booleanValue": bool(number)} if column.length == 1 else {"longValue": number}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        if options.long_as_string or not _INT64_MIN <= value <= _INT64_MAX:
            return {"stringValue": str(value)}
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, decimal.Decimal):
        if options.decimal_as_number:
            if column.scale == 0 and value == value.to_integral_value():
                return {"longValue": int(value)}
            return {"doubleValue": float(value)}
        return {"stringValue": str(value)}
    if isinstance(value, bytes | bytearray):
        return {"blobValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dt.datetime):
        return {"stringValue": _format_datetime(value)}
    if isinstance(value, dt.date):
        return {"stringValue": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"stringValue": _format_timedelta(value)}
    if isinstance(value, dt.time):
        return {"stringValue": value.isoformat()}
    if isinstance(value, set | frozenset):
        return {"stringValue": ",".join(sorted(map(str, value)))}
    return {"stringValue": str(value)}


def _json_value(field: JsonObject) -> object:
    """A ``Field`` as a plain JSON value, as in ``formattedRecords``."""
    ((kind, value),) = field.items()
    return None if kind == "isNull" else value


def _generated_fields(cursor: Any) -> list[JsonObject]:
    last_id = cursor.lastrowid
    return [{"longValue": last_id}] if last_id else []


# --- connections and transactions ---------------------------------------------------------------


@dataclass(eq=False)
class _Connection:
    """A PyMySQL connection."""

    raw: Any

    def prepare(self, schema: str | None) -> None:
        """Point the connection at ``schema``, which also proves that it is still alive."""
        # Always, not only when the schema changes: a statement may have run `USE other`.
        if schema:
            self.raw.select_db(schema)
        else:
            self.raw.ping()

    def close(self) -> None:
        with suppress(pymysql.Error):  # Already gone: closing is all that was wanted.
            self.raw.close()


@dataclass(eq=False)
class _Transaction:
    """A transaction of BeginTransaction, on a connection of its own."""

    id: str
    connection: _Connection
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.monotonic)
    ended: bool = False


_OPERATIONS = {
    "/Execute": "ExecuteStatement",
    "/BatchExecute": "BatchExecuteStatement",
    "/BeginTransaction": "BeginTransaction",
    "/CommitTransaction": "CommitTransaction",
    "/RollbackTransaction": "RollbackTransaction",
}
# Which operations each injectable fault can answer, per botocore's service model.
_RESUMING_OPERATIONS = frozenset({"ExecuteStatement", "BatchExecuteStatement", "BeginTransaction"})
_TIMEOUT_OPERATIONS = frozenset({"ExecuteStatement", "BatchExecuteStatement"})


class DataApiEmulator:
    """An HTTP server answering the Data API's calls by running them on MySQL or MariaDB.

    ``host``, ``port``, ``user``, ``password`` and ``database`` say which server to run on;
    ``database`` is the schema used when a call names none. ``listen`` is the address to serve on
    (port 0: any free port). A transaction that no call uses for ``transaction_timeout`` seconds
    is rolled back, as the service does after three minutes. Responses larger than
    ``max_response_bytes`` are refused as the service refuses them (``None``: no limit).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 3306,
        user: str = "root",
        password: str = "",
        database: str | None = None,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        transaction_timeout: float = DEFAULT_TRANSACTION_TIMEOUT,
        max_response_bytes: int | None = MAX_RESPONSE_BYTES,
    ) -> None:
        self._connect_kwargs: dict[str, Any] = {
            "host": host,
            "port": port,
            "user": user,
            "password": password,
            "charset": "utf8mb4",
            "autocommit": True,
            "connect_timeout": 10,
            # Aurora runs in UTC; so do our sessions, whatever the server's default.
            "init_command": "SET time_zone = '+00:00'",
        }
        self._database = database
        self._listen = listen
        self._transaction_timeout = transaction_timeout
        self._max_response_bytes = max_response_bytes
        self._lock = threading.Lock()
        self._idle: list[_Connection] = []
        self._transactions: dict[str, _Transaction] = {}
        self._faults = {"DatabaseResumingException": 0, "StatementTimeoutException": 0}
        self._server: _HttpServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._closed = False

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        transaction_timeout: float = DEFAULT_TRANSACTION_TIMEOUT,
        max_response_bytes: int | None = MAX_RESPONSE_BYTES,
    ) -> DataApiEmulator:
        """An emulator on the server of a SQLAlchemy-style URL.

        For example ``mysql+aiomysql://root:@127.0.0.1:3306/test``; the driver part is ignored.
        """
        server = mysql_server(url)
        return cls(
            host=server["host"],
            port=server["port"],
            user=server["user"],
            password=server["password"],
            database=server["database"] or None,
            listen=listen,
            transaction_timeout=transaction_timeout,
            max_response_bytes=max_response_bytes,
        )

    # --- life cycle -----------------------------------------------------------------------------

    def start(self) -> Self:
        """Check that the database answers, then serve in background threads.

        Raises PyMySQL's error if the database cannot be reached.
        """
        if self._server is not None:
            raise RuntimeError("the emulator is already started")
        if self._closed:
            raise RuntimeError("a stopped emulator cannot start again")
        # Fail here, with the driver's own error, rather than on the first call.
        self._release(self._connect(self._database))
        self._server = _HttpServer(self._listen, self)
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},  # How long stop() may wait for the loop to notice.
                name="dataapi-emulator-http",
                daemon=True,
            ),
            threading.Thread(
                target=self._expire_transactions, name="dataapi-emulator-reaper", daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()
        logger.info("Data API emulator listening on %s", self.endpoint_url)
        return self

    @property
    def endpoint_url(self) -> str:
        """The URL to give boto3 as ``endpoint_url``."""
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._server.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving, roll back open transactions and close every database connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.close_clients()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)
        with self._lock:
            transactions = list(self._transactions.values())
            self._transactions.clear()
            idle, self._idle = self._idle, []
        for transaction in transactions:
            with transaction.lock, suppress(DataApiError):  # Rolled back, or gone with its socket.
                if not transaction.ended:
                    self._end(transaction, commit=False)
        for connection in idle:
            connection.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- fault injection ------------------------------------------------------------------------

    def inject_resuming(self, count: int = 1) -> None:
        """Answer the next ``count`` calls with ``DatabaseResumingException``.

        As the service does while an auto-paused cluster resumes; only the calls that can get it
        count (``ExecuteStatement``, ``BatchExecuteStatement``, ``BeginTransaction``).
        """
        self._inject("DatabaseResumingException", count)

    def inject_statement_timeout(self, count: int = 1) -> None:
        """Answer the next ``count`` statements with ``StatementTimeoutException``.

        The statements are not run, as when the service stops a statement at its time-out;
        only ``ExecuteStatement`` and ``BatchExecuteStatement`` calls count.
        """
        self._inject("StatementTimeoutException", count)

    def reset_faults(self) -> None:
        """Forget every injected fault not yet answered."""
        with self._lock:
            for code in self._faults:
                self._faults[code] = 0

    @property
    def open_transactions(self) -> int:
        """How many transactions are begun and not yet ended."""
        with self._lock:
            return len(self._transactions)

    def _inject(self, code: str, count: int) -> None:
        if count < 0:
            raise ValueError("count must not be negative")
        with self._lock:
            self._faults[code] += count

    def _take_fault(self, operation: str) -> DataApiError | None:
        with self._lock:
            if operation in _RESUMING_OPERATIONS and self._faults["DatabaseResumingException"]:
                self._faults["DatabaseResumingException"] -= 1
                return _resuming()
            if operation in _TIMEOUT_OPERATIONS and self._faults["StatementTimeoutException"]:
                self._faults["StatementTimeoutException"] -= 1
                return _statement_timeout()
        return None

    # --- operations -----------------------------------------------------------------------------

    def handle(self, operation: str, request: JsonObject) -> JsonObject:
        """Answer one call of the Data API; raises :class:`DataApiError` as the service would."""
        for member in ("resourceArn", "secretArn"):
            _required_string(request, member)
        if fault := self._take_fault(operation):
            raise fault
        if operation == "ExecuteStatement":
            return self._execute_statement(request)
        if operation == "BatchExecuteStatement":
            return self._batch_execute_statement(request)
        if operation == "BeginTransaction":
            return self._begin_transaction(request)
        if operation == "CommitTransaction":
            return self._end_transaction(request, commit=True)
        if operation == "RollbackTransaction":
            return self._end_transaction(request, commit=False)
        raise DataApiError("UnknownOperationException", operation, HTTPStatus.NOT_FOUND)

    def _execute_statement(self, request: JsonObject) -> JsonObject:
        sql, names = translate_named_parameters(_required_string(request, "sql"))
        args = _bind(names, request.get("parameters"))
        options = _ResultOptions.of(request.get("resultSetOptions"))
        as_json = request.get("formatRecordsAs", "NONE") == "JSON"
        with self._connection_for(request) as connection, _database_errors():
            cursor = connection.raw.cursor()
            try:
                cursor.execute(sql, args)
                response = self._result(cursor, request, options, as_json=as_json)
                while cursor.nextset():  # Drain what a CALL may add, so the connection is reusable.
                    pass
            finally:
                cursor.close()
        if self._max_response_bytes is not None:
            size = len(json.dumps(response, ensure_ascii=False).encode())
            if size > self._max_response_bytes:
                raise _bad_request("Database returned more than the allowed response size limit")
        return response

    def _result(
        self, cursor: Any, request: JsonObject, options: _ResultOptions, *, as_json: bool
    ) -> JsonObject:
        if cursor.description is None:
            return {
                "numberOfRecordsUpdated": max(cursor.rowcount, 0),
                "generatedFields": _generated_fields(cursor),
            }
        columns = _columns(cursor)
        rows = [
            [_field(value, column, options) for value, column in zip(row, columns, strict=True)]
            for row in cursor.fetchall()
        ]
        response: JsonObject = {"numberOfRecordsUpdated": 0}
        if as_json:
            # The service answers with formattedRecords instead of records, keyed by label.
            response["formattedRecords"] = json.dumps(
                [
                    {column.label: _json_value(f) for column, f in zip(columns, row, strict=True)}
                    for row in rows
                ],
                ensure_ascii=False,
            )
        else:
            response["records"] = rows
        if request.get("includeResultMetadata"):
            response["columnMetadata"] = [column.metadata() for column in columns]
        return response

    def _batch_execute_statement(self, request: JsonObject) -> JsonObject:
        sql, names = translate_named_parameters(_required_string(request, "sql"))
        parameter_sets = request.get("parameterSets") or []
        if not isinstance(parameter_sets, list):
            raise _bad_request("parameterSets must be a list")
        bound = [_bind(names, parameters) for parameters in parameter_sets]
        results: list[JsonObject] = []
        with self._connection_for(request) as connection, _database_errors():
            cursor = connection.raw.cursor()
            try:
                for args in bound:
                    cursor.execute(sql, args)
                    results.append({"generatedFields": _generated_fields(cursor)})
            finally:
                cursor.close()
        return {"updateResults": results}

    def _begin_transaction(self, request: JsonObject) -> JsonObject:
        connection = self._acquire(_optional_string(request, "database") or self._database)
        try:
            with _database_errors():
                connection.raw.begin()
        except BaseException:
            connection.close()
            raise
        transaction = _Transaction(id=_transaction_id(), connection=connection)
        with self._lock:
            if not self._closed:
                self._transactions[transaction.id] = transaction
                return {"transactionId": transaction.id}
        connection.close()  # Stopped meanwhile: nobody would ever end this transaction.
        raise DataApiError("ServiceUnavailableError", "", HTTPStatus.SERVICE_UNAVAILABLE)

    def _end_transaction(self, request: JsonObject, *, commit: bool) -> JsonObject:
        transaction_id = _required_string(request, "transactionId")
        with self._transaction(transaction_id) as transaction:
            with self._lock:
                self._transactions.pop(transaction.id, None)
            self._end(transaction, commit=commit)
        return {"transactionStatus": "Transaction Committed" if commit else "Rollback Complete"}

    def _end(self, transaction: _Transaction, *, commit: bool) -> None:
        """End a transaction already removed from the registry, while holding its lock."""
        transaction.ended = True
        connection = transaction.connection
        try:
            if commit:
                connection.raw.commit()
            else:
                connection.raw.rollback()
        except pymysql.MySQLError as error:
            connection.close()
            raise _database_error(error) from error
        self._release(connection)

    # --- connections ----------------------------------------------------------------------------

    @contextmanager
    def _connection_for(self, request: JsonObject) -> Iterator[_Connection]:
        transaction_id = _optional_string(request, "transactionId")
        if transaction_id:
            # The transaction's own schema stands: the service ignores `database` here too.
            with self._transaction(transaction_id) as transaction:
                yield transaction.connection
        else:
            with self._autocommit(_optional_string(request, "database") or self._database) as c:
                yield c

    @contextmanager
    def _transaction(self, transaction_id: str) -> Iterator[_Transaction]:
        with self._lock:
            transaction = self._transactions.get(transaction_id)
        if transaction is None:
            raise _transaction_not_found(transaction_id)
        with transaction.lock:
            # The reaper or a concurrent commit may have ended it while we waited for the lock.
            if transaction.ended:
                raise _transaction_not_found(transaction_id)
            transaction.last_used = time.monotonic()
            try:
                yield transaction
            finally:
                transaction.last_used = time.monotonic()

    @contextmanager
    def _autocommit(self, schema: str | None) -> Iterator[_Connection]:
        connection = self._acquire(schema)
        try:
            yield connection
        except BaseException:
            # After a failure the session may be in any state (a half-read result, a lost
            # socket): a fresh connection is cheaper than finding out.
            connection.close()
            raise
        else:
            self._release(connection)

    def _acquire(self, schema: str | None) -> _Connection:
        """An idle connection, or a new one, pointed at ``schema``."""
        with self._lock:
            if self._closed:
                raise DataApiError("ServiceUnavailableError", "", HTTPStatus.SERVICE_UNAVAILABLE)
            pooled = self._idle.pop() if self._idle else None
        if pooled is not None:
            try:
                pooled.prepare(schema)
                return pooled
            except pymysql.MySQLError:
                # Most likely dropped while idle (wait_timeout, a server restart): a new
                # connection either works or fails with the error worth answering.
                pooled.close()
        with _database_errors():
            return self._connect(schema)

    def _connect(self, schema: str | None) -> _Connection:
        connection = _Connection(pymysql.connect(**self._connect_kwargs))
        try:
            connection.prepare(schema)
        except BaseException:
            connection.close()
            raise
        return connection

    def _release(self, connection: _Connection) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(connection)
                return
        connection.close()

    def _expire_transactions(self) -> None:
        interval = max(0.05, min(1.0, self._transaction_timeout / 4))
        while not self._stopping.wait(interval):
            deadline = time.monotonic() - self._transaction_timeout
            with self._lock:
                stale = [t for t in self._transactions.values() if t.last_used < deadline]
            for transaction in stale:
                # A transaction busy with a statement is not idle, whatever its clock says.
                if not transaction.lock.acquire(blocking=False):
                    continue
                try:
                    if transaction.ended or transaction.last_used >= deadline:
                        continue
                    with self._lock:
                        self._transactions.pop(transaction.id, None)
                    logger.info("Rolling back idle transaction %s", transaction.id)
                    try:
                        self._end(transaction, commit=False)
                    except DataApiError:
                        logger.warning("Rollback of idle transaction %s failed", transaction.id)
                finally:
                    transaction.lock.release()


def _transaction_id() -> str:
    # The service's ids are long opaque strings; so are ours.
    return base64.b64encode(secrets.token_bytes(96)).decode("ascii")


def _transaction_not_found(transaction_id: str) -> DataApiError:
    return _bad_request(f"Transaction {transaction_id} is not found")


@contextmanager
def _database_errors() -> Iterator[None]:
    """Answer the driver's errors as the service does."""
    try:
        yield
    except pymysql.MySQLError as error:
        code, _ = _error_code_and_message(error)
        if isinstance(error, pymysql.InterfaceError) or code >= _FIRST_CLIENT_ERROR:
            logger.warning("Database unreachable: %s", error)
            raise _bad_request(f"Communications link failure: {error}") from error
        raise _database_error(error) from error


def _required_string(request: JsonObject, member: str) -> str:
    value = request.get(member)
    if not isinstance(value, str) or not value:
        raise _bad_request(f"{member} is required")
    return value


def _optional_string(request: JsonObject, member: str) -> str | None:
    value = request.get(member)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad_request(f"{member} must be a string")
    return value


# --- HTTP ---------------------------------------------------------------------------------------


class _HttpServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its emulator and can close its clients' sockets."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: DataApiEmulator) -> None:
        self.emulator = emulator
        self._clients: set[socket.socket] = set()
        self._clients_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._clients_lock:
            self._clients.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._clients_lock:
            self._clients.discard(request)
        super().shutdown_request(request)

    def close_clients(self) -> None:
        """Close the kept-alive connections, so that no handler thread outlives the server."""
        with self._clients_lock:
            clients = list(self._clients)
        for client in clients:
            with suppress(OSError):  # Already closed by the client.
                client.shutdown(socket.SHUT_RDWR)


class _RequestHandler(BaseHTTPRequestHandler):
    """Maps the REST-JSON protocol onto :meth:`DataApiEmulator.handle`."""

    server: _HttpServer
    # HTTP/1.1 keeps botocore's connections alive between calls; every answer has a length.
    protocol_version = "HTTP/1.1"
    server_version = "DataApiEmulator"
    timeout = 120  # An idle kept-alive connection ends its thread eventually.
    # Headers and body go out in two writes; with Nagle's algorithm the second one waits for
    # the client's delayed ACK, some 40 ms a call.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        operation = _OPERATIONS.get(self.path.split("?")[0])
        try:
            request = self._read_json()
            if operation is None:
                raise DataApiError(
                    "UnknownOperationException",
                    f"No operation at {self.path}",
                    HTTPStatus.NOT_FOUND,
                )
            self._answer(HTTPStatus.OK, self.server.emulator.handle(operation, request))
        except DataApiError as error:
            self._answer(error.status, error.body(), error_code=error.code)
        except Exception:
            logger.exception("Data API emulator failed on %s", operation)
            self._answer(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {"message": "Internal error"},
                error_code="InternalServerErrorException",
            )

    def _read_json(self) -> JsonObject:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError as error:
            raise DataApiError("SerializationException", f"Invalid JSON: {error}") from error
        if not isinstance(body, dict):
            raise DataApiError("SerializationException", "The request body must be an object")
        return body

    def _answer(self, status: int, body: JsonObject, *, error_code: str | None = None) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error_code is not None:
            # botocore reads the error's name from this header (rest-json protocol).
            self.send_header("x-amzn-ErrorType", error_code)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


# --- command line -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until interrupted, printing its endpoint URL on standard output."""
    parser = argparse.ArgumentParser(
        prog="python -m filestore.adapters.dataapi.emulator",
        description="Serve Aurora's Data API (rds-data) over a MySQL or MariaDB database.",
    )
    parser.add_argument(
        "--mysql-url",
        required=True,
        help="the database, e.g. mysql+aiomysql://root:@127.0.0.1:3306/test",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument(
        "--transaction-timeout",
        type=float,
        default=DEFAULT_TRANSACTION_TIMEOUT,
        help="seconds after which an idle transaction is rolled back",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    emulator = DataApiEmulator.from_url(
        args.mysql_url,
        listen=(args.host, args.port),
        transaction_timeout=args.transaction_timeout,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with emulator:
        print(emulator.endpoint_url, flush=True)
        while not stop.wait(1.0):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
