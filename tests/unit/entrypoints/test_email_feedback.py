"""The e-mail feedback consumer on SES's own records (tests/events/ses_*.json) inside SNS's
notification inside SQS records, and what it does to the e-mail consumer and GET /me."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from filestore.app import FileStore
from filestore.domain.commands import Actor
from filestore.domain.model import EmailStatus
from filestore.entrypoints import cognito, email_feedback, notifications
from filestore.entrypoints.aws_events import ses_feedback
from filestore.entrypoints.observability import logger, metrics
from filestore.entrypoints.runtime import runtime
from tests.support.lambda_events import (
    LambdaContext,
    load_event,
    ses_feedback_body,
    sns_body,
    sqs_event,
)
from tests.unit.entrypoints.conftest import ALICE, BOB
from tests.unit.entrypoints.test_consumers import stored_event
from tests.unit.entrypoints.test_triggers_and_schedules import emitted_metrics

ALICE_ACTOR, BOB_ACTOR = Actor(**ALICE), Actor(**BOB)
NO_FAILURES: dict[str, list[dict[str, str]]] = {"batchItemFailures": []}


@pytest.fixture(autouse=True)
def no_pending_metrics() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


@pytest.fixture
def log_output(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    return buffer


def status_of(store: FileStore, actor: Actor) -> EmailStatus:
    return runtime.run(store.me(actor)).email_status


def consume(*bodies: str) -> dict[str, list[dict[str, str]]]:
    result: dict[str, list[dict[str, str]]] = email_feedback.handler(
        sqs_event(*bodies), LambdaContext()
    )
    return result


# --- reading SES's records -----------------------------------------------------------------------


def test_the_documented_records_read_as_a_bounce_and_a_complaint() -> None:
    bounce = ses_feedback(load_event("ses_bounce"))
    assert bounce is not None
    assert (bounce.kind, bounce.status, bounce.recipients) == (
        "bounce",
        EmailStatus.BOUNCED,
        ("recipient@example.com",),
    )
    assert bounce.feedback_id == "0102019a3c5e7f90-4b8d2e6a-71c3-4f05-9a2d-6e8b0c4f1a37-000000"
    assert bounce.message_id.startswith("0102019a3c5e7a11-")
    assert bounce.detail == "Permanent/General"
    complaint = ses_feedback(load_event("ses_complaint"))
    assert complaint is not None
    assert (complaint.kind, complaint.status, complaint.detail) == (
        "complaint",
        EmailStatus.COMPLAINED,
        "abuse",
    )


def test_identity_notifications_read_the_same() -> None:
    # Feedback set on the identity instead of a configuration set names the kind otherwise.
    record = load_event("ses_bounce")
    record["notificationType"] = record.pop("eventType")
    feedback = ses_feedback(record)
    assert feedback is not None and feedback.status is EmailStatus.BOUNCED


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("ses_bounce", {"bounceType": "Transient", "bounceSubType": "MailboxFull"}),
        ("ses_bounce", {"bounceType": "Undetermined", "bounceSubType": "Undetermined"}),
        ("ses_complaint", {"complaintFeedbackType": "not-spam"}),
    ],
)
def test_what_says_nothing_lasting_about_the_address_marks_nothing(
    name: str, changes: dict[str, str]
) -> None:
    record = load_event(name)
    record["bounce" if name == "ses_bounce" else "complaint"].update(changes)
    feedback = ses_feedback(record)
    assert feedback is not None and feedback.status is None


def test_an_overlong_feedback_id_is_named_by_a_stable_id_that_fits() -> None:
    record = load_event("ses_bounce")
    record["bounce"]["feedbackId"] = "x" * 200
    first, again = ses_feedback(record), ses_feedback(record)
    assert first is not None and again is not None
    assert len(first.feedback_id) <= 64 and first.feedback_id == again.feedback_id


# --- the consumer ------------------------------------------------------------------------------


def test_a_permanent_bounce_marks_the_address_and_stops_its_mail(
    store: FileStore, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime.run(store.set_notify_email(ALICE_ACTOR, True))
    runtime.run(store.me(BOB_ACTOR))
    body = ses_feedback_body("ses_bounce", recipient="Alice@Example.com")
    assert consume(body) == NO_FAILURES
    assert emitted_metrics(capsys.readouterr().out).get("EmailAddressesBounced") == 1
    assert status_of(store, ALICE_ACTOR) is EmailStatus.BOUNCED
    assert status_of(store, BOB_ACTOR) is EmailStatus.OK

    # SQS delivers at least once: the same record again is acknowledged and changes nothing.
    runtime.run(store.set_notify_email(ALICE_ACTOR, False))
    runtime.run(store.me(Actor(ALICE_ACTOR.sub, "alice@example.org")))  # a new address
    assert consume(body) == NO_FAILURES
    assert status_of(store, Actor(ALICE_ACTOR.sub, "alice@example.org")) is EmailStatus.OK


def test_raw_message_delivery_is_read_too(store: FileStore) -> None:
    runtime.run(store.me(ALICE_ACTOR))
    record = load_event("ses_complaint")
    record["complaint"]["complainedRecipients"] = [{"emailAddress": ALICE["email"]}]
    assert consume(json.dumps(record)) == NO_FAILURES
    assert status_of(store, ALICE_ACTOR) is EmailStatus.COMPLAINED


def test_transient_bounces_and_other_events_are_acknowledged_and_change_nothing(
    store: FileStore, log_output: io.StringIO
) -> None:
    runtime.run(store.me(ALICE_ACTOR))
    transient = ses_feedback_body(
        "ses_bounce", recipient=ALICE["email"], bounceType="Transient", bounceSubType="General"
    )
    delivery = load_event("ses_bounce")
    delivery["eventType"] = "Delivery"
    del delivery["bounce"]
    delivery["delivery"] = {"recipients": [ALICE["email"]], "smtpResponse": "250 ok"}
    assert consume(transient, sns_body(json.dumps(delivery), attributes={})) == NO_FAILURES
    assert status_of(store, ALICE_ACTOR) is EmailStatus.OK
    acknowledged = [
        json.loads(line)["message"]
        for line in log_output.getvalue().splitlines()
        if "acknowledged without action" in line
    ]
    assert len(acknowledged) == 2
    assert "bounce (Transient/General)" in acknowledged[0]


def test_what_is_not_an_ses_record_fails_alone(store: FileStore) -> None:
    runtime.run(store.me(ALICE_ACTOR))
    no_recipients = json.loads(ses_feedback_body("ses_bounce"))
    record = json.loads(no_recipients["Message"])
    record["bounce"]["bouncedRecipients"] = []
    no_recipients["Message"] = json.dumps(record)
    no_bounce = load_event("ses_bounce")
    del no_bounce["bounce"]
    no_kind = load_event("ses_bounce")
    del no_kind["eventType"]
    good = ses_feedback_body("ses_bounce", recipient=ALICE["email"])
    bodies = [
        "not JSON",
        json.dumps(["a list"]),
        sns_body("not JSON either", attributes={}),
        json.dumps(no_recipients),
        sns_body(json.dumps(no_bounce), attributes={}),
        sns_body(json.dumps(no_kind), attributes={}),
        good,
    ]
    event = sqs_event(*bodies)
    result = email_feedback.handler(event, LambdaContext())
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert failed == {r["messageId"] for r in event["Records"][:-1]}
    assert status_of(store, ALICE_ACTOR) is EmailStatus.BOUNCED  # the good one went through


def test_the_email_consumer_skips_an_undeliverable_address_and_counts_it(
    store: FileStore, capsys: pytest.CaptureFixture[str]
) -> None:
    event = stored_event(store)  # Alice opted in, then stored a file
    assert consume(ses_feedback_body("ses_complaint", recipient=ALICE["email"])) == NO_FAILURES
    capsys.readouterr()
    body = sns_body(json.dumps(event.envelope()))
    assert notifications.email_handler(sqs_event(body), LambdaContext()) == NO_FAILURES
    assert store.memory_email.sent == []
    counted = emitted_metrics(capsys.readouterr().out)
    assert counted.get("EmailsSkippedUndeliverable") == 1
    assert "EmailsSent" not in counted

    # Turning notifications on again is a new opt-in: the next file's mail goes out.
    runtime.run(store.set_notify_email(ALICE_ACTOR, True))
    event = stored_event(store)
    body = sns_body(json.dumps(event.envelope()))
    assert notifications.email_handler(sqs_event(body), LambdaContext()) == NO_FAILURES
    assert [m.to for m in store.memory_email.sent] == [ALICE["email"]]
    assert emitted_metrics(capsys.readouterr().out).get("EmailsSent") == 1


# --- the Cognito trigger: a password reset proves the address receives mail -------------------


def test_a_password_reset_lifts_a_bounce(store: FileStore) -> None:
    event = load_event("cognito_post_confirmation")
    event["triggerSource"] = "PostConfirmation_ConfirmForgotPassword"
    actor = Actor(event["request"]["userAttributes"]["sub"], "alice@example.com")
    runtime.run(store.me(actor))
    assert consume(ses_feedback_body("ses_bounce", recipient=actor.email)) == NO_FAILURES
    assert status_of(store, actor) is EmailStatus.BOUNCED
    assert cognito.post_confirmation(event, LambdaContext()) == event
    assert status_of(store, actor) is EmailStatus.OK


def test_a_password_reset_does_not_lift_a_complaint(store: FileStore) -> None:
    event = load_event("cognito_post_confirmation")
    event["triggerSource"] = "PostConfirmation_ConfirmForgotPassword"
    actor = Actor(event["request"]["userAttributes"]["sub"], "alice@example.com")
    runtime.run(store.me(actor))
    assert consume(ses_feedback_body("ses_complaint", recipient=actor.email)) == NO_FAILURES
    assert cognito.post_confirmation(event, LambdaContext()) == event
    assert status_of(store, actor) is EmailStatus.COMPLAINED
