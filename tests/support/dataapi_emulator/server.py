"""The emulator itself: a pool of MySQL connections, the service's transactions and injected
faults, and the HTTP server that speaks the Data API's REST-JSON protocol to boto3."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import pymysql

from tests.support.dataapi_emulator.protocol import (
    DataApiError,
    JsonObject,
    ResultOptions,
    bad_request,
    bind,
    database_error,
    database_errors,
    generated_fields,
    optional_string,
    required_string,
    resuming,
    statement_result,
    statement_timeout,
    translate_named_parameters,
)
from tests.support.mysql_url import mysql_server

logger = logging.getLogger(__name__)

#: The service rolls back a transaction that no call has used for three minutes.
DEFAULT_TRANSACTION_TIMEOUT = 180.0
#: The service refuses to return more than 1 MiB of response data.
MAX_RESPONSE_BYTES = 1024 * 1024
#: What it answers then (a `BadRequestException`); a transaction the call was in is gone.
TOO_LARGE = "Database returned more than the allowed response size limit"

#: A database user name and password.
Login = tuple[str, str]
#: How the service reads a secret: its ARN in, the user name and password it holds out.
SecretReader = Callable[[str], Login]


# --- connections and transactions -----------------------------------------------------------------


@dataclass(eq=False)
class _Connection:
    """A PyMySQL connection, signed in as `login`."""

    raw: Any
    login: Login

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

    ``secrets`` reads a call's ``secretArn`` as the service does (e.g. from Secrets Manager on
    moto): each call then signs in as the user of its secret, so a user's privileges and a wrong
    password show as they would on Aurora. Without it, every call signs in as ``user``.

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
        secrets: SecretReader | None = None,
    ) -> None:
        self._login: Login = (user, password)
        self._secrets = secrets
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
        # Milliseconds added to every call (`sleep` waits them out), as the round trip to the
        # service costs them: about 100 at the median on Aurora Serverless v2, so a benchmark at
        # that latency shows what a number of calls costs.
        self.latency_ms = 0.0
        self.sleep: Callable[[float], None] = time.sleep
        # The calls answered, by operation.
        self.calls: dict[str, int] = {}
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
        self._release(self._connect(self._database, self._login))
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
                return resuming()
            if operation in _TIMEOUT_OPERATIONS and self._faults["StatementTimeoutException"]:
                self._faults["StatementTimeoutException"] -= 1
                return statement_timeout()
        return None

    # --- operations -----------------------------------------------------------------------------

    def handle(self, operation: str, request: JsonObject) -> JsonObject:
        """Answer one call of the Data API; raises :class:`DataApiError` as the service would."""
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
        if self.latency_ms > 0:
            # Before the work, so a slow call does not hold its transaction's locks any longer.
            self.sleep(self.latency_ms / 1000)
        for member in ("resourceArn", "secretArn"):
            required_string(request, member)
        if fault := self._take_fault(operation):
            raise fault
        if operation == "ExecuteStatement":
            return self._execute_statement(request)
        if operation == "BatchExecuteStatement":
            return self._batch_execute_statement(request)
        if operation == "BeginTransaction":
            return self._begin_transaction(request, self._read_secret(request))
        if operation == "CommitTransaction":
            return self._end_transaction(request, commit=True)
        if operation == "RollbackTransaction":
            return self._end_transaction(request, commit=False)
        raise DataApiError("UnknownOperationException", operation, HTTPStatus.NOT_FOUND)

    def _execute_statement(self, request: JsonObject) -> JsonObject:
        sql, names = translate_named_parameters(required_string(request, "sql"))
        args = bind(names, request.get("parameters"))
        options = ResultOptions.of(request)
        with self._connection_for(request) as connection, database_errors():
            cursor = connection.raw.cursor()
            try:
                cursor.execute(sql, args)
                response = statement_result(cursor, options)
                while cursor.nextset():  # Drain what a CALL may add, so the connection is reusable.
                    pass
            finally:
                cursor.close()
        if self._max_response_bytes is not None:
            # The service counts the result as the database sends it, which is less than
            # this JSON (a NULL is a byte there): measuring the JSON errs on the safe side.
            size = len(json.dumps(response, ensure_ascii=False).encode())
            if size > self._max_response_bytes:
                self._abandon(optional_string(request, "transactionId"))
                raise bad_request(TOO_LARGE)
        return response

    def _abandon(self, transaction_id: str | None) -> None:
        """Roll back and forget the transaction a refused call was in, as the service does
        (its next call answers that the transaction is not found)."""
        if not transaction_id:
            return
        with self._lock:
            transaction = self._transactions.pop(transaction_id, None)
        if transaction is not None:
            with transaction.lock:
                if not transaction.ended:
                    self._end(transaction, commit=False)

    def _batch_execute_statement(self, request: JsonObject) -> JsonObject:
        sql, names = translate_named_parameters(required_string(request, "sql"))
        parameter_sets = request.get("parameterSets") or []
        if not isinstance(parameter_sets, list):
            raise bad_request("parameterSets must be a list")
        bound = [bind(names, parameters) for parameters in parameter_sets]
        results: list[JsonObject] = []
        with self._connection_for(request) as connection, database_errors():
            cursor = connection.raw.cursor()
            try:
                for args in bound:
                    cursor.execute(sql, args)
                    results.append({"generatedFields": generated_fields(cursor)})
            finally:
                cursor.close()
        return {"updateResults": results}

    def _read_secret(self, request: JsonObject) -> Login:
        """Who the call signs in as: the user of its secret, or the emulator's own."""
        if self._secrets is None:
            return self._login
        secret_arn = required_string(request, "secretArn")
        try:
            return self._secrets(secret_arn)
        except Exception as error:
            raise bad_request(f"Error fetching secret {secret_arn} : {error}") from error

    def _begin_transaction(self, request: JsonObject, login: Login) -> JsonObject:
        connection = self._acquire(optional_string(request, "database") or self._database, login)
        try:
            with database_errors():
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
        transaction_id = required_string(request, "transactionId")
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
            raise database_error(error) from error
        self._release(connection)

    # --- connections ----------------------------------------------------------------------------

    @contextmanager
    def _connection_for(self, request: JsonObject) -> Iterator[_Connection]:
        transaction_id = optional_string(request, "transactionId")
        if transaction_id:
            # The transaction's own schema stands: the service ignores `database` here too.
            with self._transaction(transaction_id) as transaction:
                yield transaction.connection
        else:
            schema = optional_string(request, "database") or self._database
            with self._autocommit(schema, self._read_secret(request)) as c:
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
    def _autocommit(self, schema: str | None, login: Login) -> Iterator[_Connection]:
        connection = self._acquire(schema, login)
        try:
            yield connection
        except BaseException:
            # After a failure the session may be in any state (a half-read result, a lost
            # socket): a fresh connection is cheaper than finding out.
            connection.close()
            raise
        else:
            self._release(connection)

    def _acquire(self, schema: str | None, login: Login) -> _Connection:
        """An idle connection signed in as ``login``, or a new one, pointed at ``schema``."""
        with self._lock:
            if self._closed:
                raise DataApiError("ServiceUnavailableError", "", HTTPStatus.SERVICE_UNAVAILABLE)
            pooled = next((c for c in reversed(self._idle) if c.login == login), None)
            if pooled is not None:
                self._idle.remove(pooled)
        if pooled is not None:
            try:
                pooled.prepare(schema)
                return pooled
            except pymysql.MySQLError:
                # Most likely dropped while idle (wait_timeout, a server restart): a new
                # connection either works or fails with the error worth answering.
                pooled.close()
        with database_errors():
            return self._connect(schema, login)

    def _connect(self, schema: str | None, login: Login) -> _Connection:
        user, password = login
        raw = pymysql.connect(**{**self._connect_kwargs, "user": user, "password": password})
        connection = _Connection(raw, login)
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
    return bad_request(f"Transaction {transaction_id} is not found")


# --- HTTP -----------------------------------------------------------------------------------------


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
