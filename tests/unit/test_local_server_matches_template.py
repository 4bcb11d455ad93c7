"""`filestore serve` plays what template.yaml deploys: the routes API Gateway lets through without
the JWT authorizer, and the events each consumer queue's subscription lets through.

The package does not ship the template, so the local server keeps its own copy of these facts
(`gateway.PUBLIC_ROUTES`, `emulator.QUEUES`); these tests read the template and fail when the two
drift apart, whichever side changed.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import pytest

from filestore.adapters.local import emulator
from filestore.entrypoints.local import gateway
from tests.support.template import Intrinsic, load_template

HTTP_API = Intrinsic("Ref", "HttpApi")
EVENTS_TOPIC = Intrinsic("Ref", "EventsTopic")


def _resources(kind: str) -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = load_template()["Resources"]
    return {name: r.get("Properties", {}) for name, r in resources.items() if r["Type"] == kind}


def http_routes() -> dict[tuple[str, str], bool]:
    """Every route of the HTTP API: (method, path) → whether it goes without an authorizer."""
    routes = {}
    for properties in _resources("AWS::ApiGatewayV2::Route").values():
        if properties["ApiId"] != HTTP_API:
            continue
        method, path = properties["RouteKey"].split(" ", 1)
        routes[(method, path)] = properties.get("AuthorizationType", "NONE") == "NONE"
    return routes


def consumer_queues() -> dict[str, dict[str, Any]]:
    """The template's queues that a function consumes: those an event source mapping reads (not
    the dead-letter queues of queues or of asynchronously invoked functions)."""
    queues = _resources("AWS::SQS::Queue")
    consumed = {
        mapping["EventSourceArn"].value.removesuffix(".Arn")
        for mapping in _resources("AWS::Lambda::EventSourceMapping").values()
    }
    assert consumed <= set(queues)
    return {name: q for name, q in queues.items() if name in consumed}


def filters_by_queue() -> dict[str, list[str] | None]:
    """Each consumer queue → the event types its subscription to the events topic lets through
    (None: the queue is not subscribed)."""
    filters: dict[str, list[str] | None] = dict.fromkeys(consumer_queues())
    for subscription in _resources("AWS::SNS::Subscription").values():
        if subscription["TopicArn"] != EVENTS_TOPIC or subscription["Protocol"] != "sqs":
            continue
        queue = subscription["Endpoint"].value.removesuffix(".Arn")
        assert subscription["FilterPolicyScope"] == "MessageAttributes"
        assert set(subscription["FilterPolicy"]) == {"type"}
        filters[queue] = subscription["FilterPolicy"]["type"]
    return filters


def template_name(local_queue: str) -> str:
    """The template's logical id of a local queue: `s3-events` → `S3EventsQueue`."""
    return "".join(part.capitalize() for part in local_queue.split("-")) + "Queue"


def test_the_public_routes_are_the_templates_routes_without_authorizer() -> None:
    public = {route for route, without_authorizer in http_routes().items() if without_authorizer}
    assert public  # the template still has some: the comparison below is not of two empty sets
    assert set(gateway.PUBLIC_ROUTES) == public


@pytest.mark.parametrize(("route", "public"), sorted(http_routes().items()))
def test_each_route_of_the_template_is_authorized_locally_as_on_aws(
    route: tuple[str, str], public: bool
) -> None:
    method, path = route
    concrete = re.sub(r"\{[^}]+\}", "abc123", path)  # a request API Gateway routes there
    assert gateway.is_public(method, concrete) is public


def test_each_local_queue_lets_through_what_its_template_subscription_does() -> None:
    local = {template_name(name): types for name, types in emulator.QUEUES.items()}
    assert local == filters_by_queue()


def test_the_local_redrive_policy_is_the_templates() -> None:
    for name in (template_name(queue) for queue in emulator.QUEUES):
        redrive = consumer_queues()[name]["RedrivePolicy"]
        assert int(redrive["maxReceiveCount"]) == emulator.MAX_RECEIVE_COUNT, name


def test_the_local_feedback_queue_hears_all_of_the_topic_ses_publishes_to() -> None:
    resources = load_template()["Resources"]
    [destination] = _resources("AWS::SES::ConfigurationSetEventDestination").values()
    topic = destination["EventDestination"]["SnsDestination"]["TopicARN"]
    [subscription] = [
        s for s in _resources("AWS::SNS::Subscription").values() if s["TopicArn"] == topic
    ]
    queue = subscription["Endpoint"].value.removesuffix(".Arn")
    assert queue == template_name(emulator.FEEDBACK_QUEUE)
    assert resources[queue]["Type"] == "AWS::SQS::Queue"
    # As the local subscription is made: raw delivery off, no filter.
    assert subscription["RawMessageDelivery"] is False
    assert "FilterPolicy" not in subscription


@pytest.mark.parametrize("kind", ["bounce", "complaint"])
def test_the_local_feedback_reads_as_what_ses_publishes(
    kind: Literal["bounce", "complaint"],
) -> None:
    from filestore.entrypoints.aws_events import ses_feedback
    from tests.support.lambda_events import load_event

    record = emulator.ses_feedback_record("alice@example.com", kind)
    documented = load_event(f"ses_{kind}")
    # The fields SES writes (and the consumer reads) are there, named as SES names them.
    assert set(record) == set(documented)
    assert set(record[kind]) <= set(documented[kind])
    assert set(record["mail"]) <= set(documented["mail"])
    feedback = ses_feedback(record)
    assert feedback is not None
    assert (feedback.kind, feedback.recipients) == (kind, ("alice@example.com",))
    assert feedback.status is not None
    transient = emulator.ses_feedback_record("alice@example.com", "bounce", bounce_type="Transient")
    feedback = ses_feedback(transient)
    assert feedback is not None and feedback.status is None
