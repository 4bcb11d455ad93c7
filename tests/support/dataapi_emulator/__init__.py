"""An emulator of Aurora's Data API (``rds-data``) that executes on a real MySQL or MariaDB.

Nothing public emulates the Data API without Docker, so tests and benchmarks use this: a small
HTTP server speaking the service's REST-JSON protocol, which boto3 reaches with
``boto3.client("rds-data", endpoint_url=emulator.endpoint_url)``. It implements
``ExecuteStatement`` (``POST /Execute``), ``BatchExecuteStatement`` (``POST /BatchExecute``) and
``Begin``/``Commit``/``RollbackTransaction``, answers like the service (shapes, error names and
HTTP statuses from botocore's service model), and can inject the faults an Aurora Serverless
cluster produces while it resumes (``DatabaseResumingException``, ``StatementTimeoutException``).

It is a test tool, kept with the tests so that no function ships it: it checks that
``resourceArn`` and ``secretArn`` are present but does not authenticate anyone, and it must never
face a network it does not trust.

Deliberate choices, where the service's behaviour is not documented:

- outside a transaction each statement autocommits, and so does each parameter set of a batch;
- a batch with no parameter sets runs nothing, as the service has been reported to do;
- ``BIT(1)`` columns come back as ``booleanValue``; ``TINYINT(1)`` stays a ``longValue``;
- a parameter that the SQL does not use is an error, like one that the SQL uses and nobody gave.

Run it on its own, from the project's root, with
``python -m tests.support.dataapi_emulator --mysql-url URL``. :mod:`.protocol` holds the
service's shapes over PyMySQL, :mod:`.server` the transactions, faults and HTTP.
"""

from tests.support.dataapi_emulator.protocol import DataApiError, translate_named_parameters
from tests.support.dataapi_emulator.server import (
    DEFAULT_TRANSACTION_TIMEOUT,
    MAX_RESPONSE_BYTES,
    DataApiEmulator,
)

__all__ = [
    "DEFAULT_TRANSACTION_TIMEOUT",
    "MAX_RESPONSE_BYTES",
    "DataApiEmulator",
    "DataApiError",
    "translate_named_parameters",
]
