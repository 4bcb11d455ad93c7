"""The composition root builds the AWS adapters from settings, and loads boto3 only then."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from filestore.adapters.s3 import S3BlobStore
from filestore.adapters.ses import SesEmailSender
from filestore.adapters.sns import SnsEventPublisher
from filestore.adapters.websocket import ApiGatewayRealtimeNotifier
from filestore.bootstrap import build
from filestore.settings import Settings


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")


def test_aws_adapters_from_settings() -> None:
    settings = Settings(
        blob_store="s3",
        bucket="files",
        events="sns",
        topic_arn="arn:aws:sns:eu-west-1:123456789012:events",
        email="ses",
        email_sender="Filestore <noreply@example.com>",
        ses_configuration_set="filestore-mail",
        realtime="apigateway",
        websocket_endpoint="wss://abc.execute-api.eu-west-1.amazonaws.com/prod",
        aws_region="eu-west-1",
        aws_endpoint_url="http://127.0.0.1:4566",
    )
    container = build(settings)
    blobs = container.blobs()
    assert isinstance(blobs, S3BlobStore) and blobs.bucket == "files"
    assert container.blobs() is blobs  # one per process
    assert blobs.presign_get("k", filename="x", expires_in=timedelta(minutes=1))
    assert isinstance(container.publisher(), SnsEventPublisher)
    email = container.email()
    assert isinstance(email, SesEmailSender) and email.configuration_set == "filestore-mail"
    realtime = container.realtime()
    assert isinstance(realtime, ApiGatewayRealtimeNotifier)
    # The stage URL, not the emulator's, is the management API's endpoint.
    assert realtime._api.meta.endpoint_url == "https://abc.execute-api.eu-west-1.amazonaws.com/prod"
    assert container.publisher()._sns.meta.endpoint_url == "http://127.0.0.1:4566"
    assert container.publisher()._sns.meta.region_name == "eu-west-1"


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        (Settings(blob_store="s3"), "FILESTORE_BUCKET"),
        (Settings(events="sns"), "FILESTORE_TOPIC_ARN"),
        (Settings(email="ses"), "FILESTORE_EMAIL_SENDER"),
        (Settings(realtime="apigateway"), "FILESTORE_WEBSOCKET_ENDPOINT"),
    ],
)
def test_missing_setting_is_named(settings: Settings, variable: str) -> None:
    container = build(settings)
    with pytest.raises(RuntimeError, match=variable):
        container.services()


def test_boto3_is_loaded_only_when_an_aws_adapter_is_built() -> None:
    code = (
        "import sys, filestore.bootstrap as b; b.build().services(); "
        "print('boto3' in sys.modules, 'botocore' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
