"""Properties every resource of template.yaml must keep, whatever is added later.

The security scanners (`make scan`) check each resource against generic rules and accept a
reasoned suppression; these tests hold the template to the decisions behind those suppressions
(docs/deploy.md, "Security scanners"): every queue encrypted, every asynchronously invoked
function with a dead-letter queue, every dead-letter queue with an alarm, structured access logs
on both APIs, earlier versions of stored files kept and destroyed only by the bucket's lifecycle.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.template import Intrinsic, load_template

TEMPLATE = load_template()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]

# SAM event types whose source invokes the function asynchronously (Lambda's event queue).
ASYNC_EVENT_TYPES = {
    "Schedule",
    "ScheduleV2",
    "EventBridgeRule",
    "CloudWatchEvent",
    "S3",
    "SNS",
    "CloudWatchLogs",
    "IoTRule",
}
# ...and those whose source waits for the answer.
SYNC_EVENT_TYPES = {"Api", "HttpApi", "Cognito"}
# Services that wait for the answer of a function they may invoke (AWS::Lambda::Permission):
# API Gateway, Cognito's triggers, Secrets Manager's rotation.
SYNC_PRINCIPALS = {
    "apigateway.amazonaws.com",
    "cognito-idp.amazonaws.com",
    "secretsmanager.amazonaws.com",
}


def of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in RESOURCES.items() if r["Type"] == resource_type}


def properties(name: str) -> dict[str, Any]:
    props: dict[str, Any] = RESOURCES[name].get("Properties", {})
    return props


def intrinsics(node: Any) -> Iterator[Intrinsic]:
    """Every intrinsic function in `node`, however deep."""
    if isinstance(node, Intrinsic):
        yield node
        yield from intrinsics(node.value)
    elif isinstance(node, dict):
        for value in node.values():
            yield from intrinsics(value)
    elif isinstance(node, list):
        for value in node:
            yield from intrinsics(value)


def arn_of(node: Any) -> str | None:
    """The resource a `!GetAtt X.Arn` names, else None."""
    if isinstance(node, Intrinsic) and node.tag == "GetAtt" and node.value.endswith(".Arn"):
        name: str = node.value.removesuffix(".Arn")
        return name
    return None


def ref_of(node: Any) -> str | None:
    return node.value if isinstance(node, Intrinsic) and node.tag == "Ref" else None


def functions() -> dict[str, dict[str, Any]]:
    return of_type("AWS::Serverless::Function")


def invoked_asynchronously(name: str) -> bool:
    """How the function's callers invoke it; an unknown caller fails the test that asks."""
    event_types = {e["Type"] for e in properties(name).get("Events", {}).values()}
    custom_resource = any(
        arn_of(r.get("Properties", {}).get("ServiceToken")) == name
        for r in RESOURCES.values()
        if r["Type"].startswith("Custom::") or r["Type"] == "AWS::CloudFormation::CustomResource"
    )
    if event_types & ASYNC_EVENT_TYPES or custom_resource:
        return True
    synchronous_caller = any(
        ref_of(p["Properties"]["FunctionName"]) == name
        and p["Properties"]["Principal"] in SYNC_PRINCIPALS
        for p in of_type("AWS::Lambda::Permission").values()
    )
    queue_poller = any(
        ref_of(m["Properties"]["FunctionName"]) == name
        for m in of_type("AWS::Lambda::EventSourceMapping").values()
    )
    if event_types & SYNC_EVENT_TYPES or synchronous_caller or queue_poller:
        return False
    raise AssertionError(f"{name}: no known caller; is it invoked synchronously or not?")


def alarms_on(queue: str) -> list[dict[str, Any]]:
    """The alarms raised by any message in `queue`, sent to the alarm topic."""
    found = []
    for alarm in of_type("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        dimensions = props.get("Dimensions", [])
        if (
            props.get("Namespace") == "AWS/SQS"
            and props.get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and any(
                d["Name"] == "QueueName" and d["Value"] == Intrinsic("GetAtt", f"{queue}.QueueName")
                for d in dimensions
            )
            and props.get("Threshold") == 0
            and props.get("ComparisonOperator") == "GreaterThanThreshold"
            and Intrinsic("Ref", "AlarmTopic") in props.get("AlarmActions", [])
        ):
            found.append(alarm)
    return found


def test_every_queue_declares_its_encryption() -> None:
    queues = of_type("AWS::SQS::Queue")
    assert queues
    for name in queues:
        props = properties(name)
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, name


def test_only_the_alarm_and_email_feedback_topics_are_unencrypted() -> None:
    # CloudWatch and SES cannot publish to a topic under the AWS-managed SNS key; our functions
    # can, so every topic they publish to is encrypted.
    unencrypted = {n for n in of_type("AWS::SNS::Topic") if "KmsMasterKeyId" not in properties(n)}
    assert unencrypted == {"AlarmTopic", "EmailFeedbackTopic"}


def test_only_ses_publishes_to_the_email_feedback_topic_and_only_its_queue_hears_it() -> None:
    users = {
        owner
        for owner, resource in RESOURCES.items()
        for node in intrinsics(resource)
        if ref_of(node) == "EmailFeedbackTopic"
    }
    assert {RESOURCES[owner]["Type"] for owner in users} == {
        "AWS::SNS::TopicPolicy",
        "AWS::SES::ConfigurationSetEventDestination",
        "AWS::SNS::Subscription",
        "AWS::SQS::QueuePolicy",  # their condition: only this topic may send to the queues
    }
    # What SNS cannot deliver is kept in a dead-letter queue of the subscription's own.
    [subscription] = [o for o in users if RESOURCES[o]["Type"] == "AWS::SNS::Subscription"]
    redrive = arn_of(properties(subscription)["RedrivePolicy"]["deadLetterTargetArn"])
    assert redrive == "EmailFeedbackSubscriptionDeadLetterQueue"
    assert arn_of(properties(subscription)["Endpoint"]) == "EmailFeedbackQueue"
    assert redrive != arn_of(
        properties("EmailFeedbackQueue")["RedrivePolicy"]["deadLetterTargetArn"]
    )
    [policy] = [o for o in users if RESOURCES[o]["Type"] == "AWS::SNS::TopicPolicy"]
    [statement] = properties(policy)["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    # SES of this account, for this configuration set only (no confused deputy).
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": Intrinsic("Ref", "AWS::AccountId")
    }
    source = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert "configuration-set/${EmailConfigurationSet}" in source.value
    [destination] = [
        o for o in users if RESOURCES[o]["Type"] == "AWS::SES::ConfigurationSetEventDestination"
    ]
    events = properties(destination)["EventDestination"]
    assert ref_of(properties(destination)["ConfigurationSetName"]) == "EmailConfigurationSet"
    assert sorted(events["MatchingEventTypes"]) == ["bounce", "complaint"]
    # The e-mail function sends with that configuration set.
    variables = properties("EmailFunction")["Environment"]["Variables"]
    assert ref_of(variables["FILESTORE_SES_CONFIGURATION_SET"]) == "EmailConfigurationSet"


def test_only_cloudwatch_alarms_publish_to_the_alarm_topic() -> None:
    users = {
        owner
        for owner, resource in RESOURCES.items()
        for node in intrinsics(resource)
        if ref_of(node) == "AlarmTopic"
    }
    assert users
    for owner in users:
        assert RESOURCES[owner]["Type"] in {"AWS::CloudWatch::Alarm", "AWS::SNS::Subscription"}


def test_every_function_is_known_to_be_invoked_synchronously_or_not() -> None:
    asynchronous = {name for name in functions() if invoked_asynchronously(name)}
    assert asynchronous == {
        "RelayFunction",
        "SweepFunction",
        "MigrationsFunction",
        "WebPublisherFunction",
    }


@pytest.mark.parametrize("function", sorted(functions()))
def test_an_asynchronously_invoked_function_has_a_dead_letter_queue(function: str) -> None:
    dead_letters = properties(function).get("DeadLetterQueue")
    if not invoked_asynchronously(function):
        # A Lambda DLQ only ever sees asynchronous invocations; callers of the others get the
        # error, or their queue keeps the message.
        assert dead_letters is None, function
        return
    assert dead_letters is not None, f"{function} is invoked asynchronously: give it a DLQ"
    assert dead_letters["Type"] == "SQS"
    queue = arn_of(dead_letters["TargetArn"])
    assert queue is not None
    assert RESOURCES[queue]["Type"] == "AWS::SQS::Queue"


def dead_letter_queues() -> set[str]:
    redrive = {
        arn_of(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in of_type("AWS::SQS::Queue").values()
        if "RedrivePolicy" in q.get("Properties", {})
    }
    lambdas = {
        arn_of(f["Properties"]["DeadLetterQueue"]["TargetArn"])
        for f in functions().values()
        if "DeadLetterQueue" in f["Properties"]
    }
    subscriptions = {
        arn_of(s["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for s in of_type("AWS::SNS::Subscription").values()
        if "RedrivePolicy" in s["Properties"]
    }
    queues = redrive | lambdas | subscriptions
    assert None not in queues
    return {q for q in queues if q is not None}


def test_every_dead_letter_queue_raises_an_alarm() -> None:
    queues = dead_letter_queues()
    assert len(queues) == 11
    for queue in sorted(queues):
        assert alarms_on(queue), f"no alarm on {queue}"
        # Two weeks, SQS's longest, to look at a failure after the alarm.
        assert properties(queue)["MessageRetentionPeriod"] == 1_209_600


def test_both_apis_write_structured_access_logs_with_a_retention() -> None:
    apis = of_type("AWS::ApiGatewayV2::Api")
    assert {properties(a)["ProtocolType"] for a in apis} == {"HTTP", "WEBSOCKET"}
    for api in apis:
        stages = [
            name
            for name, stage in of_type("AWS::ApiGatewayV2::Stage").items()
            if ref_of(stage["Properties"]["ApiId"]) == api
        ]
        assert len(stages) == 1, api
        settings = properties(stages[0])["AccessLogSettings"]
        log_group = arn_of(settings["DestinationArn"])
        assert log_group is not None
        assert RESOURCES[log_group]["Type"] == "AWS::Logs::LogGroup"
        assert "RetentionInDays" in properties(log_group)
        # One JSON object per request; the context variables are the values.
        record = json.loads(settings["Format"])
        assert record["requestId"] == "$context.requestId"
        assert record["ip"] == "$context.identity.sourceIp"
        assert all(str(value).startswith("$context.") for value in record.values())


def test_every_log_group_has_a_retention() -> None:
    groups = of_type("AWS::Logs::LogGroup")
    assert len(groups) >= 12
    for name in groups:
        assert properties(name)["RetentionInDays"] == Intrinsic("Ref", "LogRetentionDays"), name


def test_stored_files_keep_their_earlier_bytes_for_a_while() -> None:
    bucket = properties("UploadsBucket")
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = bucket["LifecycleConfiguration"]["Rules"]
    expiring = [r for r in rules if "NoncurrentVersionExpiration" in r]
    assert len(expiring) == 1
    assert expiring[0]["Status"] == "Enabled"
    assert expiring[0]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": Intrinsic("Ref", "NoncurrentVersionDays")
    }
    # Access logs of the uploads bucket go to a bucket of their own.
    logging = bucket["LoggingConfiguration"]
    assert ref_of(logging["DestinationBucketName"]) == "AccessLogsBucket"


def granted_actions(node: Any) -> Iterator[str]:
    """Every action an `Allow` statement under `node` grants."""
    if isinstance(node, dict):
        if node.get("Effect") == "Allow" and "Action" in node:
            actions = node["Action"]
            yield from [actions] if isinstance(actions, str) else actions
        for value in node.values():
            yield from granted_actions(value)
    elif isinstance(node, list):
        for value in node:
            yield from granted_actions(value)


def test_only_the_lifecycle_destroys_stored_bytes() -> None:
    # Deleting an object leaves its bytes as a noncurrent version; deleting a version, or
    # suspending versioning, would not. No role of the stack may do either.
    granted = {
        action.lower()
        for name, resource in RESOURCES.items()
        if resource["Type"]
        in {"AWS::Serverless::Function", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role"}
        for action in granted_actions(resource.get("Properties", {}))
    }
    assert "s3:deleteobject" in granted  # the check sees the S3 grants
    assert not granted & {"s3:*", "*", "s3:deleteobjectversion", "s3:putbucketversioning"}
    assert not any(action.startswith("s3:delete") and "*" in action for action in granted)


def statements_of(function: str) -> list[dict[str, Any]]:
    """The IAM statements a function's role gets: its inline ones and its managed policies'."""
    statements: list[dict[str, Any]] = []
    for policy in properties(function).get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            statements += policy["Statement"]
        elif ref_of(policy) in RESOURCES:
            statements += properties(str(ref_of(policy)))["PolicyDocument"]["Statement"]
    return statements


def actions(statement: dict[str, Any]) -> set[str]:
    granted = statement["Action"]
    return {granted} if isinstance(granted, str) else set(granted)


UPLOADS_BUCKET = Intrinsic("Sub", "arn:${AWS::Partition}:s3:::${UploadsBucket}")
UPLOADS_KEYS = Intrinsic("Sub", "arn:${AWS::Partition}:s3:::${UploadsBucket}/u/*")


@pytest.mark.parametrize("function", sorted(functions()))
def test_a_function_that_reads_stored_files_can_tell_a_missing_one(function: str) -> None:
    # S3 answers a HEAD of a missing key with 404 only to a role that may list the bucket, for
    # that key's prefix; to any other it answers 403.
    allowed = [s for s in statements_of(function) if s["Effect"] == "Allow"]
    reads = any("s3:GetObject" in actions(s) and s["Resource"] == UPLOADS_KEYS for s in allowed)
    # (The web app's publisher lists its own bucket, which holds no stored file.)
    listings = [
        s for s in allowed if "s3:ListBucket" in actions(s) and s["Resource"] == UPLOADS_BUCKET
    ]
    if not reads:
        assert listings == [], f"{function} lists the bucket but reads nothing in it"
        return
    assert listings, f"{function} reads stored files: give it s3:ListBucket on the bucket"
    for listing in listings:
        assert actions(listing) == {"s3:ListBucket"}
        assert listing["Resource"] == UPLOADS_BUCKET
        # Only the uploads' keys: nothing else of the bucket may be listed.
        assert listing.get("Condition") == {"StringLike": {"s3:prefix": "u/*"}}, function


def test_the_functions_that_read_stored_files_are_known() -> None:
    readers = {
        f
        for f in functions()
        if any("s3:GetObject" in actions(s) for s in statements_of(f) if s["Effect"] == "Allow")
    }
    assert readers == {"HttpApiFunction", "S3EventsFunction", "SweepFunction"}


def test_browsers_may_read_the_headers_the_api_answers_with() -> None:
    from filestore.entrypoints.http_resolver import EXPOSED_HEADERS

    cors = properties("HttpApi")["CorsConfiguration"]
    exposed = {h.lower() for h in cors["ExposeHeaders"]}
    # 503s carry Retry-After, 401s WWW-Authenticate; API Gateway answers CORS itself on AWS.
    assert exposed == {"retry-after", "www-authenticate"}
    assert exposed == {h.lower() for h in EXPOSED_HEADERS}


def test_only_the_function_that_posts_to_connections_may_manage_them() -> None:
    # The realtime consumer posts (and learns a connection is gone); the WebSocket function
    # answers a ping as its route response, and the sweep forgets stale connections in the
    # database: neither calls the management API.
    holders = {
        f
        for f in functions()
        if any(
            "execute-api:ManageConnections" in actions(s)
            for s in statements_of(f)
            if s["Effect"] == "Allow"
        )
    }
    assert holders == {"RealtimeFunction"}


def test_what_sns_cannot_deliver_to_a_queue_is_kept_and_may_be_sent_there() -> None:
    subscriptions = {
        name: properties(name)
        for name, subscription in of_type("AWS::SNS::Subscription").items()
        if subscription["Properties"]["Protocol"] == "sqs"
    }
    assert len(subscriptions) >= 2
    dead_letters = set()
    for name, subscription in subscriptions.items():
        redrive = subscription.get("RedrivePolicy")
        assert redrive is not None, f"{name}: SNS drops what it cannot deliver without one"
        queue = arn_of(redrive["deadLetterTargetArn"])
        assert queue is not None and RESOURCES[queue]["Type"] == "AWS::SQS::Queue", name
        # Its own: the messages go back to the one consumer queue they were meant for.
        assert queue not in dead_letters, name
        dead_letters.add(queue)
        # SNS may send there, for this topic only (SSE-SQS: SNS can write without a key grant).
        topic = subscription["TopicArn"]
        allowed = [
            statement
            for policy in of_type("AWS::SQS::QueuePolicy").values()
            if Intrinsic("Ref", queue) in policy["Properties"]["Queues"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Allow"
            and statement["Principal"] == {"Service": "sns.amazonaws.com"}
            and statement["Action"] == "sqs:SendMessage"
        ]
        assert allowed, f"{name}: SNS may not send to {queue}"
        for statement in allowed:
            assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": topic}}
        assert properties(queue)["SqsManagedSseEnabled"] is True


def test_the_relay_and_the_sweep_wake_the_database_together() -> None:
    # Each run reads the database, waking a paused Aurora for at least its auto-pause delay:
    # on one schedule they wake it once. rate() counts from each rule's creation, so two rate()
    # schedules would fire at different minutes; a cron expression names the minute.
    schedules = {
        function: [
            event["Properties"]["Schedule"]
            for event in properties(function).get("Events", {}).values()
            if event["Type"] == "Schedule"
        ]
        for function in ("RelayFunction", "SweepFunction")
    }
    assert schedules["RelayFunction"] == schedules["SweepFunction"]
    [schedule] = schedules["RelayFunction"]
    parameter = TEMPLATE["Parameters"][str(ref_of(schedule))]
    assert str(parameter["Default"]).startswith("cron(")
    assert re.fullmatch(parameter["AllowedPattern"], "cron(0 * * * ? *)")
    assert not re.fullmatch(parameter["AllowedPattern"], "rate(1 hour)")


def test_the_engine_version_is_a_parameter_that_can_pause_and_serve_the_data_api() -> None:
    cluster = properties("DatabaseCluster")
    parameter = TEMPLATE["Parameters"][str(ref_of(cluster["EngineVersion"]))]
    pattern = parameter["AllowedPattern"]
    assert re.fullmatch(pattern, parameter["Default"])
    # Pausing at 0 ACU (MinCapacity 0) needs 3.08; the Data API 3.07.
    assert cluster["ServerlessV2ScalingConfiguration"]["MinCapacity"] == 0
    for version in (
        "8.0.mysql_aurora.3.08.0",
        "8.0.mysql_aurora.3.10.3",
        "8.0.mysql_aurora.3.12.1",
    ):
        assert re.fullmatch(pattern, version), version
    for version in (
        "8.0.mysql_aurora.3.07.1",
        "8.0.mysql_aurora.3.04.3",
        "5.7.mysql_aurora.2.12.0",
    ):
        assert not re.fullmatch(pattern, version), version


def test_a_new_email_address_is_used_only_once_verified() -> None:
    """An unverified address in a token would get mail at once and lift a bounce recorded
    against the old one (email_status resets when the token's address changes)."""
    (pool,) = of_type("AWS::Cognito::UserPool")
    settings = properties(pool)["UserAttributeUpdateSettings"]
    assert settings["AttributesRequireVerificationBeforeUpdate"] == ["email"]
