"""Time budgets that template.yaml and the code must agree on.

Aurora Serverless v2 answers `DatabaseResumingException` for tens of seconds after an
auto-pause; the Data API adapter waits that out within `FILESTORE_DATAAPI_RETRY_SECONDS`
(20 s by default, fitted to the HTTP API's 30 s). The migrations custom resource runs at deploy
time, when the cluster may well be paused, with a 300 s time-out meant to give it room.
"""

from __future__ import annotations

from filestore.entrypoints.migrations import RESPONSE_RESERVE_MS
from filestore.settings import Settings
from tests.support.template import Intrinsic, function_environment, load_template


def settings_of(function: str) -> Settings:
    """The settings a function builds from its template environment (literals only)."""
    literal = {
        name.removeprefix("FILESTORE_").lower(): value
        for name, value in function_environment(function).items()
        if name.startswith("FILESTORE_") and not isinstance(value, Intrinsic)
    }
    return Settings(**literal)


def timeout_of(function: str) -> float:
    template = load_template()
    properties = template["Resources"][function]["Properties"]
    return float(properties.get("Timeout", template["Globals"]["Function"]["Timeout"]))


def test_the_migrations_wait_for_a_resume_longer_than_an_http_request_can() -> None:
    http_budget = Settings.model_fields["dataapi_retry_seconds"].default
    budget = settings_of("MigrationsFunction").dataapi_retry_seconds
    # A resume that outlasts the HTTP path's budget must not fail a deploy...
    assert budget > 2 * http_budget
    # ...and the wait must end in time to run the DDL and answer CloudFormation.
    assert budget <= timeout_of("MigrationsFunction") - RESPONSE_RESERVE_MS / 1000 - 30
