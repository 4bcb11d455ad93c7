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


# Lambda runs an asynchronously invoked function (CloudFormation invokes custom resources so) up
# to 3 times when it fails, 1 and then 2 minutes apart, unless the function says otherwise.
ASYNC_ATTEMPTS = 3
ASYNC_RETRY_DELAYS_S = 60 + 120
# CloudFormation's wait when a custom resource names no ServiceTimeout.
DEFAULT_SERVICE_TIMEOUT_S = 3600


def custom_resources() -> dict[str, dict[str, object]]:
    return {
        name: resource
        for name, resource in load_template()["Resources"].items()
        if resource["Type"].startswith("Custom::")
        or resource["Type"] == "AWS::CloudFormation::CustomResource"
    }


def test_custom_resources_wait_for_their_function_and_no_longer() -> None:
    resources = custom_resources()
    assert resources  # the check sees the migrations at least
    for name, resource in resources.items():
        properties = resource["Properties"]
        assert isinstance(properties, dict)
        token = properties["ServiceToken"]
        assert isinstance(token, Intrinsic) and token.tag == "GetAtt", name
        function = token.value.removesuffix(".Arn")
        every_attempt = ASYNC_ATTEMPTS * timeout_of(function) + ASYNC_RETRY_DELAYS_S
        timeout = properties.get("ServiceTimeout")
        assert timeout is not None, f"{name} would keep a deploy waiting an hour"
        # Long enough for every attempt that could still answer, and for nothing more.
        assert every_attempt < int(timeout) <= every_attempt + 300, name
        assert int(timeout) < DEFAULT_SERVICE_TIMEOUT_S
