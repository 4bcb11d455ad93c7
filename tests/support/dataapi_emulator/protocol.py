"""How the Data API's calls map onto PyMySQL: its errors, ``:name`` parameters, typed values
and result sets, answered in the service's shapes (from botocore's service model)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import json
import logging
import math
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeGuard

import pymysql
from pymysql.charset import charset_by_id
from pymysql.constants import FIELD_TYPE

logger = logging.getLogger(__name__)

JsonObject = dict[str, Any]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_BINARY_CHARSET = 63  # MySQL's character set number for "binary" (BLOB, VARBINARY, BINARY).
_FIRST_CLIENT_ERROR = 2000  # MySQL's error codes from 2000 up are the client's (connection lost).

# MySQL column flags (the server's ``*_FLAG`` constants) that the column metadata reports.
_NOT_NULL_FLAG = 1
_UNSIGNED_FLAG = 32
_BINARY_FLAG = 128
_AUTO_INCREMENT_FLAG = 512

# --- errors ---------------------------------------------------------------------------------------


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


def bad_request(message: str) -> DataApiError:
    """The service's answer to a request it cannot run as given."""
    return DataApiError("BadRequestException", message)


def resuming() -> DataApiError:
    """The answer of a cluster that is resuming after an auto-pause."""
    return DataApiError(
        "DatabaseResumingException",
        "The Aurora DB instance emulator is resuming after being auto-paused. "
        "Please wait a few seconds and try again.",
    )


def statement_timeout() -> DataApiError:
    """The answer to a statement stopped at its time-out."""
    return DataApiError("StatementTimeoutException", "Request timed out", dbConnectionId=0)


def database_error(error: pymysql.MySQLError) -> DataApiError:
    """The service's answer to a statement the database refused."""
    code, message = _error_code_and_message(error)
    # The service words database errors this way, with MySQL's own error code and message.
    return bad_request(f"Database error code: {code}. Message: {message}")


def _error_code_and_message(error: pymysql.MySQLError) -> tuple[int, str]:
    args = error.args
    if len(args) >= 2 and isinstance(args[0], int):
        return args[0], str(args[1])
    return 0, str(error)


@contextmanager
def database_errors() -> Iterator[None]:
    """Answer the driver's errors as the service does."""
    try:
        yield
    except pymysql.MySQLError as error:
        code, _ = _error_code_and_message(error)
        if isinstance(error, pymysql.InterfaceError) or code >= _FIRST_CLIENT_ERROR:
            logger.warning("Database unreachable: %s", error)
            raise bad_request(f"Communications link failure: {error}") from error
        raise database_error(error) from error


# --- requests -------------------------------------------------------------------------------------


def required_string(request: JsonObject, member: str) -> str:
    """The request's non-empty string `member`; refused if it is missing."""
    value = request.get(member)
    if not isinstance(value, str) or not value:
        raise bad_request(f"{member} is required")
    return value


def optional_string(request: JsonObject, member: str) -> str | None:
    """The request's string `member`, or None if it is not there."""
    value = request.get(member)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{member} must be a string")
    return value


# --- named parameters -----------------------------------------------------------------------------

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
            raise bad_request(f"Invalid typeHint {hint!r} for parameter {name}")
    except (ValueError, decimal.InvalidOperation):
        pass
    raise bad_request(f"Invalid {hint} value for parameter {name}: {text!r}")


def _parameter_value(name: str, value: object, hint: object) -> object:
    """The Python value PyMySQL should bind for one ``SqlParameter``."""
    if not isinstance(value, dict) or len(value) != 1:
        raise bad_request(f"Parameter {name} must have exactly one value")
    ((kind, raw),) = value.items()
    if hint is not None and kind not in ("stringValue", "isNull"):
        raise bad_request(f"typeHint {hint} needs a stringValue (parameter {name})")
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
        raise bad_request("Array parameters are not supported.")
    raise bad_request(f"Invalid value for parameter {name}")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is no number.


def bind(names: Sequence[str], parameters: object) -> tuple[object, ...]:
    """Values for the placeholders ``names``, from a request's list of ``SqlParameter``."""
    if parameters is None:
        parameters = []
    if not isinstance(parameters, list):
        raise bad_request("parameters must be a list")
    values: dict[str, object] = {}
    for parameter in parameters:
        if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
            raise bad_request("Every parameter needs a name")
        name = parameter["name"]
        if name in values:
            raise bad_request(f"Parameter {name} is given more than once")
        values[name] = _parameter_value(name, parameter.get("value"), parameter.get("typeHint"))
    used = set(names)
    for name in values:
        if name not in used:
            raise bad_request(f"Cannot find parameter: {name}")
    for name in names:
        if name not in values:
            raise bad_request(f"No value specified for parameter: {name}")
    return tuple(values[name] for name in names)


# --- results --------------------------------------------------------------------------------------


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
class ResultOptions:
    """How a request wants its result set: ``resultSetOptions``, ``formatRecordsAs`` and
    ``includeResultMetadata``."""

    decimal_as_number: bool = False
    long_as_string: bool = False
    as_json: bool = False
    with_metadata: bool = False

    @classmethod
    def of(cls, request: JsonObject) -> ResultOptions:
        options = request.get("resultSetOptions")
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise bad_request("resultSetOptions must be an object")
        return cls(
            decimal_as_number=options.get("decimalReturnType") == "DOUBLE_OR_LONG",
            long_as_string=options.get("longReturnType") == "STRING",
            as_json=request.get("formatRecordsAs", "NONE") == "JSON",
            with_metadata=bool(request.get("includeResultMetadata")),
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


def _field(value: object, column: _Column, options: ResultOptions) -> JsonObject:
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


def generated_fields(cursor: Any) -> list[JsonObject]:
    """The ``generatedFields`` of a write: the new AUTO_INCREMENT id, if any."""
    last_id = cursor.lastrowid
    return [{"longValue": last_id}] if last_id else []


def statement_result(cursor: Any, options: ResultOptions) -> JsonObject:
    """The answer to ``ExecuteStatement`` once ``cursor`` has run the statement."""
    if cursor.description is None:
        return {
            "numberOfRecordsUpdated": max(cursor.rowcount, 0),
            "generatedFields": generated_fields(cursor),
        }
    columns = _columns(cursor)
    rows = [
        [_field(value, column, options) for value, column in zip(row, columns, strict=True)]
        for row in cursor.fetchall()
    ]
    response: JsonObject = {"numberOfRecordsUpdated": 0}
    if options.as_json:
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
    if options.with_metadata:
        response["columnMetadata"] = [column.metadata() for column in columns]
    return response
